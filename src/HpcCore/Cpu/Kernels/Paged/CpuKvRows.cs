// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Row moves between a page pool and dense rows, with dtype conversion (CpuConvert's helpers: F16 through
// TensorPrimitives' F16C path, BF16 round to nearest even). F16 <-> BF16 goes through F32, which is exact on the
// way in, so the one rounding is to the destination's type. Parallel over rows when there are many.
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace HpcCore.Cpu;

using HpcCore.Kernels;
using HpcCore.Tensors;

internal sealed unsafe partial class CpuKernels
{
    public void KvWriteRows(in KvRowsArgs a) => MoveRows(a, toPages: true);

    public void KvReadRows(in KvRowsArgs a) => MoveRows(a, toPages: false);

    private void MoveRows(in KvRowsArgs a, bool toPages)
    {
        if (a.Count == 0 || a.HeadDim == 0) return;
        var body = new KvRowsBody
        {
            Pages = Ptr<byte>(a.Pages), Rows = Ptr<byte>(a.Rows), Slots = Ptr<int>(a.Slots), PageType = a.Pages.DType,
            RowType = a.Rows.DType, Count = a.Count, D = a.HeadDim, ToPages = toPages,
        };
        body.Items = ItemsFor(a.Count, a.HeadDim);
        Pool.For(body.Items, body);
    }

    private struct KvRowsBody : IParallelBody
    {
        public byte* Pages, Rows;
        public int* Slots;
        public DType PageType, RowType;
        public int Count, D, Items;
        public bool ToPages;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Invoke(int item)
        {
            var (start, end) = Range(Count, Items, item);
            int pageSize = PageType.SizeInBytes(), rowSize = RowType.SizeInBytes();
            for (long n = start; n < end; n++)
            {
                byte* page = Pages + (long)Slots[n] * D * pageSize, row = Rows + n * D * rowSize;
                if (ToPages) ConvertRow(row, RowType, page, PageType, D);
                else ConvertRow(page, PageType, row, RowType, D);
            }
        }
    }

    /// <summary>Converts <paramref name="n"/> elements between F32, F16 and BF16 (round to nearest even).</summary>
    internal static void ConvertRow(byte* src, DType from, byte* dst, DType to, int n)
    {
        if (from == to)
        {
            new ReadOnlySpan<byte>(src, n * from.SizeInBytes()).CopyTo(new Span<byte>(dst, n * to.SizeInBytes()));
            return;
        }
        const int Chunk = 256;
        float* tmp = stackalloc float[Chunk];
        for (int s = 0; s < n; s += Chunk)
        {
            int m = Math.Min(Chunk, n - s);
            float* f = from == DType.F32 ? (float*)src + s : tmp;
            if (from == DType.F16) TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>((Half*)src + s, m), new Span<float>(tmp, m));
            else if (from == DType.BF16) Bf16ToF32((ushort*)src + s, tmp, m);
            if (to == DType.F32) new ReadOnlySpan<float>(f, m).CopyTo(new Span<float>((float*)dst + s, m));
            else if (to == DType.F16) TensorPrimitives.ConvertToHalf(new ReadOnlySpan<float>(f, m), new Span<Half>((Half*)dst + s, m));
            else F32ToBf16(f, (ushort*)dst + s, m);
        }
    }
}
