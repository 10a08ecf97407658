// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Diagnostics;

using HpcCore.Diagnostics;
using Xunit;

public sealed class QuantilesTests
{
    [Theory]
    [InlineData(0.0, 1.0)]
    [InlineData(0.25, 2.0)] // rank round(0.25 * 4) = 1
    [InlineData(0.5, 3.0)]
    [InlineData(0.75, 4.0)]
    [InlineData(1.0, 10.0)]
    public void NearestRank_PicksTheRoundedRank(double q, double expected) =>
        Assert.Equal(expected, Quantiles.NearestRank([1.0, 2.0, 3.0, 4.0, 10.0], q));

    [Fact]
    public void NearestRank_EmptyIsNaN_AndQOutsideTheUnitIntervalIsRefused()
    {
        Assert.True(double.IsNaN(Quantiles.NearestRank([], 0.5)));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Quantiles.NearestRank([1.0], 1.5));
        Assert.Contains("Quantiles.NearestRank", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Quantiles.NearestRank([1.0], double.NaN));
    }

    [Fact]
    public void Median_OfUnsortedSamples()
    {
        Assert.Equal(3.0, Quantiles.Median([10.0, 3.0, 1.0]));
        Assert.Equal(2.5, Quantiles.Median([4.0, 1.0, 3.0, 2.0])); // the mean of the two middle values
        Assert.True(double.IsNaN(Quantiles.Median([])));
        double[] samples = [5.0, 1.0];
        Quantiles.Median(samples);
        Assert.Equal([5.0, 1.0], samples); // the caller's order is left alone
    }
}
