// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Fused attention on the CPU backend: work decomposition of the tile kernel (Cpu/Kernels/Attention/*), the
// key-split combine, and the decode kernel for Tq <= 8 (AttentionDecodeWork). See
// AttentionTileWork and AttentionDecodeWork for the algorithms. F16/BF16 operands are widened into pooled F32
// copies (the decode kernel widens K/V per key block instead) and the KeyMeans export is a pass of its own
// (AttentionStaging).
using System.Runtime.Intrinsics;

namespace HpcCore.Cpu;

using HpcCore.Kernels;
using HpcCore.Tensors;

internal sealed unsafe partial class CpuKernels : IAttentionKernels
{
    // Splitting keys across items (flash-decoding) pays only when each split keeps a few key blocks.
    private const int MinKeysPerSplit = 2 * AttentionTile.KeyBlock;

    public void Attention(in AttentionArgs a)
    {
        if (a.Batch == 0) return;
        var p = AttentionProblem.From(a);
        byte* staged = null;
        long stagedCapacity = 0;
        if (a.Q.DType != DType.F32) staged = Widen(a, ref p, out stagedCapacity);
        try
        {
            if (a.KeyMeans is { } means && p.Tk > 0)
            {
                int items = ItemsFor((long)p.Batch * p.Tk, (long)p.KvHeads * p.D);
                Pool.For(items, new AttentionKeyMeansWork { P = p, Means = Ptr<float>(means), Items = items });
            }
            Fused(p);
            if (staged != null) Cast(a.Dest, p.O, narrow: true);
        }
        finally
        {
            if (staged != null) _backend.Memory.Return(staged, stagedCapacity);
        }
    }

    /// <summary>
    /// Points p at pooled contiguous F32 copies of F16/BF16 q, k, v (converted here) and an F32 output buffer
    /// (narrowed into the destination by the caller); returns the rented block. The decode kernel widens k and v
    /// itself, per key block (AttentionHalf), so for it only q is copied.
    /// </summary>
    private byte* Widen(in AttentionArgs a, ref AttentionProblem p, out long capacity)
    {
        bool perBlock = p.Variant != AttentionVariant.Unfused && AttentionDecode.Supports(p) && a.KeyMeans == null;
        long qn = (long)p.Batch * p.Tq * p.Heads * p.D, kn = perBlock ? 0 : (long)p.Batch * p.Tk * p.KvHeads * p.D;
        byte* block = _backend.Memory.Rent(Math.Max(1, (2 * qn + 2 * kn) * sizeof(float)), out capacity);
        float* q = (float*)block, k = q + qn, v = k + kn, o = v + kn;
        Cast(a.Q, q, narrow: false);
        p.Q = q;
        p.O = o;
        p.Qs = p.Os = new HeadStrides((long)p.Tq * p.Heads * p.D, (long)p.Heads * p.D, p.D);
        if (perBlock)
        {
            p.KHalf = Ptr<ushort>(a.K);
            p.VHalf = Ptr<ushort>(a.V);
            p.HalfType = a.K.DType;
            p.K = p.V = null;
            return block;
        }
        Cast(a.K, k, narrow: false);
        Cast(a.V, v, narrow: false);
        p.K = k;
        p.V = v;
        p.Ks = p.Vs = new HeadStrides((long)p.Tk * p.KvHeads * p.D, (long)p.KvHeads * p.D, p.D);
        return block;
    }

    /// <summary>Converts a [B, T, H, D] F16/BF16 operand to (or, narrowing, from) a contiguous F32 copy.</summary>
    private void Cast(Tensor t, float* single, bool narrow)
    {
        long rows = (long)t.Shape[0] * t.Shape[1] * t.Shape[2];
        if (rows == 0) return;
        int items = ItemsFor(rows, t.Shape[3]);
        Pool.For(items, new AttentionCastWork
        {
            Half = Ptr<ushort>(t), Strides = HeadStrides.Of(t), Single = single, T = t.Shape[1], H = t.Shape[2], D = t.Shape[3],
            Items = items, Rows = rows, DType = t.DType, Narrow = narrow,
        });
    }

    /// <summary>The fused kernels (or the unfused variant) on F32 operands.</summary>
    private void Fused(in AttentionProblem p)
    {
        int rows = p.Group * p.Tq;
        if (rows == 0)
        {
            if (p.KeyTotals != null) new Span<float>(p.KeyTotals, p.Batch * p.Heads * p.Slots).Clear();
            return;
        }
        if (p.Variant == AttentionVariant.Unfused || !Vector256.IsHardwareAccelerated)
        {
            Pool.For(p.Batch * p.Heads, new AttentionUnfusedWork { P = p });
            return;
        }
        bool decode = AttentionDecode.Supports(p);
        if (decode && Vector512.IsHardwareAccelerated)
            Decode<Vector512<float>, AttentionIsa512>(p, rows, Pool.ActiveThreads, p.Batch * p.KvHeads);
        else if (decode)
            Decode<Vector256<float>, AttentionIsa256>(p, rows, Pool.ActiveThreads, p.Batch * p.KvHeads);
        else if (Vector512.IsHardwareAccelerated)
            Tiles<Vector512<float>, AttentionIsa512>(p, rows);
        else
            Tiles<Vector256<float>, AttentionIsa256>(p, rows);
    }

    /// <summary>The fused tile kernel on one ISA, then the split combine.</summary>
    private void Tiles<TV, TIsa>(in AttentionProblem p, int rows)
        where TV : struct
        where TIsa : struct, IAttentionIsa<TV>
    {
        int threads = Pool.ActiveThreads, kvUnits = p.Batch * p.KvHeads, lanes = AttentionTileWork<TV, TIsa>.Lanes;
        int laneBlocks = (rows + lanes - 1) / lanes;
        // Each (batch, kv head) is cut into chunks of consecutive lane blocks, about 64 items per core: that keeps 2
        // cores balanced on a shared machine (4 per core cost +5% on B1 H12 T1024 and B1 H12 T197 with exports; 64
        // instead of 16 gained 2-5% on T1024 once the tile got faster), and a chunk of several lane blocks lets each
        // tile prefetch the next one's query rows. With exports, items own their totals (the last chunk to finish sums
        // them into KeyTotals).
        var work = new AttentionTileWork<TV, TIsa>
        {
            P = p, Rows = rows, LaneBlocks = laneBlocks, Chunks = Math.Clamp((64 * threads + kvUnits - 1) / kvUnits, 1, laneBlocks), Splits = 1,
        };
        if (!p.Exports && (long)kvUnits * laneBlocks < 2 * threads)
        {
            work.Splits = Math.Clamp((4 * threads + kvUnits * laneBlocks - 1) / (kvUnits * laneBlocks), 1, Math.Max(1, p.Slots / MinKeysPerSplit));
        }

        int items = kvUnits * work.Chunks * work.Splits;
        byte* rented = null;
        long capacity = 0;
        if (work.Splits > 1)
        {
            rented = _backend.Memory.Rent(items * work.PartialFloats * sizeof(float), out capacity);
            work.Partials = (float*)rented;
        }
        else if (p.KeyTotals != null)
        {
            if (work.Chunks == 1)
            {
                work.TotalsSlab = p.KeyTotals;
            }
            else
            {
                long slabFloats = (long)kvUnits * work.Chunks * p.Group * p.Slots;
                rented = _backend.Memory.Rent(slabFloats * sizeof(float) + kvUnits * sizeof(int), out capacity);
                work.TotalsSlab = (float*)rented;
                work.Pending = (int*)(work.TotalsSlab + slabFloats);
                new Span<int>(work.Pending, kvUnits).Fill(work.Chunks);
            }
        }
        try
        {
            Pool.For(items, work);
            if (work.Splits > 1)
            {
                Pool.For(kvUnits * laneBlocks, new AttentionCombineWork
                {
                    P = p, Lanes = lanes, Rows = rows, LaneBlocks = laneBlocks, Splits = work.Splits, Partials = work.Partials, PartialFloats = work.PartialFloats,
                });
            }
        }
        finally
        {
            if (rented != null) _backend.Memory.Return(rented, capacity);
        }
    }

    /// <summary>
    /// Decode (Tq &lt;= 8): rows vectorised over D, keys split across cores when units are few; score exports from
    /// the kept logits once every split is combined.
    /// </summary>
    private void Decode<TV, TIsa>(in AttentionProblem p, int rows, int threads, int kvUnits)
        where TV : struct
        where TIsa : struct, IAttentionIsa<TV>
    {
        // Items are (batch, kv-head chunk, key split): all kv heads of a batch together read K/V rows in memory
        // order; keys are split until there are 4 items per core (keeping >= MinKeysPerSplit keys per split), and
        // only if that is not enough, the kv heads are chunked.
        var work = new AttentionDecodeWork<TV, TIsa> { P = p, Rows = rows, Splits = 1, HeadsPerChunk = p.KvHeads };
        int target = 4 * threads;
        if (p.Batch < target)
            work.Splits = Math.Clamp((target + p.Batch - 1) / p.Batch, 1, Math.Max(1, p.Slots / AttentionDecode.MinKeysPerSplit));
        if (p.Batch * work.Splits < 2 * threads)
        {
            int chunks = Math.Min(p.KvHeads, (target + p.Batch * work.Splits - 1) / (p.Batch * work.Splits));
            work.HeadsPerChunk = (p.KvHeads + chunks - 1) / chunks;
        }
        long partialFloats = work.Splits > 1 ? kvUnits * work.Splits * work.PartialFloats : 0;
        long logitFloats = p.Exports ? (long)kvUnits * rows * (p.Slots + 2) : 0;
        byte* rented = null;
        long capacity = 0;
        if (partialFloats + logitFloats > 0)
        {
            rented = _backend.Memory.Rent((partialFloats + logitFloats) * sizeof(float), out capacity);
            if (work.Splits > 1) work.Partials = (float*)rented;
            if (p.Exports)
            {
                work.Logits = (float*)rented + partialFloats;
                work.Stats = work.Logits + (long)kvUnits * rows * p.Slots;
            }
        }
        try
        {
            Pool.For(p.Batch * work.HeadChunks * work.Splits, work);
            if (work.Splits > 1)
            {
                Pool.For(kvUnits, new AttentionDecodeCombineWork
                {
                    P = p, Rows = rows, Splits = work.Splits, Partials = work.Partials, PartialFloats = work.PartialFloats, Stats = work.Stats,
                });
            }
            if (p.Exports) Pool.For(kvUnits, new AttentionDecodeExportWork { P = p, Rows = rows, Logits = work.Logits, Stats = work.Stats });
        }
        finally
        {
            if (rented != null) _backend.Memory.Return(rented, capacity);
        }
    }
}
