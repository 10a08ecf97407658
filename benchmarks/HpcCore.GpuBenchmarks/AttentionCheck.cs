// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Accuracy gate of the benchmark: the relative L2 error of sampled output rows against a float64 reference computed
// on the host from the definition (bottom-right causal alignment, which is also PyTorch's for Tq = Tk). Sampling
// keeps it cheap at T = 16384: each row costs 2 Tk D double FLOPs.
namespace HpcCore.GpuBenchmarks;

/// <summary>Sampled-row float64 reference check.</summary>
public static class AttentionCheck
{
    /// <summary>Rows (b, t, h) checked per shape.</summary>
    public const int SampleRows = 24;

    /// <summary>
    /// ||ours - ref||_2 / ||ref||_2 over <see cref="SampleRows"/> (b, t, h) rows spread over the shape (first and last
    /// query included). Inputs and output are [B, T, H, D] row-major floats (operands already rounded to the dtype).
    /// NaN anywhere in the sampled rows gives NaN.
    /// </summary>
    public static double RelativeL2(BenchShape s, float[] q, float[] k, float[] v, float[] output)
    {
        var rng = new Random(12345);
        double err = 0, norm = 0;
        var p = new double[s.Tk];
        for (int i = 0; i < SampleRows; i++)
        {
            int b = rng.Next(s.B), h = rng.Next(s.H);
            int t = i == 0 ? 0 : i == 1 ? s.Tq - 1 : rng.Next(s.Tq);
            int visible = s.Causal ? Math.Min(s.Tk, t + (s.Tk - s.Tq) + 1) : s.Tk;
            double scale = 1.0 / Math.Sqrt(s.D), max = double.NegativeInfinity;
            long qRow = (((long)b * s.Tq + t) * s.H + h) * s.D;
            for (int j = 0; j < visible; j++)
            {
                long kRow = (((long)b * s.Tk + j) * s.H + h) * s.D;
                double dot = 0;
                for (int x = 0; x < s.D; x++) dot += (double)q[qRow + x] * k[kRow + x];
                p[j] = dot * scale;
                max = Math.Max(max, p[j]);
            }
            double sum = 0;
            for (int j = 0; j < visible; j++) sum += p[j] = Math.Exp(p[j] - max);
            for (int x = 0; x < s.D; x++)
            {
                double r = 0;
                for (int j = 0; j < visible; j++) r += p[j] * v[(((long)b * s.Tk + j) * s.H + h) * s.D + x];
                r = visible > 0 ? r / sum : 0;
                double diff = output[qRow + x] - r;
                err += diff * diff;
                norm += r * r;
            }
        }
        return Math.Sqrt(err / Math.Max(norm, double.Epsilon));
    }
}
