// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// `quick decode-lm`: end-to-end decode tokens/s of stories260K (llama2.c) greedy from "Once upon a time", and
// paged decode attention with TokenSelect at 10% against full attention at long context.
using System.Diagnostics;
using HpcCore.Cpu;
using HpcCore.Models.KvCache;
using HpcCore.Models.Lm;
using HpcCore.Models.Lm.Loading;

namespace HpcCore.Benchmarks.Quick;

/// <summary>Decode throughput of the LM pipeline; prints JSON lines.</summary>
public static class QuickDecodeLm
{
    /// <summary>Runs the suite; returns 0, or 1 when the greedy text is not run.c's.</summary>
    public static int Run()
    {
        int rc = Stories();
        LongContext();
        return rc;
    }

    private static int Stories()
    {
        var dir = FindStories();
        if (dir is null)
        {
            Console.WriteLine("{\"bench\":\"decode-lm\",\"skipped\":\"stories260K not found (set HPCCORE_STORIES260K or use ../shared/models/stories260K)\"}");
            return 0;
        }
        using var cpu = new CpuBackend(threads: 1);
        var (config, weights, tok) = LmModelFiles.Load(Path.Combine(dir, "stories260K.bin"), Path.Combine(dir, "tok512.bin"), cpu);
        using var _ = weights;
        using var decoder = new LmDecoder(config, weights, cpu);
        const int steps = 256;
        var rates = new List<double>();
        var cpuRates = new List<double>();
        LmGeneration? last = null;
        var process = Process.GetCurrentProcess();
        for (int rep = 0; rep < 9; rep++)
        {
            // CPU time as well as wall time: on a shared, oversubscribed machine the wall clock mostly measures waiting.
            process.Refresh();
            var cpu0 = process.TotalProcessorTime;
            last = LmGenerator.Generate(decoder, tok, "Once upon a time", steps);
            process.Refresh();
            double cpuSeconds = (process.TotalProcessorTime - cpu0).TotalSeconds;
            if (rep >= 2)
            {
                rates.Add(last.DecodeTokensPerSecond);
                cpuRates.Add(last.GeneratedTokens.Length / Math.Max(1e-9, cpuSeconds));
            }
        }
        rates.Sort();
        cpuRates.Sort();
        bool ok = last!.Text.StartsWith("Once upon a time, there was a little girl named Lily.", StringComparison.Ordinal);
        Console.WriteLine($"{{\"bench\":\"decode-lm\",\"model\":\"stories260K\",\"threads\":1,\"tokens\":{last.GeneratedTokens.Length}," +
                          $"\"median_tok_s\":{rates[rates.Count / 2]:F0},\"max_tok_s\":{rates[^1]:F0},\"median_tok_per_cpu_s\":{cpuRates[cpuRates.Count / 2]:F0}," +
                          $"\"text_ok\":{(ok ? "true" : "false")}}}");
        return ok ? 0 : 1;
    }

    private static void LongContext()
    {
        // One Llama-like layer's decode attention: 32 query heads over 8 kv heads, D = 128, T cached tokens.
        foreach (int context in new[] { 1024, 4096 })
        {
            const int heads = 32, kvHeads = 8, d = 128;
            var cache = new PagedKvCache(1, kvHeads, d, context + 1, pageTokens: 64);
            var rng = new Random(1);
            var k = new float[d];
            var v = new float[d];
            for (int t = 0; t < context; t++)
            for (int h = 0; h < kvHeads; h++)
            {
                for (int i = 0; i < d; i++) { k[i] = (float)(rng.NextDouble() * 2 - 1); v[i] = (float)(rng.NextDouble() * 2 - 1); }
                cache.Head(0, h).Append(k, v, t);
            }
            var q = new float[heads * d];
            for (int i = 0; i < q.Length; i++) q[i] = (float)(rng.NextDouble() * 2 - 1);
            var o = new float[heads * d];
            var scratch = new float[PagedAttention.ScratchLength(heads, context + 1)];
            var selectPolicy = new TokenSelectKvPolicy(budget: context / 10, sinks: 4, local: 16);
            selectPolicy.Begin(cache, heads);
            var rescoring = new TokenSelectKvPolicy(budget: context / 10, sinks: 4, local: 16) { ForceRescore = true };
            rescoring.Begin(cache, heads);
            // Interleaved rounds (the machine is shared): each round times a block of every variant.
            var (full, select, rescored) = Interleaved(
                () => PagedAttention.Forward(cache, 0, q, o, 1, heads, context - 1, scratch),
                () => PagedAttention.Forward(cache, 0, q, o, 1, heads, context - 1, scratch, selectPolicy.Options(cache, 0, q, 1, context - 1, 0)),
                () => PagedAttention.Forward(cache, 0, q, o, 1, heads, context - 1, scratch, rescoring.Options(cache, 0, q, 1, context - 1, 0)));
            // Full attention with the kv heads spread over a two-thread pool (same result bit for bit).
            using var pool = new CpuWorkerPool(2);
            var (one, two, _) = Interleaved(
                () => PagedAttention.Forward(cache, 0, q, o, 1, heads, context - 1, scratch),
                () => PagedAttention.Forward(pool, cache, 0, q, o, 1, heads, context - 1, scratch),
                () => { });
            Console.WriteLine($"{{\"bench\":\"decode-attention\",\"heads\":{heads},\"kv_heads\":{kvHeads},\"d\":{d},\"context\":{context}," +
                              $"\"full_us\":{full:F1},\"tokenselect10_cached_us\":{select:F1},\"tokenselect10_rescored_us\":{rescored:F1}," +
                              $"\"speedup_cached\":{full / select:F2},\"speedup_rescored\":{full / rescored:F2}," +
                              $"\"full_1thread_us\":{one:F1},\"full_2threads_us\":{two:F1},\"speedup_2threads\":{one / two:F2}}}");
        }
    }

    private static (double, double, double) Interleaved(Action a, Action b, Action c)
    {
        Action[] steps = [a, b, c];
        var times = new List<double>[] { [], [], [] };
        for (int round = 0; round < 12; round++)
        for (int k = 0; k < 3; k++)
        {
            int which = round % 2 == 0 ? k : 2 - k;
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < 10; i++) steps[which]();
            if (round >= 2) times[which].Add(sw.Elapsed.TotalMicroseconds / 10);
        }
        double Median(List<double> x) { x.Sort(); return x[x.Count / 2]; }
        return (Median(times[0]), Median(times[1]), Median(times[2]));
    }

    private static string? FindStories()
    {
        var env = Environment.GetEnvironmentVariable("HPCCORE_STORIES260K");
        if (!string.IsNullOrEmpty(env)) return File.Exists(Path.Combine(env, "stories260K.bin")) ? env : null;
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "..", "shared", "models", "stories260K");
                if (File.Exists(Path.Combine(candidate, "stories260K.bin"))) return Path.GetFullPath(candidate);
            }
        return null;
    }
}
