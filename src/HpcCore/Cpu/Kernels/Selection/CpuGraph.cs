// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Axis reductions (sum, mean, RMS: Zero-TPrune/AIM head combination), PageRank power iteration (methods.md K3) and
// adaptive average pooling (K11). PageRank runs one pool job per iteration, split by (slice, column chunk): each
// item computes next[j0..j1] = sum_i s[i] M[i, j0..j1] as a SIMD axpy over row segments (a GEMV in row order).
using System.Numerics.Tensors;

namespace HpcCore.Cpu;

using HpcCore.Kernels;

internal sealed unsafe partial class CpuKernels
{
    public void AxisReduce(in AxisReduceArgs a)
    {
        long outputs = a.Outer * a.Inner;
        if (outputs == 0) return;
        var body = new AxisReduceBody { X = Ptr<float>(a.X), D = Ptr<float>(a.Dest), Kind = a.Kind, Outer = a.Outer, Length = a.Length, Inner = a.Inner };
        body.Items = ItemsFor(a.Outer, a.Length * a.Inner);
        Pool.For(body.Items, body);
    }

    public void PageRank(in PageRankArgs a)
    {
        if (a.Slices == 0 || a.N == 0) return;
        long total = a.Slices * a.N;
        byte* scratch = _backend.Memory.Rent(2 * total * sizeof(float), out long capacity);
        try
        {
            float* cur = (float*)scratch, next = cur + total;
            if (a.Initial is null) new Span<float>(cur, (int)total).Fill(1f / a.N);
            else new ReadOnlySpan<float>(Ptr<float>(a.Initial), (int)total).CopyTo(new Span<float>(cur, (int)total));
            int chunks = (int)Math.Clamp((long)a.N * a.N / MinElementsPerItem, 1, Math.Max(1, a.N / 16));
            chunks = (int)Math.Min(chunks, Math.Max(1, Pool.ActiveThreads * 4L / a.Slices));
            for (int t = 0; t < a.Iterations; t++)
            {
                Pool.For((int)(a.Slices * chunks), new PageRankBody { M = Ptr<float>(a.Transition), S = cur, Next = next, N = a.N, Chunks = chunks });
                float* swap = cur;
                cur = next;
                next = swap;
            }
            new ReadOnlySpan<float>(cur, (int)total).CopyTo(new Span<float>(Ptr<float>(a.Dest), (int)total));
        }
        finally
        {
            _backend.Memory.Return(scratch, capacity);
        }
    }

    public void AdaptiveAvgPool2D(in AdaptivePoolArgs a)
    {
        long cells = (long)a.Batch * a.OutH * a.OutW;
        if (cells == 0 || a.C == 0) return;
        var body = new AdaptivePoolBody { X = Ptr<float>(a.X), D = Ptr<float>(a.Dest), A = a, Cells = cells };
        body.Items = ItemsFor(cells, (long)a.C * (a.H / a.OutH + 1) * (a.W / a.OutW + 1));
        Pool.For(body.Items, body);
    }

    private struct AxisReduceBody : IParallelBody
    {
        public float* X, D;
        public AxisReduceKind Kind;
        public long Outer, Inner;
        public int Length, Items;

        public readonly void Invoke(int item)
        {
            var (start, end) = Range(Outer, Items, item);
            int inner = (int)Inner;
            for (long o = start; o < end; o++)
            {
                float* x = X + o * Length * Inner;
                var d = new Span<float>(D + o * Inner, inner);
                if (inner == 1)
                {
                    var row = new ReadOnlySpan<float>(x, Length);
                    d[0] = Kind == AxisReduceKind.RootMeanSquare ? TensorPrimitives.SumOfSquares(row) : TensorPrimitives.Sum(row);
                }
                else
                {
                    d.Clear();
                    for (int l = 0; l < Length; l++)
                    {
                        var row = new ReadOnlySpan<float>(x + l * Inner, inner);
                        if (Kind == AxisReduceKind.RootMeanSquare) TensorPrimitives.MultiplyAdd(row, row, d, d);
                        else TensorPrimitives.Add(row, d, d);
                    }
                }
                if (Kind == AxisReduceKind.Sum) continue;
                TensorPrimitives.Divide(d, Length, d);
                if (Kind == AxisReduceKind.RootMeanSquare) TensorPrimitives.Sqrt(d, d);
            }
        }
    }

    private struct PageRankBody : IParallelBody
    {
        public float* M, S, Next;
        public int N, Chunks;

        public readonly void Invoke(int item)
        {
            long slice = item / Chunks;
            int chunk = item % Chunks;
            int j0 = (int)((long)N * chunk / Chunks), j1 = (int)((long)N * (chunk + 1) / Chunks);
            float* s = S + slice * N;
            float* m = M + slice * N * N;
            var next = new Span<float>(Next + slice * N + j0, j1 - j0);
            next.Clear();
            for (int i = 0; i < N; i++)
                TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(m + (long)i * N + j0, j1 - j0), s[i], next, next);
        }
    }

    private struct AdaptivePoolBody : IParallelBody
    {
        public float* X, D;
        public AdaptivePoolArgs A;
        public long Cells;
        public int Items;

        public readonly void Invoke(int item)
        {
            var (start, end) = Range(Cells, Items, item);
            int c = A.C;
            for (long cell = start; cell < end; cell++)
            {
                int ow = (int)(cell % A.OutW), oh = (int)(cell / A.OutW % A.OutH);
                long b = cell / ((long)A.OutW * A.OutH);
                // torch's adaptive pooling bounds: floor(i * H / out) .. ceil((i + 1) * H / out).
                int h0 = oh * A.H / A.OutH, h1 = ((oh + 1) * A.H + A.OutH - 1) / A.OutH;
                int w0 = ow * A.W / A.OutW, w1 = ((ow + 1) * A.W + A.OutW - 1) / A.OutW;
                var d = new Span<float>(D + cell * c, c);
                d.Clear();
                for (int h = h0; h < h1; h++)
                    for (int w = w0; w < w1; w++)
                        TensorPrimitives.Add(new ReadOnlySpan<float>(X + ((b * A.H + h) * A.W + w) * c, c), d, d);
                TensorPrimitives.Divide(d, (float)((h1 - h0) * (w1 - w0)), d);
            }
        }
    }
}
