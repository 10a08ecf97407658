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
            for (int g = 0; g < group; g++)
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
