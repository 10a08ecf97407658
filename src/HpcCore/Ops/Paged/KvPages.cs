// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Ops;

using HpcCore.Diagnostics;
using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>
/// Row moves between a page pool [NPages, P, D] and dense rows [N, D], addressed by flat page rows
/// (<c>page * P + row</c>): how a paged KV cache appends new keys and values (<see cref="Write"/>, converting F32
/// projections to an F16 or BF16 cache) and compacts after eviction or reads tokens back (<see cref="Read"/>).
/// </summary>
public static class KvPages
{
    private const string WriteOp = "KvPages.Write";
    private const string ReadOp = "KvPages.Read";

    /// <summary>pages[slots[n]] = rows[n] for every row of <paramref name="rows"/> [N, D] (slots distinct).</summary>
    public static void Write(Tensor rows, Tensor pages, Tensor slots)
    {
        var args = Resolve(WriteOp, pages, rows, "rows", slots, distinct: true);
        if (args.Count > 0) PagedAttention.Kernels(pages, WriteOp).KvWriteRows(args);
    }

    /// <summary>destination[n] = pages[slots[n]] for every row of <paramref name="destination"/> [N, D].</summary>
    public static void Read(Tensor pages, Tensor slots, Tensor destination)
    {
        var args = Resolve(ReadOp, pages, destination, "destination", slots, distinct: false);
        if (args.Count > 0) PagedAttention.Kernels(pages, ReadOp).KvReadRows(args);
    }

    // rowsName: the dense side's parameter name in the public method ("rows" when writing, "destination" when reading).
    private static KvRowsArgs Resolve(string op, Tensor pages, Tensor rows, string rowsName, Tensor slots, bool distinct)
    {
        Check.Live(op, "pages", pages);
        Check.Live(op, rowsName, rows);
        Check.Live(op, "slots", slots);
        Check.SameDevice(op, rowsName, rows, pages, "pages");
        PagedAttentionValidation.FloatDType(op, "pages", pages);
        PagedAttentionValidation.FloatDType(op, rowsName, rows);
        Check.Rank(op, "pages", pages, 3, "[NPages, P, D]");
        Check.Contiguous(op, "pages", pages);
        Check.Rank(op, rowsName, rows, 2, "[N, D]");
        Check.Contiguous(op, rowsName, rows);
        if (rows.Shape[1] != pages.Shape[2])
            ThrowHelper.Argument(op, rowsName, $"has shape {rows.Shape}; its D must equal the pages' D (pages {pages.Shape})");
        Check.Operand(op, "slots", slots, pages, "pages", DType.I32);
        Check.Shape(op, "slots", slots, new Shape(rows.Shape[0]), "[N]", rows, rowsName);
        long capacity = checked((long)pages.Shape[0] * pages.Shape[1]);
        PagedAttentionValidation.SlotsInRange(op, slots, capacity, distinct);
        return new KvRowsArgs(pages, rows, slots, rows.Shape[0], rows.Shape[1]);
    }
}
