// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Probability-weighted sum of a head's values for a GQA group's query heads, walked page by page. Head dims that
// are a multiple of 8 run inline vector code: per page and per 8- (or 16-) float column block, two query heads at a
// time (four at a time when D is a multiple of 16) keep their sums in registers across the page's values (two
// accumulators each, even and odd keys, so the FMA chains overlap), each value block loaded once for those heads;
// the page's sums are then added to the output. A page (P rows of D floats) stays in L1 across its column blocks and
// head sets, so each value is read from memory once. Other head dims take TensorPrimitives per key. Every output
// depends only on its own probabilities, the values, D and P (not on the group size or the thread count).
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace HpcCore.Cpu;

/// <summary>o_g = sum_j p[g * stride + j] v_j for paged attention.</summary>
internal static unsafe class PagedValues
{
    /// <summary>Writes o [group, D] (overwritten; zeros when n = 0) from the first n values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Accumulate(float* p, int stride, int group, in PagedRows values, int n, float* o)
    {
        int d = values.D, rows = values.SegmentRows;
        new Span<float>(o, group * d).Clear();
        bool vector = PagedDots.Vectorised(d), wide = PagedDots.Wide(d);
        for (int start = 0, seg = 0; start < n; start += rows, seg++)
        {
            float* v = values.Segment(seg);
            int m = Math.Min(rows, n - start);
            if (!vector)
            {
                Generic(p + start, stride, group, v, m, d, o);
                continue;
            }
            int g = 0;
            if (wide)
                for (; g + 4 <= group; g += 4)
                {
                    // Four heads per pass (GQA groups of 4+ at D = 128): each value block is loaded once for four.
                    float* pg = p + g * stride + start;
                    for (int c = 0; c < d; c += 16) Quad512(pg, stride, v + c, d, m, o + g * d + c);
                }
            for (; g < group; g += 2)
            {
                // The last head of an odd group pairs with itself (its sums are computed twice and stored once).
                int g1 = Math.Min(g + 1, group - 1);
                float* pa = p + g * stride + start, pb = p + g1 * stride + start;
                float* oa = o + g * d, ob = o + g1 * d;
                if (wide)
                    for (int c = 0; c < d; c += 16) Pair512(pa, pb, v + c, d, m, oa + c, g1 != g ? ob + c : null);
                else
                    for (int c = 0; c < d; c += 8) Pair256(pa, pb, v + c, d, m, oa + c, g1 != g ? ob + c : null);
            }
        }
    }

    // oa += sum_j pa[j] v[j * d .. +8], ob (when not null) likewise with pb, over m values.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pair256(float* pa, float* pb, float* v, int d, int m, float* oa, float* ob)
    {
        Vector256<float> a0 = default, a1 = default, b0 = default, b1 = default;
        int j = 0;
        for (; j + 2 <= m; j += 2)
        {
            var v0 = Vector256.Load(v + (long)j * d);
            var v1 = Vector256.Load(v + (long)(j + 1) * d);
            a0 = Vector256.FusedMultiplyAdd(Vector256.Create(pa[j]), v0, a0);
            a1 = Vector256.FusedMultiplyAdd(Vector256.Create(pa[j + 1]), v1, a1);
            b0 = Vector256.FusedMultiplyAdd(Vector256.Create(pb[j]), v0, b0);
            b1 = Vector256.FusedMultiplyAdd(Vector256.Create(pb[j + 1]), v1, b1);
        }
        if (j < m)
        {
            var v0 = Vector256.Load(v + (long)j * d);
            a0 = Vector256.FusedMultiplyAdd(Vector256.Create(pa[j]), v0, a0);
            b0 = Vector256.FusedMultiplyAdd(Vector256.Create(pb[j]), v0, b0);
        }
        (Vector256.Load(oa) + (a0 + a1)).Store(oa);
        if (ob != null) (Vector256.Load(ob) + (b0 + b1)).Store(ob);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pair512(float* pa, float* pb, float* v, int d, int m, float* oa, float* ob)
    {
        Vector512<float> a0 = default, a1 = default, b0 = default, b1 = default;
        int j = 0;
        for (; j + 2 <= m; j += 2)
        {
            var v0 = Vector512.Load(v + (long)j * d);
            var v1 = Vector512.Load(v + (long)(j + 1) * d);
            a0 = Vector512.FusedMultiplyAdd(Vector512.Create(pa[j]), v0, a0);
            a1 = Vector512.FusedMultiplyAdd(Vector512.Create(pa[j + 1]), v1, a1);
            b0 = Vector512.FusedMultiplyAdd(Vector512.Create(pb[j]), v0, b0);
            b1 = Vector512.FusedMultiplyAdd(Vector512.Create(pb[j + 1]), v1, b1);
        }
        if (j < m)
        {
            var v0 = Vector512.Load(v + (long)j * d);
            a0 = Vector512.FusedMultiplyAdd(Vector512.Create(pa[j]), v0, a0);
            b0 = Vector512.FusedMultiplyAdd(Vector512.Create(pb[j]), v0, b0);
        }
        (Vector512.Load(oa) + (a0 + a1)).Store(oa);
        if (ob != null) (Vector512.Load(ob) + (b0 + b1)).Store(ob);
    }

    // o[h * d ..] += sum_j p[h * stride + j] v[j * d .. +16] for the four heads h = 0..3, over m values (the same
    // per-head sums as Pair512: each head's two accumulators take its even and odd keys).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Quad512(float* p, int stride, float* v, int d, int m, float* o)
    {
        float* p0 = p, p1 = p + stride, p2 = p + 2 * stride, p3 = p + 3 * stride;
        Vector512<float> a0 = default, a1 = default, b0 = default, b1 = default;
        Vector512<float> c0 = default, c1 = default, e0 = default, e1 = default;
        int j = 0;
        for (; j + 2 <= m; j += 2)
        {
            var v0 = Vector512.Load(v + (long)j * d);
            var v1 = Vector512.Load(v + (long)(j + 1) * d);
            a0 = Vector512.FusedMultiplyAdd(Vector512.Create(p0[j]), v0, a0);
            a1 = Vector512.FusedMultiplyAdd(Vector512.Create(p0[j + 1]), v1, a1);
            b0 = Vector512.FusedMultiplyAdd(Vector512.Create(p1[j]), v0, b0);
            b1 = Vector512.FusedMultiplyAdd(Vector512.Create(p1[j + 1]), v1, b1);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(p2[j]), v0, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(p2[j + 1]), v1, c1);
            e0 = Vector512.FusedMultiplyAdd(Vector512.Create(p3[j]), v0, e0);
            e1 = Vector512.FusedMultiplyAdd(Vector512.Create(p3[j + 1]), v1, e1);
        }
        if (j < m)
        {
            var v0 = Vector512.Load(v + (long)j * d);
            a0 = Vector512.FusedMultiplyAdd(Vector512.Create(p0[j]), v0, a0);
            b0 = Vector512.FusedMultiplyAdd(Vector512.Create(p1[j]), v0, b0);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(p2[j]), v0, c0);
            e0 = Vector512.FusedMultiplyAdd(Vector512.Create(p3[j]), v0, e0);
        }
        (Vector512.Load(o) + (a0 + a1)).Store(o);
        (Vector512.Load(o + d) + (b0 + b1)).Store(o + d);
        (Vector512.Load(o + 2 * d) + (c0 + c1)).Store(o + 2 * d);
        (Vector512.Load(o + 3 * d) + (e0 + e1)).Store(o + 3 * d);
    }

    private static void Generic(float* p, int stride, int group, float* v, int m, int d, float* o)
    {
        for (int i = 0; i < m; i++)
        {
            var value = new ReadOnlySpan<float>(v + (long)i * d, d);
            for (int g = 0; g < group; g++)
            {
                var og = new Span<float>(o + g * d, d);
                TensorPrimitives.MultiplyAdd(value, p[g * stride + i], og, og);
            }
        }
    }
}
