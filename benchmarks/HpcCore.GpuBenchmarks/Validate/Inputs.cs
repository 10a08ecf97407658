// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.GpuBenchmarks.Validate;

/// <summary>Seeded host inputs (never zeros; rounded to F16 for f16 cases so both backends see the same operands).</summary>
public static class Inputs
{
    /// <summary>Uniform [lo, hi) values.</summary>
    public static float[] Uniform(long count, int seed, string dtype = "f32", float lo = -1f, float hi = 1f)
    {
        var rng = new Random(seed);
        var x = new float[count];
        for (long i = 0; i < count; i++)
        {
            float f = lo + rng.NextSingle() * (hi - lo);
            x[i] = dtype == "f16" ? (float)(Half)f : f;
        }
        return x;
    }

    /// <summary>Values on a 0.25 grid in [-2, 2]: many exact ties, for index parity (ties go to the lower index).</summary>
    public static float[] Ties(long count, int seed)
    {
        var x = Uniform(count, seed, "f32", -2f, 2f);
        for (long i = 0; i < count; i++) x[i] = MathF.Round(x[i] * 4f) / 4f;
        return x;
    }

    /// <summary>Integers in [lo, hi).</summary>
    public static int[] Ints(long count, int seed, int lo, int hi)
    {
        var rng = new Random(seed);
        var x = new int[count];
        for (long i = 0; i < count; i++) x[i] = rng.Next(lo, hi);
        return x;
    }

    /// <summary><paramref name="rows"/> sorted sets of <paramref name="k"/> distinct positions in [0, n).</summary>
    public static int[] Distinct(int rows, int k, int n, int seed)
    {
        var rng = new Random(seed);
        var x = new int[rows * k];
        for (int r = 0; r < rows; r++)
        {
            var pick = Enumerable.Range(0, n).OrderBy(_ => rng.Next()).Take(k).Order().ToArray();
            pick.CopyTo(x, r * k);
        }
        return x;
    }
}
