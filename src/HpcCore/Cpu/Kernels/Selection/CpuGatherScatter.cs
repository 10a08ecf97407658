// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Row gather and scatter-reduce (methods.md K6). Scatter is deterministic: work items own disjoint column ranges of
// a batch and walk the sources in ascending n, so every destination element sees its sources in the same order
// whatever the thread count. Mean first counts the sources per destination row (pooled scratch).
using System.Numerics.Tensors;

namespace HpcCore.Cpu;

using HpcCore.Kernels;
using HpcCore.Ops;

internal sealed unsafe partial class CpuKernels
{
    // Column chunks of a scatter item: whole cache lines, at least this wide, so items never share a line.
    private const int ScatterMinChunk = 64;

    public void GatherRows(in GatherRowsArgs a)
    {
        long rows = (long)a.Batch * a.K;
        if (rows == 0 || a.C == 0) return;
        var body = new GatherRowsBody { X = Ptr<float>(a.X), Idx = Ptr<int>(a.Indices), D = Ptr<float>(a.Dest), N = a.N, K = a.K, C = a.C, Rows = rows };
        body.Items = ItemsFor(rows, a.C);
        Pool.For(body.Items, body);
    }

    public void ScatterReduce(in ScatterReduceArgs a)
    {
        if (a.Batch == 0 || a.N == 0 || a.C == 0) return;
        int chunks = (int)Math.Clamp((long)a.N * a.C / MinElementsPerItem, 1, Math.Max(1, a.C / ScatterMinChunk));
        chunks = Math.Min(chunks, Math.Max(1, Pool.ActiveThreads * 4 / a.Batch));
        int* idx = Ptr<int>(a.Index);
        byte* counts = null;
        long capacity = 0;
        if (a.Mode == ScatterMode.Mean)
        {
            counts = _backend.Memory.Rent((long)a.Batch * a.M * sizeof(int), out capacity);
            var c = new Span<int>(counts, a.Batch * a.M);
            c.Clear();
            for (int b = 0; b < a.Batch; b++)
                for (int n = 0; n < a.N; n++)
                {
                    int m = idx[(long)b * a.N + n];
                    if (m >= 0) c[b * a.M + m]++;
                }
        }
        try
        {
            Pool.For(a.Batch * chunks, new ScatterBody
            {
                D = Ptr<float>(a.Dest), S = Ptr<float>(a.Source), W = a.Weights is null ? null : Ptr<float>(a.Weights), Idx = idx,
                Counts = (int*)counts, Mode = a.Mode, M = a.M, N = a.N, C = a.C, Chunks = chunks,
            });
        }
        finally
        {
            if (counts != null) _backend.Memory.Return(counts, capacity);
        }
    }

    private struct GatherRowsBody : IParallelBody
    {
        public float* X, D;
        public int* Idx;
        public int N, K, C, Items;
        public long Rows;

        public readonly void Invoke(int item)
        {
            var (start, end) = Range(Rows, Items, item);
            for (long r = start; r < end; r++)
            {
                long b = r / K;
                int id = Idx[r];
                var d = new Span<float>(D + r * C, C);
                if ((uint)id < (uint)N) new ReadOnlySpan<float>(X + (b * N + id) * C, C).CopyTo(d);
                else d.Clear();
            }
        }
    }

    private struct ScatterBody : IParallelBody
    {
        public float* D, S, W;
        public int* Idx, Counts;
        public ScatterMode Mode;
        public int M, N, C, Chunks;

        public readonly void Invoke(int item)
        {
            int b = item / Chunks, chunk = item % Chunks;
            int c0 = (int)((long)C * chunk / Chunks), c1 = (int)((long)C * (chunk + 1) / Chunks);
            if (Chunks > 1)
            {
                // Align chunk edges to 16 floats (one cache line) so that neighbouring items never share a line.
                c0 = chunk == 0 ? 0 : c0 & ~15;
                c1 = chunk == Chunks - 1 ? C : c1 & ~15;
            }
            int width = c1 - c0;
            if (width <= 0) return;
            float* dBase = D + (long)b * M * C + c0;
            float* sBase = S + (long)b * N * C + c0;
            int* idx = Idx + (long)b * N;
            for (int n = 0; n < N; n++)
            {
                int m = idx[n];
                if (m < 0) continue;
                var dst = new Span<float>(dBase + (long)m * C, width);
                var src = new ReadOnlySpan<float>(sBase + (long)n * C, width);
                if (Mode == ScatterMode.Amax) TensorPrimitives.Max(dst, src, dst);
                else if (W == null) TensorPrimitives.Add(dst, src, dst);
                else TensorPrimitives.MultiplyAdd(src, W[(long)b * N + n], dst, dst);
            }
            if (Mode != ScatterMode.Mean) return;
            int* counts = Counts + (long)b * M;
            for (int m = 0; m < M; m++)
            {
                if (counts[m] == 0) continue;
                var dst = new Span<float>(dBase + (long)m * C, width);
                TensorPrimitives.Divide(dst, 1f + counts[m], dst);
            }
        }
    }
}
