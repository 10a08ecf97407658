// Copyright (c) HpcCore contributors. Licensed under the MIT license.
using System.Globalization;
using HpcCore.Diagnostics;

namespace HpcCore.Cli.Timing;

/// <summary>
/// The per-round speed-ups of a method over the plain model (rounds interleaved): median, quartiles and range. The
/// plain model measured against a second session of itself gives the noise floor: a method's gain inside that range
/// is not a gain (issue #18).
/// </summary>
/// <param name="Median">Median per-round speed-up.</param>
/// <param name="P25">25th percentile.</param>
/// <param name="P75">75th percentile.</param>
/// <param name="Min">Smallest round.</param>
/// <param name="Max">Largest round.</param>
internal sealed record GainSpread(double Median, double P25, double P75, double Min, double Max)
{
    /// <summary>The spread of <paramref name="gains"/> (one per round, any order; nearest-rank quantiles).</summary>
    public static GainSpread Of(IReadOnlyCollection<double> gains)
    {
        var s = gains.Order().ToArray();
        if (s.Length == 0) return new GainSpread(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
        return new GainSpread(Quantiles.NearestRank(s, 0.5), Quantiles.NearestRank(s, 0.25), Quantiles.NearestRank(s, 0.75), s[0], s[^1]);
    }

    /// <summary>"1.23x (1.10-1.31)": the median and the quartiles.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Median:F2}x ({P25:F2}-{P75:F2})");
}
