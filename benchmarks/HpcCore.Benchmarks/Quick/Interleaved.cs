// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Interleaved timing: on a shared, noisy machine a lone absolute time means little, so ours and the peer's run in
// alternating blocks (order flipped every round) and each side's median per-call time is compared.
using System.Diagnostics;

namespace HpcCore.Benchmarks.Quick;

/// <summary>Times two actions in alternating blocks and returns median seconds per call for each.</summary>
public static class Interleaved
{
    /// <summary>
    /// Warms both up, sizes blocks to about <paramref name="blockSeconds"/>, then runs <paramref name="rounds"/>
    /// rounds of one block each (alternating which goes first).
    /// </summary>
    public static (double Ours, double Peer) Median(Action ours, Action peer, int rounds = 31, double blockSeconds = 0.02)
    {
        for (int i = 0; i < 5; i++)
        {
            ours();
            peer();
        }
        int reps = Math.Max(1, (int)(blockSeconds / Math.Max(1e-7, Math.Min(Time(ours, 3), Time(peer, 3)))));
        var a = new double[rounds];
        var b = new double[rounds];
        for (int r = 0; r < rounds; r++)
        {
            if ((r & 1) == 0)
            {
                a[r] = Time(ours, reps);
                b[r] = Time(peer, reps);
            }
            else
            {
                b[r] = Time(peer, reps);
                a[r] = Time(ours, reps);
            }
        }
        return (MedianOf(a), MedianOf(b));
    }

    private static double Time(Action action, int reps)
    {
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < reps; i++) action();
        return Stopwatch.GetElapsedTime(t0).TotalSeconds / reps;
    }

    private static double MedianOf(double[] x)
    {
        Array.Sort(x);
        return x[x.Length / 2];
    }
}
