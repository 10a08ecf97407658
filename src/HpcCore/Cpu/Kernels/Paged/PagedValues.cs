// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Probability-weighted sum of a head's values for a GQA group's query heads, page by page. Outputs are accumulated in
// registers over a page's keys in blocks of up to four heads x (4 vectors of D), so each value vector is loaded once
// per block of heads and every FMA of a key is independent of the others (no add-latency chain); the output block is
// loaded and stored once per page, not once per key (the old kernels' TensorPrimitives.MultiplyAdd per key and head
// read and wrote the whole output row for every key). The head-block size is a generic struct argument, so the JIT
// compiles a 4-, 2- and 1-head kernel with only the registers each needs. Head dims that are not a multiple of 8 take
// TensorPrimitives per key.
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace HpcCore.Cpu;

/// <summary>o_g = sum_j p[g * stride + j] v_j for paged attention.</summary>
internal static unsafe class PagedValues
{
    /// <summary>Writes o [group, D] (overwritten; zeros when n = 0) from the first n values.</summary>
    public static void Accumulate(float* p, int stride, int group, in PagedRows values, int n, float* o)
    {
        int d = values.D, rows = values.SegmentRows;
        new Span<float>(o, group * d).Clear();
        bool wide = Vector512.IsHardwareAccelerated && d % 16 == 0, narrow = Vector256.IsHardwareAccelerated && d % 8 == 0;
        int segments = (n + rows - 1) / rows;
        bool prefetch = values.WorthPrefetching(n);
        if (prefetch)
        {
            values.Prefetch(0, segments, rows);
            values.Prefetch(1, segments, rows);
        }
        for (int start = 0, seg = 0; start < n; start += rows, seg++)
        {
            if (prefetch) values.Prefetch(seg + PagedRows.PrefetchAhead, segments, rows);
            float* v = values.Segment(seg);
            int m = Math.Min(rows, n - start);
            float* ps = p + start;
            if (wide || narrow)
            {
                int g = 0;
                for (; g + 4 <= group; g += 4) Heads<Four>(ps + g * stride, stride, v, m, d, o + g * d, wide);
                if (g + 2 <= group)
                {
                    Heads<Two>(ps + g * stride, stride, v, m, d, o + g * d, wide);
                    g += 2;
                }
                if (g < group) Heads<One>(ps + g * stride, stride, v, m, d, o + g * d, wide);
                continue;
            }
            for (int i = 0; i < m; i++)
            {
                var value = new ReadOnlySpan<float>(v + (long)i * d, d);
                for (int g = 0; g < group; g++)
                {
                    var og = new Span<float>(o + g * d, d);
                    TensorPrimitives.MultiplyAdd(value, ps[g * stride + i], og, og);
                }
            }
        }
    }

    /// <summary>Heads in a register block.</summary>
    private interface IHeads
    {
        static abstract int Count { get; }
    }

    private struct One : IHeads
    {
        public static int Count => 1;
    }

    private struct Two : IHeads
    {
        public static int Count => 2;
    }

    private struct Four : IHeads
    {
        public static int Count => 4;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Heads<TH>(float* p, int stride, float* v, int m, int d, float* o, bool wide) where TH : struct, IHeads
    {
        if (wide) Heads512<TH>(p, stride, v, m, d, o);
        else Heads256<TH>(p, stride, v, m, d, o);
    }

    // o[h, c..] += sum_i p[h * stride + i] v[i, c..] for TH heads, 64 dims (4 x 16) at a time, then 16 at a time.
    private static void Heads512<TH>(float* p, int stride, float* v, int m, int d, float* o) where TH : struct, IHeads
    {
        int heads = TH.Count;
        float* p0 = p, p1 = p + stride, p2 = p + 2 * stride, p3 = p + 3 * stride;
        float* o0 = o, o1 = o + d, o2 = o + 2 * d, o3 = o + 3 * d;
        int c = 0;
        for (; c + 64 <= d; c += 64)
        {
            Vector512<float> a00 = Vector512.Load(o0 + c), a01 = Vector512.Load(o0 + c + 16), a02 = Vector512.Load(o0 + c + 32), a03 = Vector512.Load(o0 + c + 48);
            Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
            Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
            Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
            if (heads > 1) { a10 = Vector512.Load(o1 + c); a11 = Vector512.Load(o1 + c + 16); a12 = Vector512.Load(o1 + c + 32); a13 = Vector512.Load(o1 + c + 48); }
            if (heads > 2)
            {
                a20 = Vector512.Load(o2 + c); a21 = Vector512.Load(o2 + c + 16); a22 = Vector512.Load(o2 + c + 32); a23 = Vector512.Load(o2 + c + 48);
                a30 = Vector512.Load(o3 + c); a31 = Vector512.Load(o3 + c + 16); a32 = Vector512.Load(o3 + c + 32); a33 = Vector512.Load(o3 + c + 48);
            }
            float* vc = v + c;
            for (int i = 0; i < m; i++, vc += d)
            {
                var x0 = Vector512.Load(vc);
                var x1 = Vector512.Load(vc + 16);
                var x2 = Vector512.Load(vc + 32);
                var x3 = Vector512.Load(vc + 48);
                var w = Vector512.Create(p0[i]);
                a00 = Vector512.FusedMultiplyAdd(w, x0, a00); a01 = Vector512.FusedMultiplyAdd(w, x1, a01);
                a02 = Vector512.FusedMultiplyAdd(w, x2, a02); a03 = Vector512.FusedMultiplyAdd(w, x3, a03);
                if (heads > 1)
                {
                    w = Vector512.Create(p1[i]);
                    a10 = Vector512.FusedMultiplyAdd(w, x0, a10); a11 = Vector512.FusedMultiplyAdd(w, x1, a11);
                    a12 = Vector512.FusedMultiplyAdd(w, x2, a12); a13 = Vector512.FusedMultiplyAdd(w, x3, a13);
                }
                if (heads > 2)
                {
                    w = Vector512.Create(p2[i]);
                    a20 = Vector512.FusedMultiplyAdd(w, x0, a20); a21 = Vector512.FusedMultiplyAdd(w, x1, a21);
                    a22 = Vector512.FusedMultiplyAdd(w, x2, a22); a23 = Vector512.FusedMultiplyAdd(w, x3, a23);
                    w = Vector512.Create(p3[i]);
                    a30 = Vector512.FusedMultiplyAdd(w, x0, a30); a31 = Vector512.FusedMultiplyAdd(w, x1, a31);
                    a32 = Vector512.FusedMultiplyAdd(w, x2, a32); a33 = Vector512.FusedMultiplyAdd(w, x3, a33);
                }
            }
            a00.Store(o0 + c); a01.Store(o0 + c + 16); a02.Store(o0 + c + 32); a03.Store(o0 + c + 48);
            if (heads > 1) { a10.Store(o1 + c); a11.Store(o1 + c + 16); a12.Store(o1 + c + 32); a13.Store(o1 + c + 48); }
            if (heads > 2)
            {
                a20.Store(o2 + c); a21.Store(o2 + c + 16); a22.Store(o2 + c + 32); a23.Store(o2 + c + 48);
                a30.Store(o3 + c); a31.Store(o3 + c + 16); a32.Store(o3 + c + 32); a33.Store(o3 + c + 48);
            }
        }
        // One vector per head: even and odd keys in separate accumulators, so one or two heads still have two or four
        // independent FMA chains per key pair instead of waiting on the add latency.
        for (; c < d; c += 16)
        {
            Vector512<float> a0 = Vector512.Load(o0 + c), a1 = default, a2 = default, a3 = default;
            Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default;
            if (heads > 1) a1 = Vector512.Load(o1 + c);
            if (heads > 2) { a2 = Vector512.Load(o2 + c); a3 = Vector512.Load(o3 + c); }
            float* vc = v + c;
            int i = 0;
            for (; i + 2 <= m; i += 2, vc += 2 * d)
            {
                var x = Vector512.Load(vc);
                var y = Vector512.Load(vc + d);
                a0 = Vector512.FusedMultiplyAdd(Vector512.Create(p0[i]), x, a0);
                b0 = Vector512.FusedMultiplyAdd(Vector512.Create(p0[i + 1]), y, b0);
                if (heads > 1)
                {
                    a1 = Vector512.FusedMultiplyAdd(Vector512.Create(p1[i]), x, a1);
                    b1 = Vector512.FusedMultiplyAdd(Vector512.Create(p1[i + 1]), y, b1);
                }
                if (heads > 2)
                {
                    a2 = Vector512.FusedMultiplyAdd(Vector512.Create(p2[i]), x, a2);
                    b2 = Vector512.FusedMultiplyAdd(Vector512.Create(p2[i + 1]), y, b2);
                    a3 = Vector512.FusedMultiplyAdd(Vector512.Create(p3[i]), x, a3);
                    b3 = Vector512.FusedMultiplyAdd(Vector512.Create(p3[i + 1]), y, b3);
                }
            }
            if (i < m)
            {
                var x = Vector512.Load(vc);
                a0 = Vector512.FusedMultiplyAdd(Vector512.Create(p0[i]), x, a0);
                if (heads > 1) a1 = Vector512.FusedMultiplyAdd(Vector512.Create(p1[i]), x, a1);
                if (heads > 2)
                {
                    a2 = Vector512.FusedMultiplyAdd(Vector512.Create(p2[i]), x, a2);
                    a3 = Vector512.FusedMultiplyAdd(Vector512.Create(p3[i]), x, a3);
                }
            }
            (a0 + b0).Store(o0 + c);
            if (heads > 1) (a1 + b1).Store(o1 + c);
            if (heads > 2) { (a2 + b2).Store(o2 + c); (a3 + b3).Store(o3 + c); }
        }
    }

    // The AVX2 shape: 16 ymm registers hold 4 heads x 2 vectors (16 dims) of outputs plus the loads; then 8 at a time.
    private static void Heads256<TH>(float* p, int stride, float* v, int m, int d, float* o) where TH : struct, IHeads
    {
        int heads = TH.Count;
        float* p0 = p, p1 = p + stride, p2 = p + 2 * stride, p3 = p + 3 * stride;
        float* o0 = o, o1 = o + d, o2 = o + 2 * d, o3 = o + 3 * d;
        int c = 0;
        for (; c + 16 <= d; c += 16)
        {
            Vector256<float> a00 = Vector256.Load(o0 + c), a01 = Vector256.Load(o0 + c + 8);
            Vector256<float> a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
            if (heads > 1) { a10 = Vector256.Load(o1 + c); a11 = Vector256.Load(o1 + c + 8); }
            if (heads > 2)
            {
                a20 = Vector256.Load(o2 + c); a21 = Vector256.Load(o2 + c + 8);
                a30 = Vector256.Load(o3 + c); a31 = Vector256.Load(o3 + c + 8);
            }
            float* vc = v + c;
            for (int i = 0; i < m; i++, vc += d)
            {
                var x0 = Vector256.Load(vc);
                var x1 = Vector256.Load(vc + 8);
                var w = Vector256.Create(p0[i]);
                a00 = Vector256.FusedMultiplyAdd(w, x0, a00); a01 = Vector256.FusedMultiplyAdd(w, x1, a01);
                if (heads > 1)
                {
                    w = Vector256.Create(p1[i]);
                    a10 = Vector256.FusedMultiplyAdd(w, x0, a10); a11 = Vector256.FusedMultiplyAdd(w, x1, a11);
                }
                if (heads > 2)
                {
                    w = Vector256.Create(p2[i]);
                    a20 = Vector256.FusedMultiplyAdd(w, x0, a20); a21 = Vector256.FusedMultiplyAdd(w, x1, a21);
                    w = Vector256.Create(p3[i]);
                    a30 = Vector256.FusedMultiplyAdd(w, x0, a30); a31 = Vector256.FusedMultiplyAdd(w, x1, a31);
                }
            }
            a00.Store(o0 + c); a01.Store(o0 + c + 8);
            if (heads > 1) { a10.Store(o1 + c); a11.Store(o1 + c + 8); }
            if (heads > 2) { a20.Store(o2 + c); a21.Store(o2 + c + 8); a30.Store(o3 + c); a31.Store(o3 + c + 8); }
        }
        for (; c < d; c += 8)
        {
            Vector256<float> a0 = Vector256.Load(o0 + c), a1 = default, a2 = default, a3 = default;
            Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;
            if (heads > 1) a1 = Vector256.Load(o1 + c);
            if (heads > 2) { a2 = Vector256.Load(o2 + c); a3 = Vector256.Load(o3 + c); }
            float* vc = v + c;
            int i = 0;
            for (; i + 2 <= m; i += 2, vc += 2 * d)
            {
                var x = Vector256.Load(vc);
                var y = Vector256.Load(vc + d);
                a0 = Vector256.FusedMultiplyAdd(Vector256.Create(p0[i]), x, a0);
                b0 = Vector256.FusedMultiplyAdd(Vector256.Create(p0[i + 1]), y, b0);
                if (heads > 1)
                {
                    a1 = Vector256.FusedMultiplyAdd(Vector256.Create(p1[i]), x, a1);
                    b1 = Vector256.FusedMultiplyAdd(Vector256.Create(p1[i + 1]), y, b1);
                }
                if (heads > 2)
                {
                    a2 = Vector256.FusedMultiplyAdd(Vector256.Create(p2[i]), x, a2);
                    b2 = Vector256.FusedMultiplyAdd(Vector256.Create(p2[i + 1]), y, b2);
                    a3 = Vector256.FusedMultiplyAdd(Vector256.Create(p3[i]), x, a3);
                    b3 = Vector256.FusedMultiplyAdd(Vector256.Create(p3[i + 1]), y, b3);
                }
            }
            if (i < m)
            {
                var x = Vector256.Load(vc);
                a0 = Vector256.FusedMultiplyAdd(Vector256.Create(p0[i]), x, a0);
                if (heads > 1) a1 = Vector256.FusedMultiplyAdd(Vector256.Create(p1[i]), x, a1);
                if (heads > 2)
                {
                    a2 = Vector256.FusedMultiplyAdd(Vector256.Create(p2[i]), x, a2);
                    a3 = Vector256.FusedMultiplyAdd(Vector256.Create(p3[i]), x, a3);
                }
            }
            (a0 + b0).Store(o0 + c);
            if (heads > 1) (a1 + b1).Store(o1 + c);
            if (heads > 2) { (a2 + b2).Store(o2 + c); (a3 + b3).Store(o3 + c); }
        }
    }
}
