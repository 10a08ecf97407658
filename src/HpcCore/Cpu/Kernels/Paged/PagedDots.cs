// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Scores of a GQA group's query heads against a head's keys, walked page by page. Decode over a small head (D = 8:
// stories260K) is a few nanoseconds of arithmetic per key, so what matters is the cost around it: eight keys are
// scored at once, each key's products folded to one 8-float vector and the eight vectors summed by a horizontal-add
// tree into one vector of eight scores (one store instead of eight scalar reductions, the trick of the old
// Models/KvCache kernels). Larger heads fold 16-float products first (Vector512 where accelerated). Keys of a page are
// contiguous, so a block of eight never straddles pages; a page's last keys (P not a multiple of 8, or the visible
// prefix ending mid-page) are scored one at a time. Head dims that are not a multiple of 8 take TensorPrimitives.Dot.
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace HpcCore.Cpu;

/// <summary>q.k scores for paged attention.</summary>
internal static unsafe class PagedDots
{
    /// <summary>s[g * stride + j] = scale * q_g . k_j for the group's queries q [group, D] and the first n keys.</summary>
    public static void Scores(float* q, int group, in PagedRows keys, int n, float scale, float* s, int stride)
    {
        int d = keys.D, p = keys.SegmentRows;
        bool tree = Avx.IsSupported && d % 8 == 0 && d > 0;
        for (int start = 0, seg = 0; start < n; start += p, seg++)
        {
            float* k = keys.Segment(seg);
            int m = Math.Min(p, n - start), i = 0;
            if (tree)
            {
                for (; i + 8 <= m; i += 8)
                    for (int g = 0; g < group; g++)
                        Dot8Keys(q + g * d, k + (long)i * d, d, scale, s + g * stride + start + i);
                for (; i < m; i++)
                    for (int g = 0; g < group; g++)
                        s[g * stride + start + i] = Vector256.Sum(Fold(q + g * d, k + (long)i * d, d)) * scale;
                continue;
            }
            for (; i < m; i++)
            {
                var key = new ReadOnlySpan<float>(k + (long)i * d, d);
                for (int g = 0; g < group; g++)
                    s[g * stride + start + i] = TensorPrimitives.Dot(new ReadOnlySpan<float>(q + g * d, d), key) * scale;
            }
        }
    }

    /// <summary>scale * q . k for one key (D a multiple of 8 with AVX; else TensorPrimitives).</summary>
    public static float Dot(float* q, float* k, int d, float scale) =>
        Avx.IsSupported && d % 8 == 0 && d > 0
            ? Vector256.Sum(Fold(q, k, d)) * scale
            : TensorPrimitives.Dot(new ReadOnlySpan<float>(q, d), new ReadOnlySpan<float>(k, d)) * scale;

    // Eight consecutive keys: hadd pairs within 128-bit lanes (u0 = k0..k3 partials in both lanes, u1 = k4..k7), then
    // one cross-lane add gives [s0 .. s7].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dot8Keys(float* q, float* keys, int d, float scale, float* s)
    {
        var k0 = Fold(q, keys, d);
        var k1 = Fold(q, keys + d, d);
        var k2 = Fold(q, keys + 2 * d, d);
        var k3 = Fold(q, keys + 3 * d, d);
        var k4 = Fold(q, keys + 4 * d, d);
        var k5 = Fold(q, keys + 5 * d, d);
        var k6 = Fold(q, keys + 6 * d, d);
        var k7 = Fold(q, keys + 7 * d, d);
        var u0 = Avx.HorizontalAdd(Avx.HorizontalAdd(k0, k1), Avx.HorizontalAdd(k2, k3));
        var u1 = Avx.HorizontalAdd(Avx.HorizontalAdd(k4, k5), Avx.HorizontalAdd(k6, k7));
        var sum = Avx.Permute2x128(u0, u1, 0x20) + Avx.Permute2x128(u0, u1, 0x31);
        (sum * scale).Store(s);
    }

    // q . k folded to 8 lanes (D a multiple of 8): 16-lane products when D is a multiple of 16 and Vector512 runs.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Fold(float* q, float* k, int d)
    {
        if (Vector512.IsHardwareAccelerated && (d & 15) == 0)
        {
            var wide = Vector512.Load(q) * Vector512.Load(k);
            for (int i = 16; i < d; i += 16) wide = Vector512.FusedMultiplyAdd(Vector512.Load(q + i), Vector512.Load(k + i), wide);
            return wide.GetLower() + wide.GetUpper();
        }
        var acc = Vector256.Load(q) * Vector256.Load(k);
        for (int i = 8; i < d; i += 8) acc = Vector256.FusedMultiplyAdd(Vector256.Load(q + i), Vector256.Load(k + i), acc);
        return acc;
    }
}
