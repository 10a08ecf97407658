// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// One quantile rule for every timing report (the CLI's gain spreads, the quick benches' ratio spreads), so that a
// "p25" means the same thing wherever it is printed.
namespace HpcCore.Diagnostics;

/// <summary>Nearest-rank quantiles of timing samples.</summary>
public static class Quantiles
{
    /// <summary>
    /// The <paramref name="q"/> quantile (0..1) of <paramref name="sorted"/>, ascending: the element at rank
    /// round(q * (n - 1)). NaN when there are no samples.
    /// </summary>
    public static double NearestRank(ReadOnlySpan<double> sorted, double q)
    {
        if (!(q >= 0 && q <= 1)) throw new ArgumentOutOfRangeException(nameof(q), $"Quantiles.NearestRank: q = {q} is outside [0, 1].");
        return sorted.IsEmpty ? double.NaN : sorted[(int)Math.Round(q * (sorted.Length - 1))];
    }

    /// <summary>
    /// The median of <paramref name="samples"/> in any order: the middle value, or the mean of the two middle values of
    /// an even count. NaN when there are no samples.
    /// </summary>
    public static double Median(ReadOnlySpan<double> samples)
    {
        if (samples.IsEmpty) return double.NaN;
        var sorted = samples.ToArray();
        Array.Sort(sorted);
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    }
}
