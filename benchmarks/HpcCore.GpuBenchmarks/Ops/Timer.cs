// Copyright (c) HpcCore contributors. Licensed under the MIT license.
using System.Diagnostics;

namespace HpcCore.GpuBenchmarks.Ops;

/// <summary>Synchronised wall-clock timing: warm-up, then at least 5 calls and about the requested seconds; median and min.</summary>
public static class Timer
{
    /// <summary>Times <paramref name="once"/> (which must synchronise the device).</summary>
    public static (double Median, double Min, int Iters) Time(Action once, double minSeconds, int maxIters, bool smoke)
    {
        ArgumentNullException.ThrowIfNull(once);
        once(); // compiles the kernels
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < 3 && sw.Elapsed.TotalSeconds < minSeconds; i++) once();
        sw.Restart();
        once();
        double first = sw.Elapsed.TotalSeconds;
        int iters = smoke ? 3 : (int)Math.Clamp(Math.Ceiling(minSeconds / Math.Max(first, 1e-6)), 5, maxIters);
        var times = new double[iters];
        for (int i = 0; i < iters; i++)
        {
            sw.Restart();
            once();
            times[i] = sw.Elapsed.TotalSeconds;
        }
        Array.Sort(times);
        return (times[iters / 2], times[0], iters);
    }
}
