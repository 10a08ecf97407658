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
        var m = Medians([ours, peer], rounds, blockSeconds);
        return (m[0], m[1]);
    }

    /// <summary>
    /// <see cref="Median"/> for any number of actions: one block of each per round, the starting action rotated
    /// every round; the block size comes from the fastest action.
    /// </summary>
    public static double[] Medians(Action[] actions, int rounds = 31, double blockSeconds = 0.02) =>
        Samples(actions, rounds, blockSeconds).Select(MedianOf).ToArray();

    /// <summary>
    /// The per-round seconds per call behind <see cref="Medians"/> (one array per action, sorted ascending), for
    /// quoting a spread beside the median.
    /// </summary>
    public static double[][] Samples(Action[] actions, int rounds = 31, double blockSeconds = 0.02)
    {
        for (int i = 0; i < 5; i++)
            foreach (var action in actions) action();
        double fastest = actions.Min(a => Time(a, 3));
        int reps = Math.Max(1, (int)(blockSeconds / Math.Max(1e-7, fastest)));
        var times = new double[actions.Length][];
        for (int a = 0; a < actions.Length; a++) times[a] = new double[rounds];
        for (int r = 0; r < rounds; r++)
        {
            for (int q = 0; q < actions.Length; q++)
            {
                int a = (q + r) % actions.Length;
                times[a][r] = Time(actions[a], reps);
            }
        }
        foreach (var t in times) Array.Sort(t);
        return times;
    }

    private static double Time(Action action, int reps)
    {
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < reps; i++) action();
        return Stopwatch.GetElapsedTime(t0).TotalSeconds / reps;
    }

    private static double MedianOf(double[] sorted) => sorted[sorted.Length / 2];
}
