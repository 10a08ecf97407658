// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Addressing of a head's rows in a page pool: token i lives in page table[i / P] at row i % P. The loops walk a head
// page by page (a segment of up to P consecutive rows), so no key pays a division. A dense block of gathered rows is
// the same thing with no table and one segment.
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace HpcCore.Cpu;

using HpcCore.Tensors;

/// <summary>F32 rows [*, D] in segments of <see cref="SegmentRows"/> rows: page table[s] of a pool, or a dense block.</summary>
internal readonly unsafe struct PagedRows(float* rows, int* table, int segmentRows, int d)
{
    private readonly float* _rows = rows;
    private readonly int* _table = table;

    /// <summary>Segments ahead of the current one that the loops prefetch.</summary>
    public const int PrefetchAhead = 2;

    /// <summary>Rows per segment (the page size P, or the dense block's row count).</summary>
    public readonly int SegmentRows = segmentRows;

    /// <summary>Row length.</summary>
    public readonly int D = d;

    /// <summary>First row of segment <paramref name="s"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float* Segment(int s) => _rows + (long)(_table == null ? s : _table[s]) * SegmentRows * D;

    /// <summary>
    /// True when the first <paramref name="n"/> rows are paged and span more than 32 KB: a smaller head (D = 8 at 512
    /// tokens is 16 KB) stays in L1/L2 from one decode step to the next, and the prefetch calls only cost time.
    /// </summary>
    public bool WorthPrefetching(int n) => Sse.IsSupported && _table != null && (long)n * D > 8 * 1024;

    /// <summary>
    /// Prefetches the first <paramref name="rows"/> rows of segment <paramref name="s"/> into the caches (a no-op past
    /// <paramref name="segments"/>). Pages sit anywhere in the pool, and a hardware prefetcher stops at a 4 KB page
    /// boundary (a 16-token page of D = 64 floats is exactly 4 KB), so a head's next pages are fetched by hand while
    /// the current one is computed. With the cache cold (a 64 MB sweep between calls), two pages ahead into L1 took a
    /// D = 64, 4k-token decode step from 506 to 326 us and D = 128 at 1k from 207 to 190 us; four or eight pages ahead,
    /// or into L2 only, did no better. When the head is warm in L2/L3 it costs up to ~10%.
    /// </summary>
    public void Prefetch(int s, int segments, int rows)
    {
        if (!Sse.IsSupported || s >= segments) return;
        byte* start = (byte*)Segment(s);
        long bytes = (long)rows * D * sizeof(float);
        for (long off = 0; off < bytes; off += 64) Sse.Prefetch0(start + off);
    }

    /// <summary>Converts <paramref name="d"/> elements of <paramref name="type"/> to F32.</summary>
    public static void Widen(byte* src, DType type, float* dst, int d)
    {
        if (type == DType.F32) new ReadOnlySpan<float>(src, d).CopyTo(new Span<float>(dst, d));
        else if (type == DType.F16) TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>(src, d), new Span<float>(dst, d));
        else CpuKernels.Bf16ToF32((ushort*)src, dst, d);
    }
}
