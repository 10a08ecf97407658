// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// One (sequence, kv head) of paged attention. Every query row of the chunk attends a prefix of the same attended
// list (the head's tokens, or its selected tokens, in order; row t sees those with index < L - Tq + t + 1), so slot
// j is the same token for every row and, with RoPE at read, the same rotation: keys are rotated once per item, not
// once per row and query head. Keys and values are read in place from F32 pages, page by page (no division per key);
// a page of another dtype, a selection (scattered rows) or RoPE makes the item first gather its attended rows into a
// dense F32 block in per-thread scratch, which the same loops then read as one long page.
// Per row: scores of the group's query heads for all visible slots (PagedDots: each key loaded once for the whole
// group), the compensation logit appended, a max-subtracted softmax per head (SimdMath exp), the weighted sum of
// values for the whole group (PagedValues: each value loaded once per group), then the exports by token index.
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace HpcCore.Cpu;

using HpcCore.Tensors;

/// <summary>Paged attention for one (sequence, kv head) per item, as a zero-allocation parallel body.</summary>
internal unsafe struct PagedAttentionWork : IParallelBody
{
    public float* Q, O;
    public byte* KeyPages, ValuePages;
    public DType PageType;
    public int* Tables, Lengths, Selected, Counts;
    public float* CompKeys, CompValues, CompBias;
    public float* KeyTotals, WindowTotals, Probabilities;
    public float* RopeCos, RopeSin;
    public int Tq, H, Hkv, D, P, MaxBlocks, MaxSel, WindowFrom, ExportKeys, Rotary;
    public float Scale;
    public bool Rope, HalfSplit;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public readonly void Invoke(int item)
    {
        int b = item / Hkv, g = item % Hkv, group = H / Hkv, h0 = g * group, d = D;
        int length = Lengths[item];
        int* table = Tables + (long)item * MaxBlocks;
        int* sel = Selected == null ? null : Selected + (long)item * MaxSel;
        int slots = sel == null ? length : Counts[item];
        bool comp = CompBias != null && !float.IsNegativeInfinity(CompBias[item]);
        int e = ExportKeys;

        for (int hi = 0; hi < group; hi++)
        {
            if (KeyTotals != null) new Span<float>(KeyTotals + ((long)b * H + h0 + hi) * e, e).Clear();
            if (WindowTotals != null) new Span<float>(WindowTotals + ((long)b * H + h0 + hi) * e, e).Clear();
        }

        // Scratch: gathered keys [slots, D] and values [slots, D] when not read in place, the group's rotated
        // queries [group, D] (RoPE; else q is read in place), scores [group, slots + 1] (+1: the compensation logit).
        bool keysInPlace = PageType == DType.F32 && sel == null && !Rope;
        bool valuesInPlace = PageType == DType.F32 && sel == null;
        long kFloats = keysInPlace ? 0 : Round16((long)slots * d), vFloats = valuesInPlace ? 0 : Round16((long)slots * d);
        int stride = (int)Round16(slots + 1L);
        long qFloats = Round16((long)group * d);
        float* scratch = AttentionScratch.Get(kFloats + vFloats + qFloats + (long)group * stride);
        float* kd = scratch, vd = kd + kFloats, qr = vd + vFloats, s = qr + qFloats;

        var keys = keysInPlace ? new PagedRows((float*)KeyPages, table, P, d) : new PagedRows(kd, null, Math.Max(1, slots), d);
        var values = valuesInPlace ? new PagedRows((float*)ValuePages, table, P, d) : new PagedRows(vd, null, Math.Max(1, slots), d);
        if (!keysInPlace) Gather(KeyPages, table, sel, slots, kd, rotate: Rope);
        if (!valuesInPlace) Gather(ValuePages, table, sel, slots, vd, rotate: false);

        int below = 0; // selected tokens with index < the current row's limit (rows only ever see more)
        for (int t = 0; t < Tq; t++)
        {
            int limit = length - Tq + t + 1, n;
            if (sel == null) n = Math.Clamp(limit, 0, length);
            else
            {
                while (below < slots && sel[below] < limit) below++;
                n = below;
            }
            long rowBase = ((long)b * Tq + t) * H + h0;
            float* q = Q + rowBase * d, o = O + rowBase * d;
            if (Rope)
            {
                for (int hi = 0; hi < group; hi++) Rotate(q + hi * d, qr + hi * d, n - 1);
                q = qr;
            }

            PagedDots.Scores(q, group, keys, n, Scale, s, stride);
            int m = n;
            if (comp)
            {
                float* kc = CompKeys + (long)item * d;
                float bias = CompBias[item];
                for (int hi = 0; hi < group; hi++) s[hi * stride + n] = PagedDots.Dot(q + hi * d, kc, d, Scale) + bias;
                m = n + 1;
            }
            for (int hi = 0; hi < group; hi++) PagedSoftmax.Row(s + hi * stride, m);

            PagedValues.Accumulate(s, stride, group, values, n, o);
            if (comp)
            {
                var vc = new ReadOnlySpan<float>(CompValues + (long)item * d, d);
                for (int hi = 0; hi < group; hi++)
                {
                    var oh = new Span<float>(o + hi * d, d);
                    TensorPrimitives.MultiplyAdd(vc, s[hi * stride + n], oh, oh);
                }
            }
            if (KeyTotals != null || WindowTotals != null || Probabilities != null) Export(b, t, h0, group, s, stride, sel, n);
        }
    }

    private static long Round16(long n) => (n + 15) & ~15L;

    // Probabilities, key totals and window totals by token index for row t of the group's heads.
    private readonly void Export(int b, int t, int h0, int group, float* s, int stride, int* sel, int n)
    {
        long e = ExportKeys;
        for (int hi = 0; hi < group; hi++)
        {
            float* p = s + hi * stride;
            int h = h0 + hi;
            if (Probabilities != null)
            {
                float* row = Probabilities + (((long)b * Tq + t) * H + h) * e;
                new Span<float>(row, (int)e).Clear();
                Scatter(p, sel, n, row);
            }
            if (KeyTotals != null) Scatter(p, sel, n, KeyTotals + ((long)b * H + h) * e);
            if (WindowTotals != null && t >= WindowFrom) Scatter(p, sel, n, WindowTotals + ((long)b * H + h) * e);
        }
    }

    // row[token(j)] += p[j] for the first n slots.
    private static void Scatter(float* p, int* sel, int n, float* row)
    {
        if (sel == null)
        {
            var r = new Span<float>(row, n);
            TensorPrimitives.Add(r, new ReadOnlySpan<float>(p, n), r);
            return;
        }
        for (int j = 0; j < n; j++) row[sel[j]] += p[j];
    }

    // The attended rows (token j or sel[j]) of a page pool, widened to F32 (and rotated at slot j) into dst [slots, D].
    // Without a selection a page's rows are consecutive tokens, so they are widened in one call per page (a call per
    // row costs more than the row at D = 8).
    private readonly void Gather(byte* pages, int* table, int* sel, int slots, float* dst, bool rotate)
    {
        int d = D, p = P;
        int size = PageType == DType.F32 ? 4 : 2;
        if (sel == null)
            for (int start = 0; start < slots; start += p)
                PagedRows.Widen(pages + (long)table[start / p] * p * d * size, PageType, dst + (long)start * d, Math.Min(p, slots - start) * d);
        else
            for (int j = 0; j < slots; j++)
            {
                int token = sel[j];
                PagedRows.Widen(pages + ((long)table[token / p] * p + token % p) * d * size, PageType, dst + (long)j * d, d);
            }
        if (rotate)
            for (int j = 0; j < slots; j++) Rotate(dst + (long)j * d, dst + (long)j * d, j);
    }

    // RoPE of one head vector at position pos (may be -1: a row that sees no key but the compensation token), as
    // CpuRope computes it: x0 cos - x1 sin, x0 sin + x1 cos in float with the table's float cos/sin.
    private readonly void Rotate(float* x, float* dst, int pos)
    {
        int pairs = Rotary / 2, d = D;
        float sign = pos < 0 ? -1f : 1f;
        float* cos = RopeCos + (long)Math.Abs(pos) * pairs, sin = RopeSin + (long)Math.Abs(pos) * pairs;
        for (int i = 0; i < pairs; i++)
        {
            int i0 = HalfSplit ? i : 2 * i, i1 = HalfSplit ? i + pairs : 2 * i + 1;
            float x0 = x[i0], x1 = x[i1], c = cos[i], sn = sign * sin[i];
            dst[i0] = x0 * c - x1 * sn;
            dst[i1] = x0 * sn + x1 * c;
        }
        if (dst != x)
            for (int j = 2 * pairs; j < d; j++) dst[j] = x[j];
    }
}
