// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// `quick [name...]`: named side-by-side benchmarks against a peer library in the same process, interleaved,
// printing one JSON line per shape. Add an entry to Registry to add a suite (e.g. "attention").
namespace HpcCore.Benchmarks.Quick;

/// <summary>The registry and runner of quick benchmarks.</summary>
public static class QuickBenchmarks
{
    /// <summary>Quick benchmarks by name; each returns a process exit code (non-zero: verification failed).</summary>
    public static readonly IReadOnlyDictionary<string, Func<int>> Registry = new Dictionary<string, Func<int>>
    {
        ["gemm"] = GemmQuick.Run,
    };

    /// <summary>
    /// Threads for both sides: every core, or HPCCORE_QUICK_THREADS (e.g. 1 to compare single-core kernels without
    /// the parallel split).
    /// </summary>
    public static int Threads =>
        int.TryParse(Environment.GetEnvironmentVariable("HPCCORE_QUICK_THREADS"), out int t) && t > 0 ? t : Environment.ProcessorCount;

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
