// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// RoPE applied at read by the paged attention kernel (PagedAttentionArgs.RopeKeys): key slot j turns by j * f_i and
// query row t by (n_t - 1) * f_i, f_i = theta^(-2i/R) for pair i of the first R entries. The pair members are
// (2i, 2i+1) when Interleaved and (i, i + R/2) when HalfSplit, as in RopeKernel and the CPU backend.
// Precision follows RopeKernel: the inverse frequencies come from RopeKernel's host table (double, as the CPU), the
// angle is formed and reduced to [-pi, pi] in double, and only sin/cos run in float (sin.approx/cos.approx on PTX,
// abs error ~1e-6). A float angle would lose ~4e-3 rad by position 4096.
using ILGPU;
using ILGPU.Algorithms;

namespace HpcCore.Gpu.Kernels;

/// <summary>Rotation angles and pair indexing of RoPE at read.</summary>
internal static class PagedRope
{
    private const double TwoPi = 6.283185307179586476925;
    private const double InvTwoPi = 0.159154943091895335768;

    /// <summary>cos and sin of <paramref name="position"/> x <paramref name="frequency"/>, reduced in double.</summary>
    public static void CosSin(long position, double frequency, out float cos, out float sin)
    {
        double angle = position * frequency;
        float reduced = (float)(angle - TwoPi * XMath.Round(angle * InvTwoPi));
        cos = XMath.Cos(reduced);
        sin = XMath.Sin(reduced);
    }

    /// <summary>Index of the first member of pair <paramref name="pair"/> (<paramref name="halfSplit"/>: pairs (i, i + R/2)).</summary>
    public static int First(int pair, int halfSplit) => halfSplit != 0 ? pair : 2 * pair;

    /// <summary>Index of the second member of pair <paramref name="pair"/>.</summary>
    public static int Second(int pair, int rotary, int halfSplit) => halfSplit != 0 ? pair + rotary / 2 : 2 * pair + 1;

    /// <summary>
    /// Entry <paramref name="e"/> of <paramref name="x"/>[base, base + D) rotated at <paramref name="position"/>
    /// (unchanged past the rotary entries).
    /// </summary>
    public static float RotatedEntry(ArrayView<float> x, long @base, int e, int rotary, int halfSplit, long position,
        ArrayView<double> frequencies)
    {
        if (e >= rotary) return x[@base + e];
        // No out parameters here: ILGPU would give them a stack slot (.local memory on PTX).
        int half = rotary / 2;
        bool first = halfSplit != 0 ? e < half : (e & 1) == 0;
        int pair = halfSplit != 0 ? (first ? e : e - half) : e >> 1;
        CosSin(position, frequencies[pair], out float c, out float s);
        float x0 = x[@base + First(pair, halfSplit)], x1 = x[@base + Second(pair, rotary, halfSplit)];
        return first ? x0 * c - x1 * s : x0 * s + x1 * c;
    }
}
