// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// `quick decode-llamacpp`: HpcCore's decoder against llama.cpp (LLamaSharp 0.30.0's CPU build) in one process, on the
// same GGUF file (F32 weights on both sides) and the same thread count, in alternating rounds. Phases: prefill of
// 128 and 512 tokens (one call each, tokens/s) and greedy decode of 64 tokens after a 16-token prompt (tokens/s of
// the decode steps only). Models: stories260K (when found), the committed Austen model, and a seeded random
// llama-architecture model (6 layers x 512, GQA 8/2 heads, 2048 context, 8192 vocabulary) written at run time.
// One JSON line per (model, phase, threads) with the median and the quartiles and extremes of the rounds; a first line
// names the peer build, its CPU features and the load average, and warns when the machine is busier than its cores.
// llama.cpp's CPU build uses OpenMP, whose threads spin at barriers: on an oversubscribed machine its two-thread runs
// collapse unless OMP_WAIT_POLICY=passive is set in the environment before the process starts.
using System.Diagnostics;
using HpcCore.Cpu;
using HpcCore.Diagnostics;
using HpcCore.Models.Lm;
using HpcCore.Models.Lm.Loading;
using HpcCore.Models.Lm.Loading.Gguf;

namespace HpcCore.Benchmarks.Quick;

/// <summary>Prefill and decode tokens/s of HpcCore and llama.cpp on the same GGUF models.</summary>
public static class QuickDecodeLlamaCpp
{
    private const int DecodePrompt = 16, DecodeSteps = 64;

    /// <summary>Runs the suite; returns 1 when the two greedy continuations of a trained model differ.</summary>
    public static int Run()
    {
        string dir = Directory.CreateTempSubdirectory("hpccore-llamacpp-").FullName;
        try
        {
            int rc = 0;
            string peer = LlamaCppRunner.Version;
            Console.WriteLine($"{{\"op\":\"decode-llamacpp\",\"peer\":\"{peer}\",\"peer_system_info\":\"{LlamaCppRunner.SystemInfo.Replace("\"", "'")}\"," +
                              $"\"load_average\":\"{LoadAverage()}\",\"processors\":{Environment.ProcessorCount}," +
                              $"\"omp_wait_policy\":\"{Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") ?? "default"}\"{BusyWarning()}}}");
            foreach (var (name, path, trained) in Models(dir))
                foreach (int threads in ThreadCounts())
                    rc = Math.Max(rc, RunModel(name, path, trained, threads, peer));
            return rc;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static IEnumerable<(string Name, string Path, bool Trained)> Models(string dir)
    {
        using var cpu = new CpuBackend(threads: 1);
        string Convert(string name, string model, string tokenizer)
        {
            var (config, weights, tok) = LmModelFiles.Load(model, tokenizer, cpu);
            using var _ = weights;
            string path = Path.Combine(dir, name + ".gguf");
            GgufLlamaWriter.Write(path, config, weights, (LlamaCTokenizer)tok, GgufTensorType.F32, name);
            return path;
        }
        var stories = QuickDecodeLmFolders.Stories();
        if (stories is null)
            Console.WriteLine("{\"bench\":\"decode-llamacpp\",\"model\":\"stories260K\",\"skipped\":\"stories260K not found (set HPCCORE_STORIES260K)\"}");
        else
            yield return ("stories260K", Convert("stories260K", Path.Combine(stories, "stories260K.bin"), Path.Combine(stories, "tok512.bin")), true);
        string repo = QuickDecodeLmFolders.Repository();
        yield return ("austen", Convert("austen", Path.Combine(repo, "tools/train/lm/austen.bin"), Path.Combine(repo, "tools/train/lm/bytes259.bin")), true);
        string random = Path.Combine(dir, "random-6x512.gguf");
        RandomLlamaModel.WriteGguf(random, new LmConfig(LmArchitecture.Llama, 512, 1376, 6, 8, 2, 8192, 2048), GgufTensorType.F32, seed: 7);
        yield return ("random-6x512-gqa", random, false);
    }

    private static int RunModel(string name, string path, bool trained, int threads, string peerName)
    {
        using var cpu = new CpuBackend(threads);
        var (config, weights, _) = LmModelFiles.Load(path, null, cpu);
        using var __ = weights;
        using var ours = new LmDecoder(config, weights, cpu);
        using var peer = new LlamaCppRunner(path, threads, config.MaxSeqLen);
        var rng = new Random(3);
        int[] Tokens(int n) => [1, .. Enumerable.Range(0, n - 1).Select(_ => rng.Next(3, config.VocabSize))];
        int rc = 0;
        foreach (int length in new[] { 128, 512 })
        {
            if (length > config.MaxSeqLen) continue;
            int[] prompt = Tokens(length);
            int rounds = config.Dim >= 512 ? (threads == 1 ? 5 : 7) : 15;
            var (o, p) = Rounds(rounds,
                () => { ours.Reset(); ours.Prefill(prompt); return length; },
                () => { peer.Reset(); peer.Prefill(prompt); return length; });
            Print(name, $"prefill-{length}", threads, o, p, peerName);
        }
        int[] decodePrompt = Tokens(DecodePrompt);
        int[]? oursTokens = null, peerTokens = null;
        var (od, pd) = Rounds(config.Dim >= 512 ? 7 : 15,
            () => (oursTokens = Decode(() => ours.Reset(), t => ours.Prefill(t).ToArray(), t => ours.Decode(t).ToArray(), decodePrompt)).Length,
            () => (peerTokens = Decode(() => peer.Reset(), t => peer.Prefill(t).ToArray(), t => peer.Decode(t).ToArray(), decodePrompt)).Length,
            timedFromPrefill: false);
        bool same = oursTokens!.SequenceEqual(peerTokens!);
        Print(name, "decode", threads, od, pd, peerName, same);
        // Random weights give near-uniform logits where a last-bit difference can flip the argmax; trained ones must agree.
        if (trained && !same) rc = 1;
        return rc;
    }

    // Greedy decode after a prompt; the clock runs over the decode steps only (see Rounds' timedFromPrefill).
    private static int[] Decode(Action reset, Func<int[], float[]> prefill, Func<int, float[]> decode, int[] prompt)
    {
        reset();
        var logits = prefill(prompt);
        DecodeClock.Restart();
        var tokens = new int[DecodeSteps];
        for (int s = 0; s < DecodeSteps; s++)
        {
            tokens[s] = LlamaCppRunner.ArgMax(logits);
            logits = decode(tokens[s]);
        }
        DecodeClock.Stop();
        return tokens;
    }

    private static readonly Stopwatch DecodeClock = new();

    // 1 and 2 threads, or only HPCCORE_QUICK_THREADS when it is set.
    private static int[] ThreadCounts() =>
        int.TryParse(Environment.GetEnvironmentVariable("HPCCORE_QUICK_THREADS"), out int t) && t > 0 ? [t] : [1, 2];

    private static string BusyWarning()
    {
        var fields = LoadAverage().Split(' ');
        return double.TryParse(fields[0], System.Globalization.CultureInfo.InvariantCulture, out double load) && load > Environment.ProcessorCount
            ? $",\"warning\":\"load average {load} exceeds the {Environment.ProcessorCount} cores: absolute rates and 2-thread runs are unreliable\""
            : "";
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    // Alternating rounds (the starting side flips every round) after a warm-up of at least 3 calls and 1 s per side
    // (so the JIT's tiered code has settled); tokens/s per round, sorted.
    private static (double[] Ours, double[] Peer) Rounds(int rounds, Func<int> ours, Func<int> peer, bool timedFromPrefill = true)
    {
        double Once(Func<int> f)
        {
            var clock = Stopwatch.StartNew();
            int tokens = f();
            return tokens / (timedFromPrefill ? clock.Elapsed.TotalSeconds : DecodeClock.Elapsed.TotalSeconds);
        }
        foreach (var side in new[] { ours, peer })
        {
            var warm = Stopwatch.StartNew();
            for (int i = 0; i < 3 || warm.Elapsed.TotalSeconds < 1; i++) Once(side);
        }
        var o = new double[rounds];
        var p = new double[rounds];
        for (int r = 0; r < rounds; r++)
        {
            if (r % 2 == 0) { o[r] = Once(ours); p[r] = Once(peer); }
            else { p[r] = Once(peer); o[r] = Once(ours); }
        }
        Array.Sort(o);
        Array.Sort(p);
        return (o, p);
    }

    private static void Print(string model, string phase, int threads, double[] o, double[] p, string peerName, bool? sameTokens = null)
    {
        static double Q(double[] sorted, double q) => Quantiles.NearestRank(sorted, q);
        double om = Q(o, 0.5), pm = Q(p, 0.5);
        string same = sameTokens is { } b ? $",\"same_greedy_tokens\":{(b ? "true" : "false")}" : "";
        Console.WriteLine($"{{\"op\":\"decode-llamacpp\",\"model\":\"{model}\",\"phase\":\"{phase}\",\"threads\":{threads}," +
                          $"\"ours_tok_s\":{om:F0},\"ours_p25_p75\":[{Q(o, 0.25):F0},{Q(o, 0.75):F0}],\"ours_min_max\":[{o[0]:F0},{o[^1]:F0}]," +
                          $"\"peer\":\"{peerName}\",\"peer_tok_s\":{pm:F0},\"peer_p25_p75\":[{Q(p, 0.25):F0},{Q(p, 0.75):F0}],\"peer_min_max\":[{p[0]:F0},{p[^1]:F0}]," +
                          $"\"ratio\":{om / pm:F2},\"rounds\":{o.Length}{same}}}");
    }
}

/// <summary>Where the benchmark models are: stories260K (not committed) and the repository (the Austen model).</summary>
internal static class QuickDecodeLmFolders
{
    public static string? Stories()
    {
        var env = Environment.GetEnvironmentVariable("HPCCORE_STORIES260K");
        if (!string.IsNullOrEmpty(env)) return File.Exists(Path.Combine(env, "stories260K.bin")) ? env : null;
        for (var dir = new DirectoryInfo(Repository()); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "..", "shared", "models", "stories260K");
            if (File.Exists(Path.Combine(candidate, "stories260K.bin"))) return Path.GetFullPath(candidate);
        }
        return null;
    }

    public static string Repository()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "HpcCore.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("HpcCore.sln not found above the working directory or the benchmark binary.");
    }
}
