// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Scores of a GQA group's query heads against a head's keys, walked page by page. Head dims that are a multiple of
// 8 (x86 with AVX) run inline vector code: eight keys at a time, each key's products folded to one 8-float vector
// (Vector512 when D is a multiple of 16), then one horizontal-add tree turns the eight into eight scores stored
// with one vector store. A library call per key (TensorPrimitives.Dot) costs more than the key's work at small D
// (stories260K: D = 8, one multiply per key), and its per-key reduction dominates at D = 128. Other head dims, or
// machines without AVX, take TensorPrimitives per key. Every score depends only on q, its key and D.
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace HpcCore.Cpu;

/// <summary>q.k scores for paged attention.</summary>
internal static unsafe class PagedDots
{
    /// <summary>s[g * stride + j] = scale * q_g . k_j for the group's queries q [group, D] and the first n keys.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scores(float* q, int group, in PagedRows keys, int n, float scale, float* s, int stride)
    {
        int d = keys.D, p = keys.SegmentRows;
        if (!Vectorised(d))
        {
            Generic(q, group, keys, n, scale, s, stride);
            return;
        }
        if (d == 8)
        {
            ScoresD8(q, group, keys, n, scale, s, stride);
            return;
        }
        bool wide = Wide(d);
        var vs = Vector256.Create(scale);
        for (int start = 0, seg = 0; start < n; start += p, seg++)
        {
            float* k = keys.Segment(seg);
            int m = Math.Min(p, n - start);
            int g0 = 0;
            if (wide)
                for (; g0 + 2 <= group; g0 += 2)
                {
                    // Two query heads per block of eight keys: each key slice is loaded once for both.
                    float* qa = q + g0 * d, sa = s + g0 * stride + start, sb = sa + stride;
                    int i = 0;
                    for (; i + 8 <= m; i += 8) Block8Pair(qa, qa + d, k + (long)i * d, d, vs, sa + i, sb + i);
                    for (; i < m; i++)
                    {
                        sa[i] = Vector256.Sum(Fold(qa, k + (long)i * d, d, true)) * scale;
                        sb[i] = Vector256.Sum(Fold(qa + d, k + (long)i * d, d, true)) * scale;
                    }
                }
            for (int g = g0; g < group; g++)
            {
                float* qg = q + g * d, sg = s + g * stride + start;
                int i = 0;
                for (; i + 8 <= m; i += 8)
                {
                    float* kb = k + (long)i * d;
                    var sums = GemvKernel256.Sum8(
                        Fold(qg, kb, d, wide), Fold(qg, kb + d, d, wide), Fold(qg, kb + 2 * d, d, wide), Fold(qg, kb + 3 * d, d, wide),
                        Fold(qg, kb + 4 * d, d, wide), Fold(qg, kb + 5 * d, d, wide), Fold(qg, kb + 6 * d, d, wide), Fold(qg, kb + 7 * d, d, wide));
                    (sums * vs).Store(sg + i);
                }
                for (; i < m; i++) sg[i] = Vector256.Sum(Fold(qg, k + (long)i * d, d, wide)) * scale;
            }
        }
    }

    // D = 8 (stories260K-sized heads): a key is one vector, the query stays in a register, and a block of eight keys
    // is eight multiplies and one horizontal-add tree (the general path's folds, without their loops and branches).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScoresD8(float* q, int group, in PagedRows keys, int n, float scale, float* s, int stride)
    {
        int p = keys.SegmentRows;
        var vs = Vector256.Create(scale);
        for (int start = 0, seg = 0; start < n; start += p, seg++)
        {
            float* k = keys.Segment(seg);
            int m = Math.Min(p, n - start);
            for (int g = 0; g < group; g++)
            {
                var qv = Vector256.Load(q + g * 8);
                float* sg = s + g * stride + start;
                int i = 0;
                for (; i + 8 <= m; i += 8)
                {
                    float* kb = k + (long)i * 8;
                    var sums = GemvKernel256.Sum8(
                        qv * Vector256.Load(kb), qv * Vector256.Load(kb + 8), qv * Vector256.Load(kb + 16), qv * Vector256.Load(kb + 24),
                        qv * Vector256.Load(kb + 32), qv * Vector256.Load(kb + 40), qv * Vector256.Load(kb + 48), qv * Vector256.Load(kb + 56));
                    (sums * vs).Store(sg + i);
                }
                for (; i < m; i++) sg[i] = Vector256.Sum(qv * Vector256.Load(k + (long)i * 8)) * scale;
            }
        }
    }

    /// <summary>Head dims the vector paths take: multiples of 8, on x86 with AVX (the horizontal-add tree).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Vectorised(int d) => d % 8 == 0 && d > 0 && Avx.IsSupported && Vector256.IsHardwareAccelerated;

    /// <summary>Whether <paramref name="d"/> runs in Vector512 steps (a multiple of 16 on a machine with accelerated Vector512).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Wide(int d) => d % 16 == 0 && Vector512.IsHardwareAccelerated;

    // Scores of heads qa and qb against eight keys [8, d] (d a multiple of 16): 16 accumulators walk the column
    // blocks together, in the order Fold sums them (a product, then FMAs by ascending column), so the results are
    // Fold's bit for bit.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block8Pair(float* qa, float* qb, float* k, int d, Vector256<float> scale, float* sa, float* sb)
    {
        var x = Vector512.Load(qa);
        var y = Vector512.Load(qb);
        var k0 = Vector512.Load(k); var k1 = Vector512.Load(k + d); var k2 = Vector512.Load(k + 2 * d); var k3 = Vector512.Load(k + 3 * d);
        var k4 = Vector512.Load(k + 4 * d); var k5 = Vector512.Load(k + 5 * d); var k6 = Vector512.Load(k + 6 * d); var k7 = Vector512.Load(k + 7 * d);
        Vector512<float> a0 = x * k0, a1 = x * k1, a2 = x * k2, a3 = x * k3, a4 = x * k4, a5 = x * k5, a6 = x * k6, a7 = x * k7;
        Vector512<float> b0 = y * k0, b1 = y * k1, b2 = y * k2, b3 = y * k3, b4 = y * k4, b5 = y * k5, b6 = y * k6, b7 = y * k7;
        for (int c = 16; c < d; c += 16)
        {
            x = Vector512.Load(qa + c);
            y = Vector512.Load(qb + c);
            k0 = Vector512.Load(k + c); k1 = Vector512.Load(k + d + c); k2 = Vector512.Load(k + 2 * d + c); k3 = Vector512.Load(k + 3 * d + c);
            a0 = Vector512.FusedMultiplyAdd(x, k0, a0); b0 = Vector512.FusedMultiplyAdd(y, k0, b0);
            a1 = Vector512.FusedMultiplyAdd(x, k1, a1); b1 = Vector512.FusedMultiplyAdd(y, k1, b1);
            a2 = Vector512.FusedMultiplyAdd(x, k2, a2); b2 = Vector512.FusedMultiplyAdd(y, k2, b2);
            a3 = Vector512.FusedMultiplyAdd(x, k3, a3); b3 = Vector512.FusedMultiplyAdd(y, k3, b3);
            k4 = Vector512.Load(k + 4 * d + c); k5 = Vector512.Load(k + 5 * d + c); k6 = Vector512.Load(k + 6 * d + c); k7 = Vector512.Load(k + 7 * d + c);
            a4 = Vector512.FusedMultiplyAdd(x, k4, a4); b4 = Vector512.FusedMultiplyAdd(y, k4, b4);
            a5 = Vector512.FusedMultiplyAdd(x, k5, a5); b5 = Vector512.FusedMultiplyAdd(y, k5, b5);
            a6 = Vector512.FusedMultiplyAdd(x, k6, a6); b6 = Vector512.FusedMultiplyAdd(y, k6, b6);
            a7 = Vector512.FusedMultiplyAdd(x, k7, a7); b7 = Vector512.FusedMultiplyAdd(y, k7, b7);
        }
        (GemvKernel256.Sum8(Half(a0), Half(a1), Half(a2), Half(a3), Half(a4), Half(a5), Half(a6), Half(a7)) * scale).Store(sa);
        (GemvKernel256.Sum8(Half(b0), Half(b1), Half(b2), Half(b3), Half(b4), Half(b5), Half(b6), Half(b7)) * scale).Store(sb);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Half(Vector512<float> v) => v.GetLower() + v.GetUpper();

    // The products q[c] k[c] summed over the 8- (or 16-) float column blocks, folded to one 8-float vector.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Fold(float* q, float* k, int d, bool wide)
    {
        if (wide)
        {
            var acc = Vector512.Load(q) * Vector512.Load(k);
            for (int c = 16; c < d; c += 16) acc = Vector512.FusedMultiplyAdd(Vector512.Load(q + c), Vector512.Load(k + c), acc);
            return acc.GetLower() + acc.GetUpper();
        }
        var a = Vector256.Load(q) * Vector256.Load(k);
        for (int c = 8; c < d; c += 8) a = Vector256.FusedMultiplyAdd(Vector256.Load(q + c), Vector256.Load(k + c), a);
        return a;
    }

    private static void Generic(float* q, int group, in PagedRows keys, int n, float scale, float* s, int stride)
    {
        int d = keys.D, p = keys.SegmentRows;
        for (int start = 0, seg = 0; start < n; start += p, seg++)
        {
            float* k = keys.Segment(seg);
            int m = Math.Min(p, n - start);
            for (int i = 0; i < m; i++)
            {
                var key = new ReadOnlySpan<float>(k + (long)i * d, d);
                for (int g = 0; g < group; g++)
                    s[g * stride + start + i] = TensorPrimitives.Dot(new ReadOnlySpan<float>(q + g * d, d), key) * scale;
            }
        }
    }
}
