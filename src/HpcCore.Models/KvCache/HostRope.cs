// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

using HpcCore.Kernels;
using HpcCore.Ops;

/// <summary>
/// RoPE of a few host vectors at one position (angles in double, as the core kernel): for policies that score with
/// a query rotated at a position of their own (TokenSelect's released code rotates it at n_local).
/// </summary>
internal static class HostRope
{
    /// <summary>Rotates every head [heads, D] of <paramref name="x"/> in place at <paramref name="position"/>.</summary>
    public static void Rotate(Span<float> x, int heads, int headDim, int position, in RopeOptions rope)
    {
        double theta = rope.Theta ?? 10000f;
        int r = rope.RotaryDim == 0 ? headDim : rope.RotaryDim, pairs = r / 2;
        bool half = rope.Layout == RopeLayout.HalfSplit;
        for (int i = 0; i < pairs; i++)
        {
            double angle = position * Math.Pow(theta, -2.0 * i / r);
            float cos = (float)Math.Cos(angle), sin = (float)Math.Sin(angle);
            int i0 = half ? i : 2 * i, i1 = half ? i + pairs : 2 * i + 1;
            for (int h = 0; h < heads; h++)
            {
                int o = h * headDim;
                float x0 = x[o + i0], x1 = x[o + i1];
                x[o + i0] = x0 * cos - x1 * sin;
                x[o + i1] = x0 * sin + x1 * cos;
            }
        }
    }
}
