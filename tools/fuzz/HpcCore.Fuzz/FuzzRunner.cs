// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Fuzz;

using System.Diagnostics;
using System.Security.Cryptography;

/// <summary>Mutates and runs one target's inputs until its time or input budget is spent.</summary>
internal sealed class FuzzRunner(FuzzOptions options)
{
    private volatile bool _stopping;

    /// <summary>Ends the current target after its input in flight (SIGINT/SIGTERM): its counts so far are reported.</summary>
    public void Stop() => _stopping = true;

    public bool Stopping => _stopping;

    public FuzzStats Run(FuzzTarget target, int seed)
    {
        var stats = new FuzzStats { Target = target.Name };
        var rng = new Random(seed);
        var worker = new FuzzWorker();
        int abandoned = 0;
        Collect();
        stats.MapsBefore = Maps();
        var clock = Stopwatch.StartNew();
        // At least one seed must be accepted: with none, the mutations start from invalid files and the target exercises
        // little beyond its first error path (a partial config.json seed once did exactly that). Some seeds are meant
        // to be refused further on (the ViT's ONNX file by the BERT importer: it still exercises the ONNX parser).
        string? firstRefusal = null;
        foreach (var valid in target.Seeds.Distinct())
        {
            worker.Run(() => target.Consume(valid));
            bool done = worker.Wait(options.HangLimit);
            if (!done) worker = new FuzzWorker();
            if (done && worker.Error is null) stats.SeedsAccepted++;
            else firstRefusal ??= done ? worker.Error!.ToString() : $"still running after {options.HangLimit.TotalSeconds} s";
        }
        if (stats.SeedsAccepted == 0)
        {
            stats.NoSeedAccepted = true;
            Save(stats, "seed", target.Seeds[0], $"no seed accepted; the first: {firstRefusal}");
        }
        while (!_stopping && clock.Elapsed.TotalSeconds < options.Seconds && (options.Inputs == 0 || stats.Inputs < options.Inputs))
        {
            // Every 16th input is a seed as is: the accepted path stays covered.
            var s = target.Seeds[rng.Next(target.Seeds.Count)];
            byte[] input = stats.Inputs % 16 == 0 ? s : target.Mutate(rng, s, target.Seeds);
            if (!Check(target, input, stats, ref worker, ref abandoned)) break;
        }
        stats.Seconds = clock.Elapsed.TotalSeconds;
        Collect();
        stats.MapsAfter = Maps();
        return stats;
    }

    /// <summary>
    /// Replays given inputs (the coverage-guided mode's crashes and hangs, <c>--replay</c>) with the same limits and
    /// classification as <see cref="Run"/>.
    /// </summary>
    public FuzzStats Replay(FuzzTarget target, IEnumerable<byte[]> inputs)
    {
        var stats = new FuzzStats { Target = target.Name };
        var worker = new FuzzWorker();
        int abandoned = 0;
        var clock = Stopwatch.StartNew();
        foreach (var input in inputs)
            if (!Check(target, input, stats, ref worker, ref abandoned)) break;
        stats.Seconds = clock.Elapsed.TotalSeconds;
        return stats;
    }

    // Runs one input on the worker and classifies it: accepted, refused with a documented exception, or a failure
    // (crash, slow, hang, over the allocation limit), saved with its reason. False when the target must stop (too many
    // abandoned workers, or the working set over its limit).
    private bool Check(FuzzTarget target, byte[] input, FuzzStats stats, ref FuzzWorker worker, ref int abandoned)
    {
        stats.Inputs++;
        worker.Run(() => target.Consume(input));
        // A hang: still running at the hang limit (wall clock). Slow: more CPU time than the per-input limit, twice
        // in a row (CPU time, not wall time: on a loaded machine the wall time includes waiting for a core).
        if (!worker.Wait(options.TimeLimit) && !worker.Wait(options.HangLimit - options.TimeLimit))
        {
            stats.Hangs++;
            Save(stats, "hang", input, $"still running after {options.HangLimit.TotalSeconds} s");
            worker = new FuzzWorker();
            return ++abandoned < 3; // each abandoned worker keeps a core busy
        }
        if (worker.CpuTime > options.TimeLimit)
        {
            worker.Run(() => target.Consume(input));
            if (!worker.Wait(options.HangLimit))
            {
                stats.Hangs++;
                Save(stats, "hang", input, $"still running after {options.HangLimit.TotalSeconds} s (second run)");
                worker = new FuzzWorker();
                return ++abandoned < 3;
            }
            if (worker.CpuTime > options.TimeLimit)
            {
                stats.Slow++;
                Save(stats, "slow", input, $"used {worker.CpuTime.TotalMilliseconds:F0} ms of CPU twice (limit {options.TimeLimit.TotalMilliseconds} ms)");
            }
            else stats.Retimed++;
        }
        stats.MaxMilliseconds = Math.Max(stats.MaxMilliseconds, worker.CpuTime.TotalMilliseconds);
        stats.MaxWallMilliseconds = Math.Max(stats.MaxWallMilliseconds, worker.Elapsed.TotalMilliseconds);
        stats.PeakAllocatedBytes = Math.Max(stats.PeakAllocatedBytes, worker.Allocated);
        if (worker.Allocated > options.AllocationLimit)
        {
            stats.OverAllocation++;
            Save(stats, "alloc", input, $"allocated {worker.Allocated} bytes (limit {options.AllocationLimit})");
        }
        var e = worker.Error;
        if (e is null) stats.Accepted++;
        else
        {
            string type = e.GetType().Name;
            stats.Exceptions[type] = stats.Exceptions.GetValueOrDefault(type) + 1;
            if (target.IsDocumented(e)) stats.Rejected++;
            else
            {
                stats.Crashes++;
                Save(stats, "crash", input, e.ToString());
            }
        }
        if (stats.Inputs % 256 == 0)
        {
            long ws = Environment.WorkingSet;
            stats.PeakWorkingSetBytes = Math.Max(stats.PeakWorkingSetBytes, ws);
            if (ws > options.WorkingSetLimit)
            {
                stats.OverAllocation++;
                Save(stats, "rss", input, $"working set {ws} bytes after this input (limit {options.WorkingSetLimit})");
                return false;
            }
        }
        return true;
    }

    private static void Collect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private static long Maps() => OperatingSystem.IsLinux() ? File.ReadLines("/proc/self/maps").LongCount() : 0;

    // The first few failures of each kind are written out with their reason, for reproduction.
    private void Save(FuzzStats stats, string kind, byte[] input, string why)
    {
        string name = $"{kind}-{Convert.ToHexString(SHA256.HashData(input))[..12].ToLowerInvariant()}";
        if (stats.Failures.Count < 20) stats.Failures.Add($"{name}: {why.Split('\n')[0]}");
        if (stats.Failures.Count > 20) return;
        string dir = Path.Combine(options.Output, stats.Target);
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, name + ".bin"), input);
        File.WriteAllText(Path.Combine(dir, name + ".txt"), why);
    }
}

/// <summary>Limits and budgets (see Program for the command line).</summary>
internal sealed record FuzzOptions(double Seconds, long Inputs, TimeSpan TimeLimit, TimeSpan HangLimit, long AllocationLimit, long WorkingSetLimit, string Output)
{
    /// <summary>Per-input CPU time limit, in milliseconds, unless --time-limit-ms says otherwise.</summary>
    public const double DefaultTimeLimitMs = 1000;

    /// <summary>Hang limit (wall clock), in seconds.</summary>
    public const double DefaultHangSeconds = 10;

    /// <summary>Per-input managed allocation limit, in MB.</summary>
    public const long DefaultAllocationMb = 512;

    /// <summary>Working-set limit, in MB.</summary>
    public const long DefaultWorkingSetMb = 3072;

    /// <summary>Per-input managed allocation limit, in bytes (also the coverage-guided mode's).</summary>
    public const long DefaultAllocationLimit = DefaultAllocationMb << 20;

    /// <summary>The default limits, for replaying given inputs (no time or input budget).</summary>
    public static FuzzOptions Defaults(string output) => new(0, 0, TimeSpan.FromMilliseconds(DefaultTimeLimitMs),
        TimeSpan.FromSeconds(DefaultHangSeconds), DefaultAllocationLimit, DefaultWorkingSetMb << 20, output);
}
