// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The CPU backend's token-reduction kernels (ISelectionKernels): top-k and argsort (TopKRow), index sort,
// threshold and compaction. Rows run in parallel on the worker pool; per-row scratch is rented from the backend's
// memory pool for the duration of a call, so steady-state calls allocate nothing.
namespace HpcCore.Cpu;

using HpcCore.Kernels;

internal sealed unsafe partial class CpuKernels : ISelectionKernels
{
    public void TopK(in TopKArgs a)
    {
        if (a.Rows == 0 || a.K == 0) return;
        int items = ItemsFor(a.Rows, a.Cols);
        long perItem = TopKRow.ScratchUints(a.Cols, a.K);
        byte* scratch = _backend.Memory.Rent(items * perItem * sizeof(uint), out long capacity);
        try
        {
            Pool.For(items, new TopKBody
            {
                Scores = Ptr<float>(a.Scores), Values = a.Values is null ? null : Ptr<float>(a.Values), Indices = Ptr<int>(a.Indices),
                Scratch = (uint*)scratch, PerItem = perItem, Rows = a.Rows, Cols = a.Cols, K = a.K, Descending = a.Descending, Items = items,
            });
        }
        finally
        {
            _backend.Memory.Return(scratch, capacity);
        }
    }

    public void SortIndices(in SortIndicesArgs a)
    {
        if (a.Rows == 0 || a.Cols == 0) return;
        var body = new SortIndicesBody { S = Ptr<int>(a.Source), D = Ptr<int>(a.Dest), Rows = a.Rows, Cols = a.Cols };
        body.Items = ItemsFor(a.Rows, a.Cols);
        Pool.For(body.Items, body);
    }

    public void Threshold(in ThresholdArgs a)
    {
        if (a.Count == 0) return;
        var body = new ThresholdBody { S = Ptr<float>(a.Scores), D = Ptr<byte>(a.Dest), T = a.Threshold, Count = a.Count };
        body.Items = ItemsFor(a.Count, 1);
        Pool.For(body.Items, body);
    }

    public void Compact(in CompactArgs a)
    {
        if (a.Rows == 0) return;
        var body = new CompactBody { M = Ptr<byte>(a.Mask), I = Ptr<int>(a.Indices), C = Ptr<int>(a.Counts), Rows = a.Rows, Cols = a.Cols };
        body.Items = ItemsFor(a.Rows, a.Cols);
        Pool.For(body.Items, body);
    }

    private struct TopKBody : IParallelBody
    {
        public float* Scores, Values;
        public int* Indices;
        public uint* Scratch;
        public long PerItem, Rows;
        public int Cols, K, Items;
        public bool Descending;

        public readonly void Invoke(int item)
        {
            var (start, end) = Range(Rows, Items, item);
            uint* scratch = Scratch + item * PerItem;
            for (long r = start; r < end; r++)
                TopKRow.Run(Scores + r * Cols, Cols, K, Descending, Indices + r * K, Values == null ? null : Values + r * K, scratch);
        }
    }

    private struct SortIndicesBody : IParallelBody
    {
        public int* S, D;
        public long Rows;
        public int Cols, Items;

        public readonly void Invoke(int item)
        {
            var (start, end) = Range(Rows, Items, item);
            for (long r = start; r < end; r++)
            {
                var d = new Span<int>(D + r * Cols, Cols);
                if (S != D) new ReadOnlySpan<int>(S + r * Cols, Cols).CopyTo(d);
                d.Sort();
            }
        }
    }

    private struct ThresholdBody : IParallelBody
    {
        public float* S;
        public byte* D;
        public float T;
        public long Count;
        public int Items;

        public readonly void Invoke(int item)
        {
            var (start, end) = Range(Count, Items, item);
            for (long i = start; i < end; i++) D[i] = S[i] > T ? (byte)1 : (byte)0;
        }
    }

    private struct CompactBody : IParallelBody
    {
        public byte* M;
        public int* I, C;
        public long Rows;
        public int Cols, Items;

        public readonly void Invoke(int item)
        {
            var (start, end) = Range(Rows, Items, item);
            for (long r = start; r < end; r++)
            {
                byte* m = M + r * Cols;
                int* idx = I + r * Cols;
                int count = 0;
                for (int j = 0; j < Cols; j++)
                    if (m[j] != 0) idx[count++] = j;
                C[r] = count;
                for (int j = count; j < Cols; j++) idx[j] = -1;
            }
        }
    }
}
