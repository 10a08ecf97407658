// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.GpuBenchmarks.Validate;

/// <summary>Seeded host inputs (never zeros; rounded to F16 for f16 cases so both backends see the same operands).</summary>
public static class Inputs
{
    private const long Chunk = 1 << 16;

    /// <summary>
    /// Uniform [lo, hi) values from a counter-based hash (SplitMix64 of seed and index), filled in parallel: the decode
    /// cases need 10^8 values per operand, which a sequential <see cref="Random"/> makes too slowly for the device budget.
    /// </summary>
    public static float[] Uniform(long count, int seed, string dtype = "f32", float lo = -1f, float hi = 1f)
    {
        var x = new float[count];
        bool half = dtype == "f16";
        Parallel.For(0, (count + Chunk - 1) / Chunk, c =>
        {
            long end = Math.Min(count, (c + 1) * Chunk);
            for (long i = c * Chunk; i < end; i++)
            {
                float f = lo + (Mix(((ulong)seed << 40) ^ (ulong)i) >> 40) * (1f / (1 << 24)) * (hi - lo);
                x[i] = half ? (float)(Half)f : f;
            }
        });
        return x;
    }

    /// <summary>SplitMix64's finaliser (Steele, Lea and Flood 2014).</summary>
    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
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
