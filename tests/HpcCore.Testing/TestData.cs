// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Seeded random inputs and the odd-size catalogue every kernel test sweeps (covers every SIMD tail).
namespace HpcCore.Testing;

/// <summary>Deterministic test inputs.</summary>
public static class TestData
{
    /// <summary>Lengths that hit vector tails and common model widths: 1, 7, 31, 33, 127, 129, 197.</summary>
    public static readonly int[] OddSizes = [1, 7, 31, 33, 127, 129, 197];

    /// <summary>Uniform values in [lo, hi) from a seeded generator.</summary>
    public static float[] Uniform(int count, int seed, float lo = -1f, float hi = 1f)
    {
        var rng = new Random(seed);
        var a = new float[count];
        for (int i = 0; i < count; i++) a[i] = lo + (float)rng.NextDouble() * (hi - lo);
        return a;
    }

    /// <summary>Standard normal values (Box-Muller) from a seeded generator.</summary>
    public static float[] Normal(int count, int seed, float std = 1f)
    {
        var rng = new Random(seed);
        var a = new float[count];
        for (int i = 0; i < count; i++)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            a[i] = (float)(std * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return a;
    }

    /// <summary>Integers in [0, max) from a seeded generator.</summary>
    public static int[] Ints(int count, int seed, int max)
    {
        var rng = new Random(seed);
        var a = new int[count];
        for (int i = 0; i < count; i++) a[i] = rng.Next(max);
        return a;
    }
}
