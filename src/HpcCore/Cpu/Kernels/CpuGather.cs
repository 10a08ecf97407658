// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Embedding gather and row argmax.
namespace HpcCore.Cpu;

using System.Runtime.CompilerServices;
using HpcCore.Kernels;

internal sealed unsafe partial class CpuKernels
{
    public void Embedding(in EmbeddingArgs a)
    {
        if (a.Count == 0 || a.Dim == 0) return;
        var body = new EmbeddingBody { T = Ptr<float>(a.Table), Ids = Ptr<int>(a.Ids), D = Ptr<float>(a.Dest), Count = a.Count, Dim = a.Dim, Vocab = a.Vocab };
        body.Items = ItemsFor(a.Count, a.Dim);
        Pool.For(body.Items, body);
    }

    public void Argmax(in ArgmaxArgs a)
    {
        if (a.Rows == 0) return;
        var body = new ArgmaxBody { X = Ptr<float>(a.X), D = Ptr<int>(a.Dest), Rows = a.Rows, Cols = a.Cols };
        body.Items = ItemsFor(a.Rows, a.Cols);
        Pool.For(body.Items, body);
    }

    private struct EmbeddingBody : IParallelBody
    {
        public float* T, D;
        public int* Ids;
        public long Count;
        public int Dim, Vocab, Items;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Invoke(int item)
        {
            var (start, end) = Range(Count, Items, item);
            for (long n = start; n < end; n++)
            {
                var d = new Span<float>(D + n * Dim, Dim);
                int id = Ids[n];
                if ((uint)id < (uint)Vocab) new ReadOnlySpan<float>(T + (long)id * Dim, Dim).CopyTo(d);
                else d.Clear();
            }
        }
    }

    private struct ArgmaxBody : IParallelBody
    {
        public float* X;
        public int* D;
        public long Rows;
        public int Cols, Items;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Invoke(int item)
        {
            var (start, end) = Range(Rows, Items, item);
            for (long r = start; r < end; r++) D[r] = ArgmaxRow(new ReadOnlySpan<float>(X + r * Cols, Cols));
        }
    }

    /// <summary>Index of the first maximum (compared with &gt;, so -0 and +0 tie); NaNs are skipped; -1 when all are NaN.</summary>
    internal static int ArgmaxRow(ReadOnlySpan<float> x)
    {
        int best = -1;
        float max = float.NegativeInfinity;
        for (int i = 0; i < x.Length; i++)
        {
            float v = x[i];
            if (v > max || (best < 0 && !float.IsNaN(v)))
            {
                max = v;
                best = i;
            }
        }
        return best;
    }
}
