// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// `quick [name...]`: named side-by-side benchmarks against a peer library in the same process, interleaved,
// printing one JSON line per shape. Add an entry to Registry to add a suite (e.g. "attention").
using Microsoft.ML.OnnxRuntime;

namespace HpcCore.Benchmarks.Quick;

/// <summary>The registry and runner of quick benchmarks.</summary>
public static class QuickBenchmarks
{
    /// <summary>Quick benchmarks by name; each returns a process exit code (non-zero: verification failed).</summary>
    public static readonly IReadOnlyDictionary<string, Func<int>> Registry = new Dictionary<string, Func<int>>
    {
        ["gemm"] = GemmQuick.Run,
        ["gemv"] = GemvQuick.Run,
        ["attention"] = QuickAttention.Run,
        ["decode"] = QuickDecode.Run,
        ["selection"] = SelectionQuick.Run,
        ["reduction"] = QuickReduction.Run,
        ["decode-lm"] = QuickDecodeLm.Run,
        ["decode-llamacpp"] = QuickDecodeLlamaCpp.Run,
        ["vit"] = QuickVit.Run,
        ["vit-b"] = QuickVitBase.Run,
        ["encoder"] = QuickEncoder.Run,
        ["roofline"] = QuickRoofline.Run,
        ["threads"] = QuickThreads.Run,
        ["bf16"] = QuickBf16.Run,
    };

    /// <summary>
    /// Threads for both sides: every core, or HPCCORE_QUICK_THREADS (e.g. 1 to compare single-core kernels without
    /// the parallel split).
    /// </summary>
    public static int Threads =>
        int.TryParse(Environment.GetEnvironmentVariable("HPCCORE_QUICK_THREADS"), out int t) && t > 0 ? t : Environment.ProcessorCount;

    /// <summary>
    /// ONNX Runtime session options for the peer side: <paramref name="threads"/> intra-op threads, sequential.
    /// ORT's intra-op threads spin after each run by default and then take the cores from the interleaved other side
    /// (our kernels ran ~35% slower next to a spinning ORT), so spinning is off unless HPCCORE_QUICK_ORT_SPIN=1.
    /// Our own pool spins only 0.5 ms after a job.
    /// </summary>
    public static SessionOptions CreateOrtOptions(int threads)
    {
        var options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        if (!OrtSpins) options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        return options;
    }

    /// <summary>True when HPCCORE_QUICK_ORT_SPIN=1 restores ORT's default spinning.</summary>
    public static bool OrtSpins => Environment.GetEnvironmentVariable("HPCCORE_QUICK_ORT_SPIN") == "1";

    /// <summary>Runs the named quick benchmarks (all of them when no name is given).</summary>
    public static int Run(string[] names)
    {
        var selected = names.Length == 0 ? Registry.Keys.ToArray() : names;
        int rc = 0;
        foreach (var name in selected)
        {
            if (!Registry.TryGetValue(name, out var run))
            {
                Console.Error.WriteLine($"Unknown quick benchmark '{name}'. Known: {string.Join(", ", Registry.Keys)}.");
                return 2;
            }
            rc = Math.Max(rc, run());
        }
        return rc;
    }
}
