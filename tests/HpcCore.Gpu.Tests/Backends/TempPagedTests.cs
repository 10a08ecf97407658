// TEMPORARY plain-loop checks of the paged kernels; deleted once PagedAttentionConformance is bound.
namespace HpcCore.Gpu.Tests;

using HpcCore.Devices;
using HpcCore.Kernels;
using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.Testing;

[Collection(IlgpuCpuGroup.Name)]
public sealed class TempPagedTests(IlgpuCpuFixture fixture)
{
    public sealed record Case(int B, int Tq, int H, int Hkv, int D, int P, int MaxBlocks, int[] Lengths)
    {
        public DType PageType { get; init; } = DType.F32;
        public int MaxSel { get; init; }
        public bool Comp { get; init; }
        public bool Rope { get; init; }
        public RopeLayout Layout { get; init; }
        public int Rotary { get; init; }
        public bool Exports { get; init; }
        public int WindowFrom { get; init; }
        public int ExtraExport { get; init; }
        public bool BadIds { get; init; }
    }

    public static TheoryData<string> Names => new("plain", "gqa-f16", "bf16-sel", "comp", "rope-i", "rope-h", "all", "tq>len", "bad");

    private static Case Get(string name) => name switch
    {
        "plain" => new Case(2, 1, 2, 2, 8, 4, 5, [7, 13, 1, 0]) { Exports = true },
        "gqa-f16" => new Case(1, 3, 4, 2, 8, 4, 4, [9, 14]) { PageType = DType.F16, Exports = true, WindowFrom = 1 },
        "bf16-sel" => new Case(2, 2, 2, 1, 8, 3, 6, [16, 11]) { PageType = DType.BF16, MaxSel = 9, Exports = true },
        "comp" => new Case(2, 2, 4, 2, 8, 4, 3, [5, 0, 9, 3]) { Comp = true, Exports = true },
        "rope-i" => new Case(1, 3, 2, 2, 12, 4, 4, [10, 16]) { Rope = true, Rotary = 8, Exports = true, ExtraExport = 3 },
        "rope-h" => new Case(1, 2, 2, 1, 8, 5, 4, [17]) { Rope = true, Layout = RopeLayout.HalfSplit, MaxSel = 6 },
        "all" => new Case(2, 4, 4, 2, 16, 4, 10, [37, 20, 9, 40]) { PageType = DType.BF16, MaxSel = 25, Comp = true, Rope = true, Rotary = 10, Exports = true, WindowFrom = 2 },
        "tq>len" => new Case(1, 5, 2, 2, 8, 4, 2, [3, 0]) { Exports = true, Comp = true },
        "bad" => new Case(1, 2, 2, 2, 8, 4, 3, [9, 7]) { Exports = true, BadIds = true },
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void Matches(string name)
    {
        var c = Get(name);
        var gpu = Run(c, fixture.Backend);
        var again = Run(c, fixture.Backend);
        Assert.Equal(gpu.Out, again.Out);
        Assert.Equal(gpu.Totals, again.Totals);
        Assert.Equal(gpu.Probs, again.Probs);
        var r = Reference(c);
        TensorAssert.Close(r.Out, gpu.Out, Tolerance.GpuF32.ForDot(64), name + " out");
        if (c.Exports)
        {
            TensorAssert.Close(r.Totals, gpu.Totals, Tolerance.GpuF32.ForDot(64), name + " totals");
            TensorAssert.Close(r.Window, gpu.Window, Tolerance.GpuF32.ForDot(64), name + " window");
            TensorAssert.Close(r.Probs, gpu.Probs, Tolerance.GpuF32.ForDot(64), name + " probs");
        }
    }

    [Theory]
    [InlineData(DType.F32, DType.F16)]
    [InlineData(DType.F32, DType.BF16)]
    [InlineData(DType.F16, DType.F32)]
    [InlineData(DType.BF16, DType.BF16)]
    [InlineData(DType.F32, DType.F32)]
    [InlineData(DType.BF16, DType.F16)]
    public void KvRows_RoundTrip(DType rowType, DType pageType)
    {
        const int pages = 3, p = 4, d = 5, n = 7;
        var data = TestData.Uniform(n * d, 3, -3f, 3f);
        var slots = new[] { 11, 0, 5, 3, 7, 9, 2 };
        var be = fixture.Backend;
        using var rows32 = Tensor.From<float>(data, new Shape(n, d), be);
        using var rows = rowType == DType.F32 ? Cast.To(rows32, DType.F32) : Cast.To(rows32, rowType);
        using var pool = Tensor.Zeros(new Shape(pages, p, d), pageType, be);
        using var s = Tensor.From<int>(slots, new Shape(n), be);
        KvPages.Write(rows, pool, s);
        using var back = Tensor.Zeros(new Shape(n, d), DType.F32, be);
        KvPages.Read(pool, s, back);
        using var pool32 = Cast.To(pool, DType.F32);
        be.Synchronize();
        var got = back.ToArray<float>();
        var pg = pool32.ToArray<float>();
        for (int i = 0; i < n; i++)
            for (int c = 0; c < d; c++)
            {
                float expect = Round(Round(data[i * d + c], rowType), pageType);
                Assert.Equal(expect, got[i * d + c]);
                Assert.Equal(expect, pg[slots[i] * d + c]);
            }
    }

    private static float Round(float x, DType t) => t switch
    {
        DType.F16 => (float)(Half)x,
        DType.BF16 => BitConverter.Int32BitsToSingle((int)((uint)((BitConverter.SingleToUInt32Bits(x) + 0x7FFFu + ((BitConverter.SingleToUInt32Bits(x) >> 16) & 1)) >> 16) << 16)),
        _ => x,
    };

    private sealed record Inputs(float[] Q, float[] K, float[] V, int[] Tables, int[] Sel, int[] Counts, float[] CK, float[] CV, float[] CB, int NPages, int E);

    private static Inputs Make(Case c)
    {
        int heads = c.B * c.Hkv;
        int npages = heads * c.MaxBlocks + 2;
        var rng = new Random(5);
        var perm = Enumerable.Range(0, npages).OrderBy(_ => rng.Next()).ToArray();
        var tables = new int[heads * c.MaxBlocks];
        for (int i = 0; i < tables.Length; i++) tables[i] = perm[i];
        if (c.BadIds) { tables[1] = npages + 5; tables[c.MaxBlocks + 0] = -3; }
        var k = TestData.Uniform(npages * c.P * c.D, 11, -1.5f, 1.5f).Select(x => Round(x, c.PageType)).ToArray();
        var v = TestData.Uniform(npages * c.P * c.D, 12).Select(x => Round(x, c.PageType)).ToArray();
        var q = TestData.Uniform(c.B * c.Tq * c.H * c.D, 13, -1.5f, 1.5f);
        var sel = new int[heads * Math.Max(1, c.MaxSel)];
        var counts = new int[heads];
        if (c.MaxSel > 0)
            for (int i = 0; i < heads; i++)
            {
                int len = c.Lengths[i];
                var chosen = Enumerable.Range(0, len).Where(_ => rng.NextDouble() < 0.6).Take(c.MaxSel).ToArray();
                counts[i] = chosen.Length;
                chosen.CopyTo(sel, i * c.MaxSel);
                if (c.BadIds && chosen.Length > 0) sel[i * c.MaxSel] = -1;
            }
        var ck = TestData.Uniform(heads * c.D, 14);
        var cv = TestData.Uniform(heads * c.D, 15);
        var cb = Enumerable.Range(0, heads).Select(i => i % 3 == 1 ? float.NegativeInfinity : MathF.Log(2 + i)).ToArray();
        int e = c.Lengths.Max() + c.ExtraExport;
        return new Inputs(q, k, v, tables, sel, counts, ck, cv, cb, npages, e);
    }

    private sealed record Result(float[] Out, float[] Totals, float[] Window, float[] Probs);

    private static Result Run(Case c, IlgpuBackend be)
    {
        var x = Make(c);
        int heads = c.B * c.Hkv;
        using var q = Tensor.From<float>(x.Q, new Shape(c.B, c.Tq, c.H, c.D), be);
        using var k32 = Tensor.From<float>(x.K, new Shape(x.NPages, c.P, c.D), be);
        using var v32 = Tensor.From<float>(x.V, new Shape(x.NPages, c.P, c.D), be);
        using var k = Cast.To(k32, c.PageType);
        using var v = Cast.To(v32, c.PageType);
        using var tables = Tensor.From<int>(x.Tables, new Shape(c.B, c.Hkv, c.MaxBlocks), be);
        using var lengths = Tensor.From<int>(c.Lengths, new Shape(c.B, c.Hkv), be);
        using var sel = c.MaxSel > 0 ? Tensor.From<int>(x.Sel, new Shape(c.B, c.Hkv, c.MaxSel), be) : null;
        using var counts = c.MaxSel > 0 ? Tensor.From<int>(x.Counts, new Shape(c.B, c.Hkv), be) : null;
        using var ck = c.Comp ? Tensor.From<float>(x.CK, new Shape(c.B, c.Hkv, c.D), be) : null;
        using var cv = c.Comp ? Tensor.From<float>(x.CV, new Shape(c.B, c.Hkv, c.D), be) : null;
        using var cb = c.Comp ? Tensor.From<float>(x.CB, new Shape(c.B, c.Hkv), be) : null;
        using var totals = c.Exports ? Tensor.From<float>(Enumerable.Repeat(float.NaN, c.B * c.H * x.E).ToArray(), new Shape(c.B, c.H, x.E), be) : null;
        using var window = c.Exports ? Tensor.From<float>(Enumerable.Repeat(float.NaN, c.B * c.H * x.E).ToArray(), new Shape(c.B, c.H, x.E), be) : null;
        using var probs = c.Exports ? Tensor.From<float>(Enumerable.Repeat(float.NaN, c.B * c.Tq * c.H * x.E).ToArray(), new Shape(c.B, c.Tq, c.H, x.E), be) : null;
        using var dest = Tensor.From<float>(Enumerable.Repeat(float.NaN, c.B * c.Tq * c.H * c.D).ToArray(), new Shape(c.B, c.Tq, c.H, c.D), be);
        var options = new PagedAttentionOptions(SelectedKeys: sel, SelectedCounts: counts, CompensationKeys: ck, CompensationValues: cv,
            CompensationBias: cb, RenumberPositions: c.Rope, Rope: new RopeOptions(Layout: c.Layout, RotaryDim: c.Rotary),
            KeyTotals: totals, WindowTotals: window, WindowFromRow: c.WindowFrom, Probabilities: probs);
        PagedAttention.Forward(q, new PagedKv(k, v, tables, lengths), dest, options);
        be.Synchronize();
        return new Result(dest.ToArray<float>(), totals?.ToArray<float>() ?? [], window?.ToArray<float>() ?? [], probs?.ToArray<float>() ?? []);
    }

    private sealed record Ref(double[] Out, double[] Totals, double[] Window, double[] Probs);

    private static Ref Reference(Case c)
    {
        var x = Make(c);
        int d = c.D, e = x.E, cap = c.MaxBlocks * c.P;
        var outp = new double[c.B * c.Tq * c.H * d];
        var totals = new double[c.B * c.H * e];
        var window = new double[c.B * c.H * e];
        var probs = new double[c.B * c.Tq * c.H * e];
        int rot = c.Rotary == 0 ? d : c.Rotary;
        double scale = 1.0 / Math.Sqrt(d);
        for (int b = 0; b < c.B; b++)
        for (int h = 0; h < c.H; h++)
        {
            int g = h / (c.H / c.Hkv), bg = b * c.Hkv + g;
            int len = c.Lengths[bg];
            for (int t = 0; t < c.Tq; t++)
            {
                int limit = Math.Clamp(len - c.Tq + t + 1, 0, len);
                var list = new List<int>();
                if (c.MaxSel > 0) { for (int j = 0; j < x.Counts[bg] && x.Sel[bg * c.MaxSel + j] < limit; j++) list.Add(x.Sel[bg * c.MaxSel + j]); }
                else for (int j = 0; j < limit; j++) list.Add(j);
                int n = list.Count;
                var qr = new double[d];
                int qb = ((b * c.Tq + t) * c.H + h) * d;
                for (int i = 0; i < d; i++) qr[i] = x.Q[qb + i];
                if (c.Rope) Rotate(qr, n - 1, rot, c.Layout);
                var s = new List<double>();
                var valid = new List<bool>();
                for (int j = 0; j < n; j++)
                {
                    int tok = list[j];
                    int page = tok >= 0 && tok < len ? x.Tables[bg * c.MaxBlocks + tok / c.P] : -1;
                    bool ok = page >= 0 && page < x.NPages;
                    valid.Add(ok);
                    if (!ok) { s.Add(double.NegativeInfinity); continue; }
                    var kr = new double[d];
                    for (int i = 0; i < d; i++) kr[i] = x.K[(page * c.P + tok % c.P) * d + i];
                    if (c.Rope) Rotate(kr, j, rot, c.Layout);
                    double dot = 0;
                    for (int i = 0; i < d; i++) dot += qr[i] * kr[i];
                    s.Add(dot * scale);
                }
                bool comp = c.Comp && !float.IsNegativeInfinity(x.CB[bg]);
                if (comp)
                {
                    double dot = 0;
                    for (int i = 0; i < d; i++) dot += qr[i] * x.CK[bg * d + i];
                    s.Add(dot * scale + x.CB[bg]);
                }
                double m = s.Count == 0 ? double.NegativeInfinity : s.Max();
                if (double.IsNegativeInfinity(m)) continue;
                var pr = s.Select(v => Math.Exp(v - m)).ToArray();
                double l = pr.Sum();
                for (int j = 0; j < pr.Length; j++) pr[j] /= l;
                for (int i = 0; i < d; i++)
                {
                    double acc = 0;
                    for (int j = 0; j < n; j++)
                    {
                        if (!valid[j]) continue;
                        int tok = list[j];
                        int page = x.Tables[bg * c.MaxBlocks + tok / c.P];
                        acc += pr[j] * x.V[(page * c.P + tok % c.P) * d + i];
                    }
                    if (comp) acc += pr[n] * x.CV[bg * d + i];
                    outp[qb + i] = acc;
                }
                for (int j = 0; j < n; j++)
                {
                    if (!valid[j] || list[j] >= e) continue;
                    totals[(b * c.H + h) * e + list[j]] += pr[j];
                    if (t >= c.WindowFrom) window[(b * c.H + h) * e + list[j]] += pr[j];
                    probs[((b * c.Tq + t) * c.H + h) * e + list[j]] = pr[j];
                }
            }
        }
        _ = cap;
        return new Ref(outp, totals, window, probs);
    }

    private static void Rotate(double[] x, int pos, int rot, RopeLayout layout)
    {
        for (int i = 0; i < rot / 2; i++)
        {
            double f = Math.Pow(10000.0, -2.0 * i / rot), a = pos * f, co = Math.Cos(a), si = Math.Sin(a);
            int i0 = layout == RopeLayout.HalfSplit ? i : 2 * i, i1 = layout == RopeLayout.HalfSplit ? i + rot / 2 : 2 * i + 1;
            double x0 = x[i0], x1 = x[i1];
            x[i0] = x0 * co - x1 * si;
            x[i1] = x0 * si + x1 * co;
        }
    }
}
