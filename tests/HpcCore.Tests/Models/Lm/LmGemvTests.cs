// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.Lm;

using HpcCore.Models.Lm;
using HpcCore.Testing;
using Xunit;

/// <summary>The decoder's one-row matrix-vector product (four weight rows at a time) against a double-precision loop.</summary>
public sealed class LmGemvTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 3)]
    [InlineData(8, 4)]
    [InlineData(31, 9)]
    [InlineData(33, 7)]
    [InlineData(64, 197)]
    [InlineData(129, 5)]
    public void Row_MatchesDoubleReference_WithBiasAndAccumulate(int inputs, int outputs)
    {
        var x = TestData.Uniform(inputs, 1);
        var w = TestData.Uniform(inputs * outputs, 2);
        var bias = TestData.Uniform(outputs, 3);
        var start = TestData.Uniform(outputs, 4);
        foreach (bool accumulate in new[] { false, true })
        foreach (bool withBias in new[] { false, true })
        {
            var y = (float[])start.Clone();
            LmGemv.Row(x, w, withBias ? bias : default, y, accumulate);
            for (int o = 0; o < outputs; o++)
            {
                double e = (accumulate ? start[o] : 0) + (withBias ? bias[o] : 0);
                for (int i = 0; i < inputs; i++) e += (double)x[i] * w[o * inputs + i];
                Assert.True(Math.Abs(e - y[o]) <= 1e-5 * (1 + Math.Abs(e)) * Math.Sqrt(inputs), $"out {o}: {y[o]} vs {e}");
            }
        }
    }
}
