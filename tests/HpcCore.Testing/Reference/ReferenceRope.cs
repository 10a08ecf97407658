// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Plain-loop rotary position embedding in double precision.
namespace HpcCore.Testing.Reference;

/// <summary>Reference RoPE over x [B, T, H, D].</summary>
public static class ReferenceRope
{
    /// <summary>
    /// Rotates pair i of the first <paramref name="rotaryDim"/> dims by pos * theta^(-2i/R); pairs are (2i, 2i+1)
    /// when <paramref name="interleaved"/>, else (i, i + R/2). pos = positions[b*T + t] or offset + t.
    /// </summary>
    public static double[] Apply(float[] x, int b, int t, int h, int d, int rotaryDim, double theta,
        bool interleaved, int offset, int[]? positions)
    {
        var r = new double[x.Length];
        int pairs = rotaryDim / 2;
        for (int bi = 0; bi < b; bi++)
        for (int ti = 0; ti < t; ti++)
        {
            double pos = positions is null ? offset + ti : positions[bi * t + ti];
            for (int hi = 0; hi < h; hi++)
            {
                long o = (((long)bi * t + ti) * h + hi) * d;
                for (int j = 0; j < d; j++) r[o + j] = x[o + j];
                for (int i = 0; i < pairs; i++)
                {
                    double angle = pos * Math.Pow(theta, -2.0 * i / rotaryDim);
                    int i0 = interleaved ? 2 * i : i, i1 = interleaved ? 2 * i + 1 : i + pairs;
                    double x0 = x[o + i0], x1 = x[o + i1];
                    r[o + i0] = x0 * Math.Cos(angle) - x1 * Math.Sin(angle);
                    r[o + i1] = x0 * Math.Sin(angle) + x1 * Math.Cos(angle);
                }
            }
        }
        return r;
    }
}
