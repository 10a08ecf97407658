// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Tensors;

using HpcCore.Tensors;
using Xunit;

public sealed class ShapeTests
{
    [Fact]
    public void Shape_ReportsRankCountsAndFormatting()
    {
        var s = new Shape(2, 3, 4);
        Assert.Equal(3, s.Rank);
        Assert.Equal(24, s.ElementCount);
        Assert.Equal(6, s.RowCount);
        Assert.Equal(4, s.Last);
        Assert.Equal(3, s[-2]);
        Assert.Equal("[2, 3, 4]", s.ToString());
        Assert.Equal(new Shape(2, 3, 4), s);
        Assert.NotEqual(new Shape(2, 3), s);
        Assert.Equal(1, new Shape().ElementCount);
        Assert.Equal(0, new Shape(3, 0).ElementCount);
    }

    [Fact]
    public void Shape_RejectsNegativeDimsTooManyAxesAndBadAxis()
    {
        Assert.Contains("dimension 1 is -2", Assert.Throws<ArgumentException>(() => new Shape(1, -2)).Message);
        Assert.Throws<ArgumentException>(() => new Shape(1, 1, 1, 1, 1, 1, 1, 1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Shape(2, 3)[2]);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Shape(2, 3)[-3]);
    }
}
