// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Addressing of a head's rows in a page pool: token i lives in page table[i / P] at row i % P. The loops walk a head
// page by page (a segment of up to P consecutive rows), so no key pays a division. A dense block of gathered rows is
// the same thing with no table and one segment.
using System.Numerics.Tensors;

namespace HpcCore.Cpu;

using HpcCore.Tensors;

/// <summary>F32 rows [*, D] in segments of <see cref="SegmentRows"/> rows: page table[s] of a pool, or a dense block.</summary>
internal readonly unsafe struct PagedRows(float* rows, int* table, int segmentRows, int d)
{
    private readonly float* _rows = rows;
    private readonly int* _table = table;

    /// <summary>Rows per segment (the page size P, or the dense block's row count).</summary>
    public readonly int SegmentRows = segmentRows;

    /// <summary>Row length.</summary>
    public readonly int D = d;

    /// <summary>First row of segment <paramref name="s"/>.</summary>
    public float* Segment(int s) => _rows + (long)(_table == null ? s : _table[s]) * SegmentRows * D;

    /// <summary>Converts one row of <paramref name="d"/> elements of <paramref name="type"/> to F32.</summary>
    public static void Widen(byte* src, DType type, float* dst, int d)
    {
        if (type == DType.F32) new ReadOnlySpan<float>(src, d).CopyTo(new Span<float>(dst, d));
        else if (type == DType.F16) TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>(src, d), new Span<float>(dst, d));
        else CpuKernels.Bf16ToF32((ushort*)src, dst, d);
    }
}
