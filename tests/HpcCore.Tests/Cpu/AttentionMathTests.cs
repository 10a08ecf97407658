// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The attention tile's exponentials against double-precision Math.Exp / Math.Pow on a dense sweep of x <= 0, the
// ends (0, underflow, -inf) and NaN: every softmax probability the Vector512 tile makes goes through one of them.
namespace HpcCore.Tests.Cpu;

using System.Runtime.Intrinsics;
using HpcCore.Cpu;
using Xunit;

public sealed class AttentionMathTests
{
    public sealed class Vector512FactAttribute : FactAttribute
    {
        public Vector512FactAttribute()
        {
            if (!Vector512.IsHardwareAccelerated) Skip = "Vector512 is not accelerated on this CPU (the tile runs Vector256 here)";
        }
    }

    // Every 1/4096 on [-30, 0] (all table entries and rounding ties of x to sixteenths), then coarser to -200.
    private static IEnumerable<float> Sweep()
    {
        for (int i = 0; i <= 30 * 4096; i++) yield return -i / 4096f;
        for (int i = 0; i <= 170 * 64; i++) yield return -30f - i / 64f;
        yield return -1e-30f;
        yield return -float.Epsilon;
        yield return -1e30f;
    }

    private static void Check(Func<Vector512<float>, Vector512<float>> f, Func<double, double> exact, string name, double bound)
    {
        var xs = Sweep().ToArray();
        double worst = 0;
        float worstX = 0;
        for (int i = 0; i < xs.Length; i += 16)
        {
            var chunk = new float[16];
            for (int k = 0; k < 16; k++) chunk[k] = xs[Math.Min(i + k, xs.Length - 1)];
            var y = f(Vector512.Create(chunk));
            for (int k = 0; k < 16; k++)
            {
                double e = exact(chunk[k]), got = y[k];
                // Below the smallest normal float the result is a denormal or 0: judged absolutely.
                double err = e < 1.2e-38 ? Math.Abs(got - e) / 1.2e-38 * 1e-7 : Math.Abs(got - e) / e;
                if (err > worst) (worst, worstX) = (err, chunk[k]);
            }
        }
        Assert.True(worst <= bound, $"{name}: relative error {worst:E2} at x = {worstX:R}");
    }

    [Vector512Fact]
    public void Exp2NonPositive_MatchesDoublePow() => Check(AttentionMath.Exp2NonPositive, x => Math.Pow(2, x), "2^x", 2.5e-7);

    // e^x reduces x by n * ln 2 with ln 2 rounded to float, so the error grows with |x| (4e-7 near e^-86).
    [Vector512Fact]
    public void ExpNonPositive_MatchesDoubleExp() => Check(AttentionMath.ExpNonPositive, Math.Exp, "e^x", 5e-7);

    [Vector512Fact]
    public void NegativeInfinityIsZero_AndNaNStaysNaN()
    {
        foreach (var f in new Func<Vector512<float>, Vector512<float>>[] { AttentionMath.Exp2NonPositive, AttentionMath.ExpNonPositive })
        {
            Assert.Equal(0f, f(Vector512.Create(float.NegativeInfinity))[0]);
            Assert.Equal(0f, f(Vector512.Create(-1000f))[0]);
            Assert.True(float.IsNaN(f(Vector512.Create(float.NaN))[0]));
        }
    }
}
