// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Every non-attention GPU op vs the CPU backend at ViT-B/16 shapes (batch 8 x 197 tokens, width 768, MLP 3072) and at
// the token counts of issue #8 (197, 577, 2880, 16384) for the token-reduction kernels. F16 is tried for GEMM, the
// norms and softmax: a NotSupportedException/ArgumentException there is reported as "not_supported", not a failure.
namespace HpcCore.GpuBenchmarks.Validate;

using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.TokenReduction;

/// <summary>The non-attention validation cases.</summary>
public static class OpCases
{
    /// <summary>The cases at <paramref name="scale"/>.</summary>
    public static IEnumerable<ValidateCase> All(ValidateScale scale)
    {
        bool smoke = scale == ValidateScale.Small;
        int images = scale == ValidateScale.Full ? 8 : 1;
        int rows = smoke ? 33 : images * 197, c = smoke ? 24 : 768, hidden = smoke ? 40 : 3072, qkv = smoke ? 72 : 2304;
        foreach (string dt in new[] { "f32", "f16" })
        {
            yield return Gemm(rows, c, qkv, false, dt);
            yield return Gemm(rows, hidden, c, true, dt);
            yield return Case("layernorm", $"{rows}x{c}", dt, s =>
            {
                var x = s.F(Inputs.Uniform(rows * c, 11, dt, -3f, 3f), new Shape(rows, c), dt);
                var g = s.F(Inputs.Uniform(c, 12, dt), new Shape(c), dt);
                var beta = s.F(Inputs.Uniform(c, 13, dt), new Shape(c), dt);
                var d = s.Poison(x.Shape, x.DType);
                Norms.LayerNorm(x, g, beta, d, 1e-6f);
                return [s.Floats("out", d)];
            });
            yield return Case("rmsnorm", $"{rows}x{c}", dt, s =>
            {
                var x = s.F(Inputs.Uniform(rows * c, 14, dt, -3f, 3f), new Shape(rows, c), dt);
                var g = s.F(Inputs.Uniform(c, 15, dt), new Shape(c), dt);
                var d = s.Poison(x.Shape, x.DType);
                Norms.RmsNorm(x, g, d);
                return [s.Floats("out", d)];
            });
            int srows = smoke ? 2 * 2 * 9 : images * 12 * 197, scols = smoke ? 9 : 197;
            yield return Case("softmax", $"{srows}x{scols}", dt, s =>
            {
                var x = s.F(Inputs.Uniform((long)srows * scols, 16, dt, -8f, 8f), new Shape(srows, scols), dt);
                var d = s.Poison(x.Shape, x.DType);
                Softmax.Forward(x, d);
                return [s.Floats("out", d)];
            });
        }
        yield return Case("gelu", $"{rows}x{hidden}", "f32", s =>
        {
            var x = s.F(Inputs.Uniform((long)rows * hidden, 17, "f32", -4f, 4f), new Shape(rows, hidden));
            var d = s.Poison(x.Shape, DType.F32);
            Activations.Gelu(x, d);
            return [s.Floats("out", d)];
        });
        yield return Case("add", $"{rows}x{c}", "f32", s =>
        {
            var x = s.F(Inputs.Uniform(rows * c, 18), new Shape(rows, c));
            var y = s.F(Inputs.Uniform(rows * c, 19), new Shape(rows, c));
            var d = s.Poison(x.Shape, DType.F32);
            Elementwise.Add(x, y, d);
            return [s.Bits("out", d)];
        });
        yield return Case("swiglu", $"{rows}x{hidden}", "f32", s =>
        {
            var g = s.F(Inputs.Uniform((long)rows * hidden, 20, "f32", -4f, 4f), new Shape(rows, hidden));
            var u = s.F(Inputs.Uniform((long)rows * hidden, 21), new Shape(rows, hidden));
            var d = s.Poison(g.Shape, DType.F32);
            Activations.SwiGlu(g, u, d);
            return [s.Floats("out", d)];
        });
        yield return Case("argmax", $"{rows}x{c}", "f32", s =>
        {
            var x = s.F(Inputs.Ties(rows * c, 22), new Shape(rows, c));
            var d = s.Poison(new Shape(rows), DType.I32);
            Reductions.Argmax(x, d);
            return [s.Ints("index", d)];
        });
        yield return Case("convert/f32-to-f16", $"{rows}x{c}", "f32", s =>
        {
            var x = s.F(Inputs.Uniform(rows * c, 23, "f32", -70000f, 70000f), new Shape(rows, c));
            var d = s.Poison(x.Shape, DType.F16);
            Cast.To(x, d);
            return [s.Bits("out", d)];
        });
        yield return Case("embedding", $"{rows}x{c}", "f32", s =>
        {
            int vocab = smoke ? 50 : 1000;
            var table = s.F(Inputs.Uniform((long)vocab * c, 24), new Shape(vocab, c));
            var ids = s.I(Inputs.Ints(rows, 25, 0, vocab), new Shape(rows));
            var d = s.Poison(new Shape(rows, c), DType.F32);
            Embedding.Gather(table, ids, d);
            return [s.Bits("out", d)];
        });
        int[] tokens = scale switch
        {
            ValidateScale.Small => [9, 33],
            ValidateScale.Medium => [197, 577, 2880],
            _ => [197, 577, 2880, 16384],
        };
        foreach (int n in tokens)
            foreach (var tc in Selection(n, smoke)) yield return tc;
    }

    private static IEnumerable<ValidateCase> Selection(int n, bool smoke)
    {
        int b = n <= 577 ? (smoke ? 2 : 8) : 1, c = smoke ? 16 : 64, width = smoke ? 24 : 768, k = Math.Max(1, n / 4);
        string key = $"B{b}xN{n}";
        yield return Case("topk", $"{key}xk{k}", "f32", s =>
        {
            var x = s.F(Inputs.Ties((long)b * n, 30), new Shape(b, n));
            var vals = s.Poison(new Shape(b, k), DType.F32);
            var idx = s.Poison(new Shape(b, k), DType.I32);
            TopK.Select(x, k, vals, idx);
            return [s.Bits("values", vals), s.Ints("indices", idx)];
        });
        yield return Case("argsort", key, "f32", s =>
        {
            var x = s.F(Inputs.Ties((long)b * n, 31), new Shape(b, n));
            var idx = s.Poison(new Shape(b, n), DType.I32);
            TopK.Argsort(x, idx, descending: false);
            return [s.Ints("indices", idx)];
        });
        yield return Case("sort-indices", key, "i32", s =>
        {
            var x = s.I(Inputs.Ints((long)b * n, 32, -1, n), new Shape(b, n));
            var d = s.Poison(new Shape(b, n), DType.I32);
            HpcCore.Ops.Selection.SortAscending(x, d);
            return [s.Ints("sorted", d)];
        });
        yield return Case("threshold-compact", key, "f32", s =>
        {
            var x = s.F(Inputs.Ties((long)b * n, 33), new Shape(b, n));
            var mask = s.Own(HpcCore.Ops.Selection.Threshold(x, 0.25f));
            var (i, cnt) = HpcCore.Ops.Selection.Compact(mask);
            s.Own(i);
            s.Own(cnt);
            return [s.Ints("indices", i), s.Ints("counts", cnt)];
        });
        yield return Case("gather-rows", $"{key}xC{width}xK{k}", "f32", s =>
        {
            var x = s.F(Inputs.Uniform((long)b * n * width, 34), new Shape(b, n, width));
            var idx = s.I(Inputs.Distinct(b, k, n, 35), new Shape(b, k));
            var d = s.Poison(new Shape(b, k, width), DType.F32);
            Gather.Rows(x, idx, d);
            return [s.Bits("out", d)];
        });
        yield return Case("scatter-mean", $"{key}xC{width}", "f32", s =>
        {
            int m = n - k;
            var dst = s.F(Inputs.Uniform((long)b * m * width, 36), new Shape(b, m, width));
            var src = s.F(Inputs.Uniform((long)b * n * width, 37), new Shape(b, n, width));
            var idx = s.I(Inputs.Ints((long)b * n, 38, -1, m), new Shape(b, n));
            Scatter.Reduce(dst, idx, src, ScatterMode.Mean);
            return [s.Floats("out", dst)];
        });
        int na = (n + 1) / 2, nb = n / 2;
        yield return Case("cosine", $"B{b}x{na}x{nb}xC{c}", "f32", s =>
        {
            var a = s.F(Inputs.Uniform((long)b * na * c, 39), new Shape(b, na, c));
            var bb = s.F(Inputs.Uniform((long)b * nb * c, 40), new Shape(b, nb, c));
            var d = s.Poison(new Shape(b, na, nb), DType.F32);
            Similarity.Cosine(a, bb, d);
            return [s.Floats("out", d)];
        });
        yield return Case("bestmatch", $"B{b}x{na}x{nb}xC{c}", "f32", s =>
        {
            var a = s.F(Inputs.Uniform((long)b * na * c, 41), new Shape(b, na, c));
            var bb = s.F(Inputs.Uniform((long)b * nb * c, 42), new Shape(b, nb, c));
            var max = s.Poison(new Shape(b, na), DType.F32);
            var arg = s.Poison(new Shape(b, na), DType.I32);
            Similarity.BestMatch(a, bb, max, arg, excludeLeadingColumns: 1);
            return [s.Floats("max", max), s.Ints("argmax", arg)];
        });
        yield return Case("rowmax", key, "f32", s =>
        {
            var x = s.F(Inputs.Ties((long)b * n, 43), new Shape(b, n));
            var max = s.Poison(new Shape(b), DType.F32);
            var arg = s.Poison(new Shape(b), DType.I32);
            Similarity.RowMax(x, max, arg);
            return [s.Bits("max", max), s.Ints("argmax", arg)];
        });
        yield return Case("tome-plan-merge", $"{key}xd{c}xC{width}", "f32", s =>
        {
            // ToMe r = 16 (ViT-B/16 setting) with a class token: plan on the key metric, then the size-weighted merge.
            var metric = s.F(Inputs.Uniform((long)b * n * c, 44), new Shape(b, n, c));
            var x = s.F(Inputs.Uniform((long)b * n * width, 45), new Shape(b, n, width));
            using var plan = ToMe.Plan(metric, smoke ? 2 : 16, new ToMeOptions(ClassToken: true));
            var (mx, size) = ToMe.Merge(plan, x, null);
            s.Own(mx);
            s.Own(size);
            return [s.Ints("token_map", plan.TokenMap), s.Ints("sources", plan.Sources), s.Ints("destinations", plan.Destinations),
                s.Floats("merged", mx), s.Floats("size", size)];
        });
        if (n > 2880) yield break; // the quadratic graph ops stop at 2880 tokens
        yield return Case("pagerank", $"B{b}xH2xN{n}", "f32", s =>
        {
            var t = s.F(Inputs.Uniform((long)b * 2 * n * n, 46, "f32", 0f, 2f / n), new Shape(b, 2, n, n));
            return [s.Floats("rank", s.Own(Graph.PageRank(t, 10)))];
        });
        yield return Case("farthest-point", $"{key}xC{c}", "f32", s =>
        {
            var f = s.F(Inputs.Uniform((long)b * n * c, 47), new Shape(b, n, c));
            return [s.Ints("picks", s.Own(Greedy.FarthestPoint(f, Math.Min(k, 64))))];
        });
        yield return Case("coverage", key, "f32", s =>
        {
            var sim = s.F(Inputs.Ties((long)b * n * n, 48), new Shape(b, n, n));
            return [s.Ints("picks", s.Own(Greedy.Coverage(sim, Math.Min(k, 64))))];
        });
        yield return Case("sum-axis", $"{key}xC{width}", "f32", s =>
        {
            var x = s.F(Inputs.Uniform((long)b * n * width, 49), new Shape(b, n, width));
            return [s.Floats("out", s.Own(Reductions.Sum(x, 1)))];
        });
    }

    private static ValidateCase Gemm(int m, int k, int n, bool transB, string dt) =>
        Case(transB ? "gemm/nt-bias" : "gemm/nn", $"{m}x{k}x{n}", dt, s =>
        {
            var a = s.F(Inputs.Uniform((long)m * k, 1, dt), new Shape(m, k), dt);
            var b = s.F(Inputs.Uniform((long)k * n, 2, dt), transB ? new Shape(n, k) : new Shape(k, n), dt);
            var bias = s.F(Inputs.Uniform(n, 3, dt), new Shape(n), dt);
            var d = s.Poison(new Shape(m, n), a.DType);
            HpcCore.Ops.Gemm.Multiply(a, b, d, new GemmOptions(TransposeB: transB, Bias: transB ? bias : null));
            return [s.Floats("out", d)];
        });

    private static ValidateCase Case(string op, string shape, string dt, Func<Scope, CaseOutput[]> body) =>
        new(op, shape, dt, backend =>
        {
            using var s = new Scope(backend);
            return body(s);
        });
}
