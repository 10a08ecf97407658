// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Cosine similarity (GEMM of the raw rows, then scaled by the inverse norms), best match (BestMatchWork: packed
// normalised panels, no [N, M] matrix) and row max.
using System.Numerics.Tensors;

namespace HpcCore.Cpu;

using HpcCore.Kernels;

internal sealed unsafe partial class CpuKernels
{
    public void Cosine(in CosineArgs a)
    {
        if (a.Batch == 0 || a.N == 0 || a.M == 0) return;
        Gemm(new GemmArgs(a.A, a.B, a.Dest, null, false, true, 1f, 0f, a.Batch, a.N, a.M, a.C,
            (long)a.N * a.C, (long)a.M * a.C, (long)a.N * a.M, a.C, a.C, a.M));
        long rowsA = (long)a.Batch * a.N, rowsB = (long)a.Batch * a.M;
        byte* scratch = _backend.Memory.Rent((rowsA + rowsB) * sizeof(float), out long capacity);
        try
        {
            float* invA = (float*)scratch, invB = invA + rowsA;
            var norms = new InverseNormBody { X = Ptr<float>(a.A), Inv = invA, Rows = rowsA, C = a.C };
            norms.Items = ItemsFor(rowsA, a.C);
            Pool.For(norms.Items, norms);
            norms = new InverseNormBody { X = Ptr<float>(a.B), Inv = invB, Rows = rowsB, C = a.C };
            norms.Items = ItemsFor(rowsB, a.C);
            Pool.For(norms.Items, norms);
            var scale = new CosineScaleBody { D = Ptr<float>(a.Dest), InvA = invA, InvB = invB, Rows = rowsA, N = a.N, M = a.M };
            scale.Items = ItemsFor(rowsA, a.M);
            Pool.For(scale.Items, scale);
        }
        finally
        {
            _backend.Memory.Return(scratch, capacity);
        }
    }

    public void BestMatch(in BestMatchArgs a)
    {
        if (a.Batch == 0 || a.N == 0) return;
        var w = BestMatchWork.Create(a);
        byte* scratch = _backend.Memory.Rent(w.ScratchFloats * sizeof(float), out long capacity);
        try
        {
            w.Bind((float*)scratch, Ptr<float>(a.A), Ptr<float>(a.B), Ptr<float>(a.Max), Ptr<int>(a.Argmax));
            if (w.Small)
            {
                for (int i = 0; i < w.PackItems; i++) w.Pack(i);
                for (int i = 0; i < w.Items; i++) w.Invoke(i);
            }
            else
            {
                Pool.For(w.PackItems, new BestMatchPackBody { Work = w });
                Pool.For(w.Items, w);
            }
        }
        finally
        {
            _backend.Memory.Return(scratch, capacity);
        }
    }

    public void RowMax(in RowMaxArgs a)
    {
        if (a.Rows == 0) return;
        var body = new RowMaxBody { X = Ptr<float>(a.X), Max = Ptr<float>(a.Max), Arg = Ptr<int>(a.Argmax), Rows = a.Rows, Cols = a.Cols };
        body.Items = ItemsFor(a.Rows, a.Cols);
        Pool.For(body.Items, body);
    }

    /// <summary>1 / |row| (0 for a zero row), with the sum of squares in double so that long rows keep full precision.</summary>
    internal static float InverseNorm(float* row, int c)
    {
        double s = 0;
        for (int i = 0; i < c; i++) s += (double)row[i] * row[i];
        return s > 0 ? (float)(1 / Math.Sqrt(s)) : 0f;
    }

    private struct InverseNormBody : IParallelBody
    {
        public float* X, Inv;
        public long Rows;
        public int C, Items;

        public readonly void Invoke(int item)
        {
            var (start, end) = Range(Rows, Items, item);
            for (long r = start; r < end; r++) Inv[r] = InverseNorm(X + r * C, C);
        }
    }

    private struct CosineScaleBody : IParallelBody
    {
        public float* D, InvA, InvB;
        public long Rows;
        public int N, M, Items;

        public readonly void Invoke(int item)
        {
            var (start, end) = Range(Rows, Items, item);
            for (long r = start; r < end; r++)
            {
                var row = new Span<float>(D + r * M, M);
                TensorPrimitives.Multiply(row, new ReadOnlySpan<float>(InvB + r / N * M, M), row);
                TensorPrimitives.Multiply(row, InvA[r], row);
            }
        }
    }

    private struct RowMaxBody : IParallelBody
    {
        public float* X, Max;
        public int* Arg;
        public long Rows;
        public int Cols, Items;

        public readonly void Invoke(int item)
        {
            var (start, end) = Range(Rows, Items, item);
            for (long r = start; r < end; r++)
            {
                float* x = X + r * Cols;
                float best = float.NegativeInfinity;
                int arg = -1;
                for (int j = 0; j < Cols; j++)
                {
                    float v = x[j];
                    if (!float.IsNaN(v) && (arg < 0 || v > best))
                    {
                        best = v;
                        arg = j;
                    }
                }
                Max[r] = best;
                Arg[r] = arg;
            }
        }
    }
}
