// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Old main (loaded from --old) against this tree's decoder and KV cache, interleaved in one process (issue #15):
//   1. stories260K greedy decode tokens/s (256 tokens from "Once upon a time", one thread), texts compared;
//   2. paged decode attention, 32 query heads / 8 kv heads / D = 128, 64-token pages, 1k and 4k context, full attention,
//      one query, on one and two threads;
//   3. with --vit-b, the plain ViT-B/16 forward at batch 1 (issue #18), on the same thread counts;
//   4. with --prefill, the fused prefill attention on the four `bench quick attention` shapes (issue #18), same threads;
//   5. with --gemm, GEMM over pre-packed weights at a batch-1 ViT-B layer's token counts (M 21-197, N 3072, K 768), the
//      weights read from memory (24 matrices in turn, 226 MB), same threads.
// Rounds alternate the order (old-new, new-old, ...). One JSON line per measurement; ratio = old time / new time
// (> 1: the new code is faster). Run through tools/bench/lm/old_vs_new.sh.
using System.Diagnostics;
using System.Globalization;
using HpcCore.Cpu;
using HpcCore.Models.KvCache;
using HpcCore.Models.Lm;
using HpcCore.Models.Lm.Loading;
using HpcCore.Models.Vit;
using HpcCore.Ops;
using HpcCore.Tensors;

namespace HpcCore.Tools.OldVsNew;

internal static class Program
{
    private const string Prompt = "Once upon a time";

    private static string s_policy = "full";
    private static int s_budget = 64;

    private static int Main(string[] args)
    {
        string? old = null, model = null;
        int rounds = 7, lmReps = 5, steps = 256;
        var contexts = new List<int>();
        var threadCounts = new List<int>();
        bool skipLm = false, skipAttention = false, vitBase = false, vitTome = false, prefill = false, gemm = false;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--old": old = Next(); break;
                case "--model": model = Next(); break;
                case "--rounds": rounds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--lm-reps": lmReps = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--steps": steps = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--context": contexts.Add(int.Parse(Next(), CultureInfo.InvariantCulture)); break;
                case "--threads": threadCounts.Add(int.Parse(Next(), CultureInfo.InvariantCulture)); break;
                case "--skip-lm": skipLm = true; break;
                case "--policy": s_policy = Next(); break;
                case "--budget": s_budget = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--skip-attention": skipAttention = true; break;
                case "--vit-b": vitBase = true; break;
                case "--vit-b-tome": vitTome = true; break;
                case "--prefill": prefill = true; break;
                case "--gemm": gemm = true; break;
                default:
                    Console.Error.WriteLine("usage: OldVsNew --old <old build folder> [--model <stories260K folder>] [--rounds N] [--lm-reps N] " +
                                            "[--steps N] [--context T]... [--threads N]... [--skip-lm] [--skip-attention] [--vit-b] [--vit-b-tome] [--prefill] [--gemm]");
                    return 2;
            }
        }
        if (old is null)
        {
            Console.Error.WriteLine("--old <folder holding the old HpcCore.dll and HpcCore.Models.dll> is required");
            return 2;
        }
        if (rounds < 1) throw new ArgumentOutOfRangeException(nameof(args), "--rounds must be positive");
        if (contexts.Count == 0) contexts.AddRange([1024, 4096]);
        if (threadCounts.Count == 0) threadCounts.AddRange([1, 2]);

        var api = new OldApi(old);
        Console.Error.WriteLine($"old: {api.Describe()}");
        Console.Error.WriteLine($"new: {typeof(CpuBackend).Assembly.Location}");
        Console.Error.WriteLine($"cpu: {CpuModel()}; DOTNET_TieredCompilation={Environment.GetEnvironmentVariable("DOTNET_TieredCompilation") ?? "(unset)"}");

        int rc = 0;
        if (!skipLm)
        {
            var dir = model ?? FindStories();
            if (dir is null || !File.Exists(Path.Combine(dir, "stories260K.bin")))
            {
                Console.WriteLine("{\"bench\":\"decode-lm\",\"skipped\":\"stories260K not found (--model, HPCCORE_STORIES260K or ../shared/models/stories260K)\"}");
            }
            else if (!Stories(api, dir, rounds, lmReps, steps))
            {
                rc = 1;
            }
        }
        if (!skipAttention)
            foreach (int context in contexts)
                foreach (int threads in threadCounts)
                    Attention(api, context, threads, rounds);
        if (vitBase)
            foreach (int threads in threadCounts)
                VitBase(api, threads, rounds, method: null);
        if (vitTome)
            foreach (int threads in threadCounts)
                VitBase(api, threads, rounds, method: "tome:r=16");
        if (prefill)
            foreach (var shape in PrefillShapes)
                foreach (int threads in threadCounts)
                    Prefill(api, shape, threads, rounds);
        if (gemm)
            foreach (int threads in threadCounts)
                foreach (int m in new[] { 21, 53, 101, 197 })
                    PackedGemm(api, m, threads, rounds);
        return rc;
    }

    // GEMM over pre-packed weights, [M, 768] x [3072, 768]^T, cycling through 24 weight matrices (226 MB, past the
    // last-level cache) so that every call reads its weights from memory, as a batch-1 ViT-B layer does.
    private static void PackedGemm(OldApi api, int m, int threads, int rounds)
    {
        const int n = 3072, k = 768, matrices = 24;
        var rng = new Random(1);
        float[] Uniform(int count)
        {
            var x = new float[count];
            for (int i = 0; i < count; i++) x[i] = (float)(rng.NextDouble() - 0.5);
            return x;
        }
        var weights = Enumerable.Range(0, matrices).Select(_ => Uniform(n * k)).ToArray();
        var x = Uniform(m * k);
        using var oldGemm = new OldGemm(api, threads, m, n, k, weights, x);
        using var backend = new CpuBackend(threads);
        var packed = weights.Select(w =>
        {
            using var wt = Tensor.From<float>(w, new Shape(n, k), backend);
            return Gemm.Pack(wt, transposeB: true);
        }).ToArray();
        using var xt = Tensor.From<float>(x, new Shape(m, k), backend);
        using var yt = Tensor.Empty(new Shape(m, n), DType.F32, backend);
        int next = 0;
        void OldCall() => oldGemm.Run();
        void NewCall()
        {
            Gemm.Multiply(xt, packed[next], yt);
            next = (next + 1) % matrices;
        }

        for (int i = 0; i < 2 * matrices; i++) { OldCall(); NewCall(); }
        var oldOut = oldGemm.Output();
        var newOut = yt.ToArray<float>();
        float maxDiff = 0;
        for (int i = 0; i < newOut.Length; i++) maxDiff = Math.Max(maxDiff, Math.Abs(oldOut[i] - newOut[i]));
        double once = Math.Max(TimeCalls(OldCall, matrices).Wall, TimeCalls(NewCall, matrices).Wall);
        int calls = Math.Clamp((int)(50_000 / once), matrices, 5_000);
        var (olds, news) = Interleave(() => TimeCalls(OldCall, calls), () => TimeCalls(NewCall, calls), rounds);
        double flops = 2.0 * m * n * k;
        PrintKernel([("bench", "gemm-packed-from-memory"), ("m", m), ("n", n), ("k", k), ("threads", threads), ("rounds", rounds),
            ("calls_per_round", calls)], flops, olds, news, maxDiff);
        foreach (var p in packed) p.Dispose();
    }

    // The shapes of `bench quick attention` (QuickAttention.Shapes): (B, H, T, D, causal).
    private static readonly (int B, int H, int T, int D, bool Causal)[] PrefillShapes =
        [(1, 12, 1024, 64, false), (1, 12, 197, 64, false), (8, 12, 197, 64, false), (1, 32, 2048, 64, true)];

    // The fused prefill attention, Q = K = V length T, same inputs both sides; ~100 ms of calls per block.
    private static void Prefill(OldApi api, (int B, int H, int T, int D, bool Causal) shape, int threads, int rounds)
    {
        var (b, h, t, d, causal) = shape;
        int n = b * t * h * d;
        var rng = new Random(1);
        float[] Uniform()
        {
            var x = new float[n];
            for (int i = 0; i < n; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
            return x;
        }
        float[] q = Uniform(), k = Uniform(), v = Uniform();
        using var oldPrefill = new OldPrefill(api, threads, [b, t, h, d], causal, q, k, v);
        using var backend = new CpuBackend(threads);
        using var tq = Tensor.From<float>(q, new Shape(b, t, h, d), backend);
        using var tk = Tensor.From<float>(k, new Shape(b, t, h, d), backend);
        using var tv = Tensor.From<float>(v, new Shape(b, t, h, d), backend);
        using var to = Tensor.Empty(new Shape(b, t, h, d), DType.F32, backend);
        var options = new AttentionOptions(Causal: causal);
        void OldCall() => oldPrefill.Run();
        void NewCall() => HpcCore.Ops.Attention.Forward(tq, tk, tv, to, options);

        for (int i = 0; i < 3; i++) { OldCall(); NewCall(); }
        double once = Math.Max(TimeCalls(OldCall, 3).Wall, TimeCalls(NewCall, 3).Wall);
        int calls = Math.Clamp((int)(100_000 / once), 3, 5_000);
        var oldOut = oldPrefill.Output();
        var newOut = to.ToArray<float>();
        float maxDiff = 0;
        for (int i = 0; i < n; i++) maxDiff = Math.Max(maxDiff, Math.Abs(oldOut[i] - newOut[i]));

        var (olds, news) = Interleave(() => TimeCalls(OldCall, calls), () => TimeCalls(NewCall, calls), rounds);
        double flops = 4.0 * b * h * t * t * d / (causal ? 2 : 1);
        PrintKernel([("bench", "prefill-attention"), ("shape", $"B{b}xH{h}xT{t}xD{d}{(causal ? "-causal" : "")}"), ("threads", threads),
            ("rounds", rounds), ("calls_per_round", calls)], flops, olds, news, maxDiff);
    }

    // One JSON line for a kernel timed both ways: the given fields, each side's GFLOP/s at its median time, the time
    // statistics and ratios, the largest output difference and the CPU.
    private static void PrintKernel((string, object)[] head, double flops, List<Sample> olds, List<Sample> news, float maxDiff)
    {
        List<double> oldUs = [.. olds.Select(x => x.Wall)], newUs = [.. news.Select(x => x.Wall)];
        var fields = new List<(string, object)>(head)
        {
            ("old_gflops", flops / Stats.Of(oldUs).Median / 1e3),
            ("new_gflops", flops / Stats.Of(newUs).Median / 1e3),
        };
        fields.AddRange(Fields("us", oldUs, newUs, higherIsBetter: false));
        fields.Add(("max_abs_diff", maxDiff));
        fields.Add(("cpu", CpuModel()));
        Console.WriteLine(Json([.. fields]));
    }

    // The ViT-B/16 forward at batch 1, plain (issue #18: "the plain ViT-B forward at batch 1 improves over today's
    // main") or with a token-reduction method (ToMe r=16: its gain rests on the small-M GEMMs of its later blocks);
    // random weights, seed 0, the same on both sides.
    private static void VitBase(OldApi api, int threads, int rounds, string? method)
    {
        using var oldVit = new OldVit(api, "Base", batch: 1, threads, seed: 0, method);
        using var backend = new CpuBackend(threads);
        using var weights = VitWeightsLoader.Random(VitConfig.Base, backend, seed: 0);
        var reducer = method is null ? null : VitReducers.Create(VitMethodSpec.Parse(method), VitConfig.Base);
        using var disposeReducer = reducer as IDisposable;
        using var session = new VitSession(weights, 1, reducer);
        var c = VitConfig.Base;
        var rng = new Random(4);
        var pixels = new float[c.Channels * c.ImageSize * c.ImageSize];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (float)(rng.NextDouble() * 2 - 1);
        void OldCall() => oldVit.Forward(pixels);
        void NewCall() => session.Forward(pixels);
        for (int i = 0; i < 2; i++) { OldCall(); NewCall(); }
        var oldLogits = oldVit.Logits();
        var newLogits = session.Forward(pixels).ToArray<float>();
        float maxDiff = 0, scale = 0;
        for (int i = 0; i < newLogits.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs(oldLogits[i] - newLogits[i]));
            scale = Math.Max(scale, Math.Abs(newLogits[i]));
        }
        var (olds, news) = Interleave(() => TimeCalls(OldCall, 3), () => TimeCalls(NewCall, 3), rounds);
        var fields = new List<(string, object)> { ("bench", method is null ? "vit-b-plain" : "vit-b-" + method), ("batch", 1), ("threads", threads), ("rounds", rounds), ("calls_per_round", 3) };
        fields.AddRange(Fields("us", olds.Select(x => x.Wall).ToList(), news.Select(x => x.Wall).ToList(), higherIsBetter: false));
        if (threads == 1)
            fields.AddRange(Fields("cpu_us", olds.Select(x => x.Cpu).ToList(), news.Select(x => x.Cpu).ToList(), higherIsBetter: false));
        fields.Add(("max_abs_diff", maxDiff));
        fields.Add(("max_abs_logit", scale));
        fields.Add(("cpu", CpuModel()));
        Console.WriteLine(Json([.. fields]));
    }

    // stories260K greedy decode on one thread; a round's sample is tokens / decode seconds over lmReps generations.
    private static bool Stories(OldApi api, string dir, int rounds, int reps, int steps)
    {
        string modelPath = Path.Combine(dir, "stories260K.bin"), tokPath = Path.Combine(dir, "tok512.bin");
        using var oldLm = new OldLm(api, modelPath, tokPath, threads: 1, s_policy, s_budget);
        using var cpu = new CpuBackend(threads: 1);
        var (config, weights, tok) = LmModelFiles.Load(modelPath, tokPath, cpu);
        using var _ = weights;
        // The same policy on both sides; TokenSelect with original positions, the old behaviour.
        var kv = KvPolicyRegistry.Create(s_policy, new KvPolicySettings { Budget = s_budget, Positions = s_policy == "tokenselect" ? KvPositionMode.Original : null });
        using var decoder = new LmDecoder(config, weights, cpu, new LmDecoderOptions(Policy: kv));

        string oldText = "", newText = "";
        int oldTokens = 0, newTokens = 0;
        // Wall: tokens / decode seconds as LmGeneration reports them. CPU: tokens / this thread's CPU seconds over the
        // whole Generate calls (the 5-token prefill and the tokenizer included, alike on both sides).
        Sample OldBlock()
        {
            double tokens = 0, seconds = 0, cpu0 = ThreadClock.Seconds();
            for (int r = 0; r < reps; r++)
            {
                var g = oldLm.Generate(Prompt, steps);
                (oldText, oldTokens) = (g.Text, g.Tokens);
                tokens += g.Tokens;
                seconds += g.Tokens / g.TokensPerSecond;
            }
            return new Sample(tokens / seconds, tokens / (ThreadClock.Seconds() - cpu0));
        }
        Sample NewBlock()
        {
            double tokens = 0, seconds = 0, cpu0 = ThreadClock.Seconds();
            for (int r = 0; r < reps; r++)
            {
                var g = LmGenerator.Generate(decoder, tok, Prompt, steps);
                (newText, newTokens) = (g.Text, g.GeneratedTokens.Length);
                tokens += g.GeneratedTokens.Length;
                seconds += g.DecodeSeconds;
            }
            return new Sample(tokens / seconds, tokens / (ThreadClock.Seconds() - cpu0));
        }
        OldBlock(); // warm-up (with tiered compilation off, the first call compiles everything at full optimisation)
        NewBlock();
        var (olds, news) = Interleave(OldBlock, NewBlock, rounds);
        bool identical = string.Equals(oldText, newText, StringComparison.Ordinal);
        // Rates: ratio = new tok/s / old tok/s = old time / new time.
        Console.WriteLine(Json([
            ("bench", "decode-lm"), ("model", "stories260K"), ("policy", s_policy), ("budget", s_budget), ("threads", 1), ("tokens_old", oldTokens), ("tokens_new", newTokens),
            ("rounds", rounds), ("generations_per_round", reps),
            .. Fields("tok_s", olds.Select(x => x.Wall).ToList(), news.Select(x => x.Wall).ToList(), higherIsBetter: true),
            .. Fields("tok_per_cpu_s", olds.Select(x => x.Cpu).ToList(), news.Select(x => x.Cpu).ToList(), higherIsBetter: true),
            ("text_identical", identical), ("cpu", CpuModel())]));
        if (!identical)
        {
            Console.Error.WriteLine($"old text: {oldText}");
            Console.Error.WriteLine($"new text: {newText}");
        }
        return identical;
    }

    // old_<name>, new_<name> (medians), their min / max / IQR, ratio (old time / new time, > 1: new faster, from the
    // medians) and ratio_paired (median over rounds of the same ratio within one round).
    private static (string, object)[] Fields(string name, List<double> olds, List<double> news, bool higherIsBetter)
    {
        var o = Stats.Of(olds);
        var n = Stats.Of(news);
        string suffix = name == "tok_s" || name == "us" ? "" : "_" + name;
        return [
            ("old_" + name, o.Median), ("old" + suffix + "_min", o.Min), ("old" + suffix + "_max", o.Max), ("old" + suffix + "_iqr", o.Iqr),
            ("new_" + name, n.Median), ("new" + suffix + "_min", n.Min), ("new" + suffix + "_max", n.Max), ("new" + suffix + "_iqr", n.Iqr),
            ("ratio" + suffix, higherIsBetter ? n.Median / o.Median : o.Median / n.Median),
            ("ratio" + suffix + "_paired", higherIsBetter ? Stats.PairedMedian(news, olds) : Stats.PairedMedian(olds, news))];
    }

    // One decode query over `context` cached tokens per kv head, full attention; same keys, values and query both sides.
    private static void Attention(OldApi api, int context, int threads, int rounds)
    {
        const int heads = 32, kvHeads = 8, d = 128, pageTokens = 64;
        var rng = new Random(1);
        var k = new float[context * kvHeads * d];
        var v = new float[context * kvHeads * d];
        for (int i = 0; i < k.Length; i++) { k[i] = (float)(rng.NextDouble() * 2 - 1); v[i] = (float)(rng.NextDouble() * 2 - 1); }
        var q = new float[heads * d];
        var qrng = new Random(2);
        for (int i = 0; i < q.Length; i++) q[i] = (float)(qrng.NextDouble() * 2 - 1);

        using var oldAttention = new OldAttention(api, threads, heads, kvHeads, d, context, pageTokens, k, v);
        var oldOut = new float[heads * d];

        using var backend = new CpuBackend(threads);
        using var cache = new PagedKvCache(backend, new KvCacheLayout(1, kvHeads, d, context + 1, PageTokens: pageTokens));
        using (var kt = Tensor.From<float>(k, new Shape(context * kvHeads, d), backend))
        using (var vt = Tensor.From<float>(v, new Shape(context * kvHeads, d), backend))
            cache.Append(0, 0, kt, vt, context, 0);
        using var qt = Tensor.From<float>(q, new Shape(1, 1, heads, d), backend);
        using var ot = Tensor.Zeros(new Shape(1, 1, heads, d), DType.F32, backend);
        using var runner = new KvLayerAttention(cache, heads, 1);
        var full = new FullKvPolicy();
        full.Begin(cache.Sequence(0), heads);

        void OldCall() => oldAttention.Run(q, oldOut);
        void NewCall() => runner.Run(0, 0, qt, ot, full, context - 1, 0, KvPositionMode.Original, default);

        // Warm-up, then calls per block for ~100 ms of the slower side (at least 5).
        for (int i = 0; i < 3; i++) { OldCall(); NewCall(); }
        double once = Math.Max(TimeCalls(OldCall, 3).Wall, TimeCalls(NewCall, 3).Wall);
        int calls = Math.Clamp((int)(100_000 / once), 5, 5_000);
        float maxDiff = 0;
        var newOut = ot.ToArray<float>();
        for (int i = 0; i < oldOut.Length; i++) maxDiff = Math.Max(maxDiff, Math.Abs(oldOut[i] - newOut[i]));

        var (olds, news) = Interleave(() => TimeCalls(OldCall, calls), () => TimeCalls(NewCall, calls), rounds);
        var fields = new List<(string, object)>
        {
            ("bench", "decode-attention"), ("heads", heads), ("kv_heads", kvHeads), ("d", d), ("page_tokens", pageTokens),
            ("context", context), ("threads", threads), ("policy", "full"), ("rounds", rounds), ("calls_per_round", calls),
        };
        fields.AddRange(Fields("us", olds.Select(x => x.Wall).ToList(), news.Select(x => x.Wall).ToList(), higherIsBetter: false));
        // The calling thread's CPU time is all the work only on one thread.
        if (threads == 1)
            fields.AddRange(Fields("cpu_us", olds.Select(x => x.Cpu).ToList(), news.Select(x => x.Cpu).ToList(), higherIsBetter: false));
        fields.Add(("max_abs_diff", maxDiff));
        fields.Add(("cpu", CpuModel()));
        Console.WriteLine(Json([.. fields]));
    }

    // Wall and calling-thread CPU microseconds per call over a block of `calls` calls.
    private static Sample TimeCalls(Action call, int calls)
    {
        double cpu0 = ThreadClock.Seconds();
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < calls; i++) call();
        double wall = sw.Elapsed.TotalMicroseconds;
        return new Sample(wall / calls, (ThreadClock.Seconds() - cpu0) * 1e6 / calls);
    }

    // Round r runs old then new when r is even, new then old when odd: each side sees as many first and second slots.
    private static (List<Sample> Old, List<Sample> New) Interleave(Func<Sample> oldSide, Func<Sample> newSide, int rounds)
    {
        var olds = new List<Sample>(rounds);
        var news = new List<Sample>(rounds);
        for (int r = 0; r < rounds; r++)
        {
            if (r % 2 == 0) { olds.Add(oldSide()); news.Add(newSide()); }
            else { news.Add(newSide()); olds.Add(oldSide()); }
        }
        return (olds, news);
    }

    private static string CpuModel()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal))
                    return line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return "unknown";
    }

    private static string? FindStories()
    {
        var env = Environment.GetEnvironmentVariable("HPCCORE_STORIES260K");
        if (!string.IsNullOrEmpty(env)) return env;
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "..", "shared", "models", "stories260K");
                if (File.Exists(Path.Combine(candidate, "stories260K.bin"))) return Path.GetFullPath(candidate);
            }
        return null;
    }

    private static string Json((string Key, object Value)[] fields)
    {
        var parts = fields.Select(f => "\"" + f.Key + "\":" + f.Value switch
        {
            string s => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"",
            bool b => b ? "true" : "false",
            double x => x.ToString(x >= 100 ? "F1" : "G4", CultureInfo.InvariantCulture),
            float x => x.ToString("G3", CultureInfo.InvariantCulture),
            IFormattable x => x.ToString(null, CultureInfo.InvariantCulture),
            var x => "\"" + x + "\"",
        });
        return "{" + string.Join(",", parts) + "}";
    }
}

/// <summary>One block's measurement: wall-clock and calling-thread CPU (per call, or tokens per second).</summary>
internal readonly record struct Sample(double Wall, double Cpu);

/// <summary>Median, extremes and interquartile range of one side's per-round samples.</summary>
internal readonly record struct Stats(double Median, double Min, double Max, double Iqr)
{
    public static Stats Of(IReadOnlyList<double> samples)
    {
        var s = samples.Order().ToArray();
        return new Stats(Quantile(s, 0.5), s[0], s[^1], Quantile(s, 0.75) - Quantile(s, 0.25));
    }

    /// <summary>Median over rounds of a[r] / b[r] (both sides of one round saw the same machine load).</summary>
    public static double PairedMedian(IReadOnlyList<double> a, IReadOnlyList<double> b) =>
        Quantile(a.Zip(b, (x, y) => x / y).Order().ToArray(), 0.5);

    // Linear interpolation between order statistics (type 7); the median of an even count is the mean of the middle two.
    private static double Quantile(double[] sorted, double p)
    {
        double h = (sorted.Length - 1) * p;
        int lo = (int)Math.Floor(h);
        int hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }
}
