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
        // Two query heads per key block where 32 vector registers hold their 16 accumulators (AVX-512): each key
        // chunk is loaded once for both.
        bool pairs = tree && Vector512.IsHardwareAccelerated;
        int segments = (n + p - 1) / p;
        bool prefetch = keys.WorthPrefetching(n);
        if (prefetch)
        {
            keys.Prefetch(0, segments, p);
            keys.Prefetch(1, segments, p);
        }
        for (int start = 0, seg = 0; start < n; start += p, seg++)
        {
            if (prefetch) keys.Prefetch(seg + PagedRows.PrefetchAhead, segments, p);
            float* k = keys.Segment(seg);
            int m = Math.Min(p, n - start), i = 0;
            if (tree)
            {
                for (; i + 8 <= m; i += 8)
                {
                    int g = 0;
                    if (pairs)
                        for (; g + 2 <= group; g += 2)
                            Dot8Keys2Heads(q + g * d, q + (g + 1) * d, k + (long)i * d, d, scale, s + g * stride + start + i, stride);
                    for (; g < group; g++)
                        Dot8Keys(q + g * d, k + (long)i * d, d, scale, s + g * stride + start + i);
                }
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

    // Eight consecutive keys: eight independent accumulators over D (q loaded once per chunk, one FMA chain per key),
    // each folded to 8 lanes; then hadd pairs within 128-bit lanes (u0 = k0..k3 partials in both lanes, u1 = k4..k7)
    // and one cross-lane add give [s0 .. s7].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dot8Keys(float* q, float* keys, int d, float scale, float* s)
    {
        Vector256<float> k0, k1, k2, k3, k4, k5, k6, k7;
        float* r0 = keys, r1 = keys + d, r2 = keys + 2 * d, r3 = keys + 3 * d;
        float* r4 = keys + 4 * d, r5 = keys + 5 * d, r6 = keys + 6 * d, r7 = keys + 7 * d;
        if (Vector512.IsHardwareAccelerated && (d & 15) == 0)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
            for (int c = 0; c < d; c += 16)
            {
                var x = Vector512.Load(q + c);
                a0 = Vector512.FusedMultiplyAdd(x, Vector512.Load(r0 + c), a0);
                a1 = Vector512.FusedMultiplyAdd(x, Vector512.Load(r1 + c), a1);
                a2 = Vector512.FusedMultiplyAdd(x, Vector512.Load(r2 + c), a2);
                a3 = Vector512.FusedMultiplyAdd(x, Vector512.Load(r3 + c), a3);
                a4 = Vector512.FusedMultiplyAdd(x, Vector512.Load(r4 + c), a4);
                a5 = Vector512.FusedMultiplyAdd(x, Vector512.Load(r5 + c), a5);
                a6 = Vector512.FusedMultiplyAdd(x, Vector512.Load(r6 + c), a6);
                a7 = Vector512.FusedMultiplyAdd(x, Vector512.Load(r7 + c), a7);
            }
            k0 = Half(a0);
            k1 = Half(a1);
            k2 = Half(a2);
            k3 = Half(a3);
            k4 = Half(a4);
            k5 = Half(a5);
            k6 = Half(a6);
            k7 = Half(a7);
        }
        else
        {
            k0 = k1 = k2 = k3 = k4 = k5 = k6 = k7 = default;
            for (int c = 0; c < d; c += 8)
            {
                var x = Vector256.Load(q + c);
                k0 = Vector256.FusedMultiplyAdd(x, Vector256.Load(r0 + c), k0);
                k1 = Vector256.FusedMultiplyAdd(x, Vector256.Load(r1 + c), k1);
                k2 = Vector256.FusedMultiplyAdd(x, Vector256.Load(r2 + c), k2);
                k3 = Vector256.FusedMultiplyAdd(x, Vector256.Load(r3 + c), k3);
                k4 = Vector256.FusedMultiplyAdd(x, Vector256.Load(r4 + c), k4);
                k5 = Vector256.FusedMultiplyAdd(x, Vector256.Load(r5 + c), k5);
                k6 = Vector256.FusedMultiplyAdd(x, Vector256.Load(r6 + c), k6);
                k7 = Vector256.FusedMultiplyAdd(x, Vector256.Load(r7 + c), k7);
            }
        }
        Tree(k0, k1, k2, k3, k4, k5, k6, k7, scale, s);
    }

    // Dot8Keys for two query heads at once (AVX-512's 32 registers; D a multiple of 8): scores of head b go to
    // s + stride.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dot8Keys2Heads(float* qa, float* qb, float* keys, int d, float scale, float* s, int stride)
    {
        float* r0 = keys, r1 = keys + d, r2 = keys + 2 * d, r3 = keys + 3 * d;
        float* r4 = keys + 4 * d, r5 = keys + 5 * d, r6 = keys + 6 * d, r7 = keys + 7 * d;
        if ((d & 15) != 0)
        {
            Dot8Keys2Heads256(qa, qb, r0, r1, r2, r3, r4, r5, r6, r7, d, scale, s, stride);
            return;
        }
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default, b4 = default, b5 = default, b6 = default, b7 = default;
        for (int c = 0; c < d; c += 16)
        {
            var x = Vector512.Load(qa + c);
            var y = Vector512.Load(qb + c);
            var k = Vector512.Load(r0 + c);
            a0 = Vector512.FusedMultiplyAdd(x, k, a0); b0 = Vector512.FusedMultiplyAdd(y, k, b0);
            k = Vector512.Load(r1 + c);
            a1 = Vector512.FusedMultiplyAdd(x, k, a1); b1 = Vector512.FusedMultiplyAdd(y, k, b1);
            k = Vector512.Load(r2 + c);
            a2 = Vector512.FusedMultiplyAdd(x, k, a2); b2 = Vector512.FusedMultiplyAdd(y, k, b2);
            k = Vector512.Load(r3 + c);
            a3 = Vector512.FusedMultiplyAdd(x, k, a3); b3 = Vector512.FusedMultiplyAdd(y, k, b3);
            k = Vector512.Load(r4 + c);
            a4 = Vector512.FusedMultiplyAdd(x, k, a4); b4 = Vector512.FusedMultiplyAdd(y, k, b4);
            k = Vector512.Load(r5 + c);
            a5 = Vector512.FusedMultiplyAdd(x, k, a5); b5 = Vector512.FusedMultiplyAdd(y, k, b5);
            k = Vector512.Load(r6 + c);
            a6 = Vector512.FusedMultiplyAdd(x, k, a6); b6 = Vector512.FusedMultiplyAdd(y, k, b6);
            k = Vector512.Load(r7 + c);
            a7 = Vector512.FusedMultiplyAdd(x, k, a7); b7 = Vector512.FusedMultiplyAdd(y, k, b7);
        }
        Tree(Half(a0), Half(a1), Half(a2), Half(a3), Half(a4), Half(a5), Half(a6), Half(a7), scale, s);
        Tree(Half(b0), Half(b1), Half(b2), Half(b3), Half(b4), Half(b5), Half(b6), Half(b7), scale, s + stride);
    }

    // The 8-lane form for D % 16 == 8 (D = 8: stories260K, 24, 40, ...).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dot8Keys2Heads256(float* qa, float* qb, float* r0, float* r1, float* r2, float* r3, float* r4, float* r5,
        float* r6, float* r7, int d, float scale, float* s, int stride)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default, b4 = default, b5 = default, b6 = default, b7 = default;
        for (int c = 0; c < d; c += 8)
        {
            var x = Vector256.Load(qa + c);
            var y = Vector256.Load(qb + c);
            var k = Vector256.Load(r0 + c);
            a0 = Vector256.FusedMultiplyAdd(x, k, a0); b0 = Vector256.FusedMultiplyAdd(y, k, b0);
            k = Vector256.Load(r1 + c);
            a1 = Vector256.FusedMultiplyAdd(x, k, a1); b1 = Vector256.FusedMultiplyAdd(y, k, b1);
            k = Vector256.Load(r2 + c);
            a2 = Vector256.FusedMultiplyAdd(x, k, a2); b2 = Vector256.FusedMultiplyAdd(y, k, b2);
            k = Vector256.Load(r3 + c);
            a3 = Vector256.FusedMultiplyAdd(x, k, a3); b3 = Vector256.FusedMultiplyAdd(y, k, b3);
            k = Vector256.Load(r4 + c);
            a4 = Vector256.FusedMultiplyAdd(x, k, a4); b4 = Vector256.FusedMultiplyAdd(y, k, b4);
            k = Vector256.Load(r5 + c);
            a5 = Vector256.FusedMultiplyAdd(x, k, a5); b5 = Vector256.FusedMultiplyAdd(y, k, b5);
            k = Vector256.Load(r6 + c);
            a6 = Vector256.FusedMultiplyAdd(x, k, a6); b6 = Vector256.FusedMultiplyAdd(y, k, b6);
            k = Vector256.Load(r7 + c);
            a7 = Vector256.FusedMultiplyAdd(x, k, a7); b7 = Vector256.FusedMultiplyAdd(y, k, b7);
        }
        Tree(a0, a1, a2, a3, a4, a5, a6, a7, scale, s);
        Tree(b0, b1, b2, b3, b4, b5, b6, b7, scale, s + stride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Half(Vector512<float> x) => x.GetLower() + x.GetUpper();

    // [sum k0, .., sum k7] * scale stored at s: hadd pairs within 128-bit lanes, then one cross-lane add.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tree(Vector256<float> k0, Vector256<float> k1, Vector256<float> k2, Vector256<float> k3,
        Vector256<float> k4, Vector256<float> k5, Vector256<float> k6, Vector256<float> k7, float scale, float* s)
    {
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
