// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Interleaved timing: on a shared, noisy machine a lone absolute time means little, so ours and the peer's run in
// alternating blocks (order rotated every round) and each side's median per-call time is compared. The per-round
// ratios give the spread that every quick bench prints beside the median (issue #18: a median alone hid 0.79-1.25x
// swings of a model measured against itself).
using System.Diagnostics;
using System.Globalization;
using HpcCore.Diagnostics;

namespace HpcCore.Benchmarks.Quick;

/// <summary>Times actions in alternating blocks and returns their per-round seconds per call.</summary>
public static class Interleaved
{
    /// <summary>Seconds each action is at least warmed up for before timing.</summary>
    public const double WarmupSeconds = 0.25;

    /// <summary>
    /// Warms both up, sizes blocks to about <paramref name="blockSeconds"/>, then runs <paramref name="rounds"/>
    /// rounds of one block each (alternating which goes first).
    /// </summary>
    public static Comparison Median(Action ours, Action peer, int rounds = 31, double blockSeconds = 0.02, int warmups = 5)
    {
        var r = Rounds([ours, peer], rounds, blockSeconds, warmups);
        return new Comparison(r[0], r[1]);
    }

    /// <summary>
    /// <see cref="Median"/> for any number of actions: one block of each per round, the starting action rotated
    /// every round; the block size comes from the fastest action.
    /// </summary>
    public static double[] Medians(Action[] actions, int rounds = 31, double blockSeconds = 0.02) =>
        Rounds(actions, rounds, blockSeconds).Select(r => Quantile(r, 0.5)).ToArray();

    /// <summary>
    /// The per-round seconds per call behind <see cref="Medians"/>, one array per action in round order (so that
    /// element r of two arrays ran back to back and their ratio is that round's ratio).
    /// </summary>
    /// <param name="actions">What to time, each a call of the work.</param>
    /// <param name="rounds">Rounds; each times one block of every action.</param>
    /// <param name="blockSeconds">Target length of a block (at least one call: 0 times single calls).</param>
    /// <param name="warmups">Untimed calls of each action first (a ViT-B batch takes seconds: 1 there).</param>
    public static double[][] Rounds(Action[] actions, int rounds = 31, double blockSeconds = 0.02, int warmups = 5)
    {
        // At least `warmups` calls and WarmupSeconds per action: code that a call reaches for the first time (an
        // export path, a second model) runs as unoptimized tier-0 code until tiered compilation has counted 30 calls
        // and recompiled it in the background, which 5 calls of a fast kernel do not cover.
        foreach (var action in actions)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < warmups || (i < 100 * warmups && Stopwatch.GetElapsedTime(t0).TotalSeconds < WarmupSeconds); i++) action();
        }
        double fastest = blockSeconds <= 0 ? double.PositiveInfinity : actions.Min(a => Time(a, 3));
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
        return times;
    }

    /// <summary>The <paramref name="q"/> quantile (0..1, nearest rank) of <paramref name="values"/> (any order).</summary>
    public static double Quantile(double[] values, double q) => Quantiles.NearestRank(values.Order().ToArray(), q);

    /// <summary>Per-round ratios <paramref name="numerator"/>[r] / <paramref name="denominator"/>[r].</summary>
    public static double[] Ratios(double[] numerator, double[] denominator) =>
        numerator.Zip(denominator, (n, d) => n / d).ToArray();

    /// <summary>
    /// The JSON fields every quick bench line carries about the spread of a ratio (per-round quartiles and range) and
    /// the machine's load: <c>"rounds":N,"ratio_p25_p75":[a,b],"ratio_min_max":[c,d]</c> plus <see cref="MachineLoad.Json"/>.
    /// </summary>
    public static string SpreadJson(double[] ratios) => string.Create(CultureInfo.InvariantCulture,
        $"\"rounds\":{ratios.Length},\"ratio_p25_p75\":[{Quantile(ratios, 0.25):F3},{Quantile(ratios, 0.75):F3}]," +
        $"\"ratio_min_max\":[{ratios.Min():F3},{ratios.Max():F3}],{MachineLoad.Json()}");

    private static double Time(Action action, int reps)
    {
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < reps; i++) action();
        return Stopwatch.GetElapsedTime(t0).TotalSeconds / reps;
    }
}

/// <summary>
/// Ours and a peer timed by <see cref="Interleaved.Median"/>: medians of seconds per call, and the per-round ratio
/// peer / ours (above 1: ours faster) whose spread <see cref="SpreadJson"/> prints. Deconstructs to the medians.
/// </summary>
public sealed class Comparison(double[] oursRounds, double[] peerRounds)
{
    /// <summary>Seconds per call of ours, per round.</summary>
    public double[] OursRounds { get; } = oursRounds;

    /// <summary>Seconds per call of the peer, per round.</summary>
    public double[] PeerRounds { get; } = peerRounds;

    /// <summary>Median seconds per call of ours.</summary>
    public double Ours => Interleaved.Quantile(OursRounds, 0.5);

    /// <summary>Median seconds per call of the peer.</summary>
    public double Peer => Interleaved.Quantile(PeerRounds, 0.5);

    /// <summary>Per-round peer / ours.</summary>
    public double[] Ratios => Interleaved.Ratios(PeerRounds, OursRounds);

    /// <summary>The spread fields of <see cref="Interleaved.SpreadJson"/> for <see cref="Ratios"/>.</summary>
    public string SpreadJson => Interleaved.SpreadJson(Ratios);

    /// <summary>The medians (ours, peer).</summary>
    public void Deconstruct(out double ours, out double peer) => (ours, peer) = (Ours, Peer);
}
