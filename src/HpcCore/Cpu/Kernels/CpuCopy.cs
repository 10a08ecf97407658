// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Strided copy (Contiguous, CopyTo): walks the shape as an odometer; runs of the innermost axis that are
// contiguous on both sides are copied as blocks. Two contiguous tensors are one flat block, split across the pool by
// bytes (a [N] tensor is a single row, which the row split would leave on one thread: one core's copy reached 28 GB/s
// here where two read 2.4x that in the roofline).
namespace HpcCore.Cpu;

using HpcCore.Kernels;
using HpcCore.Tensors;

internal sealed unsafe partial class CpuKernels
{
    public void CopyStrided(in CopyStridedArgs a)
    {
        var src = a.Source;
        var dst = a.Dest;
        if (src.ElementCount == 0) return;
        int rank = src.Rank;
        int es = src.DType.SizeInBytes();
        if (rank == 0)
        {
            Buffer.MemoryCopy(Ptr<byte>(src), Ptr<byte>(dst), es, es);
            return;
        }
        if (src.IsContiguous && dst.IsContiguous)
        {
            long bytes = src.ElementCount * es;
            var flat = new FlatCopyBody { S = Ptr<byte>(src), D = Ptr<byte>(dst), Bytes = bytes };
            flat.Items = ItemsFor(GemmBlocking.CeilDiv(bytes, 4096), 1024);
            Pool.For(flat.Items, flat);
            return;
        }
        var body = new CopyBody
        {
            S = Ptr<byte>(src), D = Ptr<byte>(dst), Shape = src.Shape, SrcStrides = src.Strides, DstStrides = dst.Strides,
            ElementSize = es, Rows = src.Shape.RowCount,
        };
        body.Items = ItemsFor(body.Rows, src.Shape[rank - 1]);
        Pool.For(body.Items, body);
    }

    // Item i copies bytes [Bytes * i / Items, Bytes * (i + 1) / Items), rounded to 4 KB pages (but the last).
    private struct FlatCopyBody : IParallelBody
    {
        public byte* S, D;
        public long Bytes;
        public int Items;

        public readonly void Invoke(int item)
        {
            long start = Bytes * item / Items & ~4095L, end = item == Items - 1 ? Bytes : Bytes * (item + 1) / Items & ~4095L;
            if (end > start) Buffer.MemoryCopy(S + start, D + start, end - start, end - start);
        }
    }

    private struct CopyBody : IParallelBody
    {
        public byte* S, D;
        public Shape Shape;
        public Strides SrcStrides, DstStrides;
        public int ElementSize, Items;
        public long Rows;

        public readonly void Invoke(int item)
        {
            var (start, end) = Range(Rows, Items, item);
            int rank = Shape.Rank;
            int inner = Shape[rank - 1];
            long ss = SrcStrides[rank - 1], ds = DstStrides[rank - 1];
            bool block = ss == 1 && ds == 1;
            for (long row = start; row < end; row++)
            {
                // Decompose the row index over the leading axes.
                long rem = row, so = 0, dof = 0;
                for (int ax = rank - 2; ax >= 0; ax--)
                {
                    long i = rem % Shape[ax];
                    rem /= Shape[ax];
                    so += i * SrcStrides[ax];
                    dof += i * DstStrides[ax];
                }
                byte* s = S + so * ElementSize;
                byte* d = D + dof * ElementSize;
                if (block)
                {
                    long bytes = (long)inner * ElementSize;
                    Buffer.MemoryCopy(s, d, bytes, bytes);
                    continue;
                }
                switch (ElementSize)
                {
                    case 4: for (int j = 0; j < inner; j++) ((int*)d)[j * ds] = ((int*)s)[j * ss]; break;
                    case 2: for (int j = 0; j < inner; j++) ((short*)d)[j * ds] = ((short*)s)[j * ss]; break;
                    case 8: for (int j = 0; j < inner; j++) ((long*)d)[j * ds] = ((long*)s)[j * ss]; break;
                    default: for (int j = 0; j < inner; j++) d[j * ds] = s[j * ss]; break;
                }
            }
        }
    }
}
