// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Fused attention on the CPU backend: work decomposition of the tile kernel (Cpu/Kernels/Attention/*), the
// key-split combine and the totals reduction, and the decode kernel for Tq <= 8 (AttentionDecodeWork). See
// AttentionTileWork and AttentionDecodeWork for the algorithms.
using System.Runtime.Intrinsics;

namespace HpcCore.Cpu;

using HpcCore.Diagnostics;
using HpcCore.Kernels;

internal sealed unsafe partial class CpuKernels : IAttentionKernels
{
    // Splitting keys across items (flash-decoding) pays only when each split keeps a few key blocks.
    private const int MinKeysPerSplit = 2 * AttentionTileWork.KeyBlock;

    public void Attention(in AttentionArgs a)
    {
        if (a.Q.DType != Tensors.DType.F32) ThrowHelper.OptionNotSupported(Ops.Attention.Op, $"dtype {a.Q.DType}", "the CPU backend");
        if (a.BlockMask is not null) ThrowHelper.OptionNotSupported(Ops.Attention.Op, "BlockMask", "the CPU backend");
        if (a.KeyMeans is not null) ThrowHelper.OptionNotSupported(Ops.Attention.Op, "KeyMeans", "the CPU backend");
        var p = AttentionProblem.From(a);
        int rows = p.Group * p.Tq;
        if (a.Batch == 0 || a.Heads == 0) return;
        if (rows == 0)
        {
            a.KeyTotals?.AsSpan<float>().Clear();
            return;
        }
        if (a.Variant == AttentionVariant.Unfused || !Vector512.IsHardwareAccelerated)
        {
            Pool.For(a.Batch * a.Heads, new AttentionUnfusedWork { P = p });
            return;
        }

        int threads = Pool.Threads, kvUnits = a.Batch * a.KvHeads;
        if (AttentionDecodeWork.Supports(p))
        {
            Decode(p, rows, threads, kvUnits);
            return;
        }
        int laneBlocks = (rows + AttentionMicroKernels.Lanes - 1) / AttentionMicroKernels.Lanes;
        var work = new AttentionTileWork { P = p, Rows = rows, LaneBlocks = laneBlocks, Chunks = laneBlocks, Splits = 1 };
        if (p.Exports)
        {
            // Items own their totals, so each (batch, kv head) is cut into few chunks (each summed into KeyTotals
            // afterwards): about 16 items per core, which keeps 2 cores balanced on a shared machine (4 per core
            // cost +5% on B1 H12 T1024 and B1 H12 T197).
            work.Chunks = Math.Clamp((16 * threads + kvUnits - 1) / kvUnits, 1, laneBlocks);
        }
        else if ((long)kvUnits * laneBlocks < 2 * threads)
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
                rented = _backend.Memory.Rent((long)kvUnits * work.Chunks * p.Group * p.Slots * sizeof(float), out capacity);
                work.TotalsSlab = (float*)rented;
            }
        }
        try
        {
            Pool.For(items, work);
            if (work.Splits > 1)
                Pool.For(kvUnits * laneBlocks, new AttentionCombineWork { Tile = work });
            else if (work.TotalsSlab != null && work.Chunks > 1)
            {
                Pool.For(a.Batch * a.Heads, new AttentionTotalsWork
                {
                    Slab = work.TotalsSlab, Totals = p.KeyTotals, KvHeads = p.KvHeads, Group = p.Group, Chunks = work.Chunks, Slots = p.Slots,
                });
            }
        }
        finally
        {
            if (rented != null) _backend.Memory.Return(rented, capacity);
        }
    }

    /// <summary>Decode (Tq &lt;= 8, no exports): rows vectorised over D, keys split across cores when units are few.</summary>
    private void Decode(in AttentionProblem p, int rows, int threads, int kvUnits)
    {
        // Items are (batch, kv-head chunk, key split): all kv heads of a batch together read K/V rows in memory
        // order; keys are split until there are 4 items per core (keeping >= MinKeysPerSplit keys per split), and
        // only if that is not enough, the kv heads are chunked.
        var work = new AttentionDecodeWork { P = p, Rows = rows, Splits = 1, HeadsPerChunk = p.KvHeads };
        int target = 4 * threads;
        if (p.Batch < target)
            work.Splits = Math.Clamp((target + p.Batch - 1) / p.Batch, 1, Math.Max(1, p.Slots / AttentionDecodeWork.MinKeysPerSplit));
        if (p.Batch * work.Splits < 2 * threads)
        {
            int chunks = Math.Min(p.KvHeads, (target + p.Batch * work.Splits - 1) / (p.Batch * work.Splits));
            work.HeadsPerChunk = (p.KvHeads + chunks - 1) / chunks;
        }
        byte* rented = null;
        long capacity = 0;
        if (work.Splits > 1)
        {
            rented = _backend.Memory.Rent(kvUnits * work.Splits * work.PartialFloats * sizeof(float), out capacity);
            work.Partials = (float*)rented;
        }
        try
        {
            Pool.For(p.Batch * work.HeadChunks * work.Splits, work);
            if (work.Splits > 1) Pool.For(kvUnits, new AttentionDecodeCombineWork { Decode = work });
        }
        finally
        {
            if (rented != null) _backend.Memory.Return(rented, capacity);
        }
    }
}
