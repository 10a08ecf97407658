// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.GpuBenchmarks.Validate;

/// <summary>Error figures of one output against the CPU backend's.</summary>
/// <param name="MaxAbs">Largest |ours - cpu|.</param>
/// <param name="MaxRel">Largest |ours - cpu| over max|cpu| (normwise, so near-zero references do not blow it up).</param>
/// <param name="RelL2">||ours - cpu||_2 / ||cpu||_2.</param>
/// <param name="Mismatches">Elements that differ (ints: any difference; floats: NaN where the CPU has none or back).</param>
public readonly record struct Errors(double MaxAbs, double MaxRel, double RelL2, long Mismatches)
{
    /// <summary>Compares float outputs. A NaN on one side only counts as a mismatch (and makes the L2 figure NaN).</summary>
    public static Errors Of(float[] ours, float[] cpu)
    {
        if (ours.Length != cpu.Length) return new(double.NaN, double.NaN, double.NaN, Math.Max(ours.Length, cpu.Length));
        double maxAbs = 0, refMax = 0, err = 0, norm = 0;
        long bad = 0;
        for (int i = 0; i < cpu.Length; i++)
        {
            float o = ours[i], r = cpu[i];
            if (float.IsNaN(o) || float.IsNaN(r))
            {
                if (float.IsNaN(o) != float.IsNaN(r)) bad++;
                continue;
            }
            if (float.IsInfinity(o) || float.IsInfinity(r))
            {
                if (o != r) bad++;
                continue;
            }
            double d = Math.Abs((double)o - r);
            maxAbs = Math.Max(maxAbs, d);
            refMax = Math.Max(refMax, Math.Abs((double)r));
            err += d * d;
            norm += (double)r * r;
        }
        double rel = norm > 0 ? Math.Sqrt(err / norm) : err > 0 ? double.PositiveInfinity : 0;
        return new(maxAbs, refMax > 0 ? maxAbs / refMax : maxAbs, bad > 0 ? double.NaN : rel, bad);
    }

    /// <summary>Compares index outputs: every differing element is a mismatch.</summary>
    public static Errors Of(int[] ours, int[] cpu)
    {
        if (ours.Length != cpu.Length) return new(double.NaN, double.NaN, double.NaN, Math.Max(ours.Length, cpu.Length));
        long bad = 0;
        double maxAbs = 0;
        for (int i = 0; i < cpu.Length; i++)
        {
            if (ours[i] == cpu[i]) continue;
            bad++;
            maxAbs = Math.Max(maxAbs, Math.Abs((double)ours[i] - cpu[i]));
        }
        return new(maxAbs, 0, 0, bad);
    }
}
