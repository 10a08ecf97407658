// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Cosine similarity, best match and row max on ILGPU. Rows are first normalised into pooled scratch (one thread per
// row, the inverse norm from a double sum of squares like the CPU backend), so both backends compare dot products of
// the same unit rows. Cosine: one thread per output (coalesced over j). Best match: one group per row of A; each
// thread walks its columns j in increasing order keeping the first maximum (strict >, NaN skipped), then the group
// reduces (value, index) with "greater value, or equal value and lower index" (GroupReduce.ArgMax), so the winner
// is the CPU's winner whenever the float similarities agree. Row max: the same per-row reduction over stored values.
// Limits: contiguous F32; best match re-reads the A row per column from L1/L2 (no shared-memory tiling yet).
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace HpcCore.Gpu.Kernels;

using HpcCore.Kernels;

/// <summary>Dims of the similarity kernels.</summary>
internal readonly struct SimilarityParams(int batch, int n, int m, int c, int exclude)
{
    public readonly int Batch = batch;
    public readonly int N = n;
    public readonly int M = m;
    public readonly int C = c;
    public readonly int Exclude = exclude;
}

/// <summary>Normalisation, cosine, best-match and row-max launchers.</summary>
internal sealed class SimilarityKernels(Accelerator accelerator, LaunchPolicy policy, IlgpuMemoryPool memory)
{
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, long, int> _normalize =
        accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, long, int>(NormalizeKernel);
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, SimilarityParams> _cosine =
        accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, SimilarityParams>(Kernel);
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, SimilarityParams> _best =
        policy.WarpShuffles
            ? accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, SimilarityParams>(BestMatchKernel<WarpShuffleReduce>)
            : accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, SimilarityParams>(BestMatchKernel<SharedTreeReduce>);
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<int>, long, int> _rowMax =
        policy.WarpShuffles
            ? accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<int>, long, int>(RowMaxKernel<WarpShuffleReduce>)
            : accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<int>, long, int>(RowMaxKernel<SharedTreeReduce>);

    public void Cosine(in CosineArgs a)
    {
        long outputs = (long)a.Batch * a.N * a.M;
        if (outputs == 0) return;
        var p = new SimilarityParams(a.Batch, a.N, a.M, a.C, 0);
        var (buffer, na, nb) = UnitRows(a.A, a.B, p);
        try
        {
            int group = policy.ElementwiseGroupSize;
            _cosine(new KernelConfig(policy.GridFor(outputs, group), group), na, nb, DeviceViews.Elements<float>(a.Dest, outputs), p);
        }
        finally
        {
            memory.Return(buffer);
        }
    }

    public void BestMatch(in BestMatchArgs a)
    {
        long rows = (long)a.Batch * a.N;
        if (rows == 0) return;
        var p = new SimilarityParams(a.Batch, a.N, a.M, a.C, a.ExcludeLeadingColumns);
        var (buffer, na, nb) = UnitRows(a.A, a.B, p);
        try
        {
            _best(new KernelConfig(policy.RowGrid(rows), policy.RowGroupSize(a.M)), na, nb,
                DeviceViews.Elements<float>(a.Max, rows), DeviceViews.Elements<int>(a.Argmax, rows), p);
        }
        finally
        {
            memory.Return(buffer);
        }
    }

    public void RowMax(in RowMaxArgs a)
    {
        if (a.Rows == 0) return;
        long n = a.Rows * a.Cols;
        _rowMax(new KernelConfig(policy.RowGrid(a.Rows), policy.RowGroupSize(a.Cols)),
            n == 0 ? DeviceViews.Whole<float>(a.X) : DeviceViews.Elements<float>(a.X, n),
            DeviceViews.Elements<float>(a.Max, a.Rows), DeviceViews.Elements<int>(a.Argmax, a.Rows), a.Rows, a.Cols);
    }

    // Normalises the rows of a and b into one pooled buffer (the caller returns it after its launches).
    private (MemoryBuffer1D<byte, Stride1D.Dense> Buffer, ArrayView<float> A, ArrayView<float> B) UnitRows(Tensors.Tensor a, Tensors.Tensor b, SimilarityParams p)
    {
        long countA = (long)p.Batch * p.N * p.C, countB = (long)p.Batch * p.M * p.C;
        long floats = Math.Max(1, countA + countB);
        var buffer = memory.Rent(floats * sizeof(float));
        var all = ((ArrayView<byte>)buffer.View).SubView(0, floats * sizeof(float)).Cast<float>();
        int group = policy.ElementwiseGroupSize;
        long rowsA = (long)p.Batch * p.N, rowsB = (long)p.Batch * p.M;
        if (countA > 0) _normalize(new KernelConfig(policy.GridFor(rowsA, group), group), DeviceViews.Elements<float>(a, countA), all.SubView(0, countA), rowsA, p.C);
        if (countB > 0) _normalize(new KernelConfig(policy.GridFor(rowsB, group), group), DeviceViews.Elements<float>(b, countB), all.SubView(countA, countB), rowsB, p.C);
        return (buffer, countA > 0 ? all.SubView(0, countA) : all, countB > 0 ? all.SubView(countA, countB) : all);
    }

    /// <summary>u[r] = x[r] / |x[r]| (zero rows stay zero).</summary>
    /// <param name="x">[Rows, C] rows.</param>
    /// <param name="u">[Rows, C] unit rows.</param>
    /// <param name="rows">Rows.</param>
    /// <param name="c">Row length.</param>
    internal static void NormalizeKernel(ArrayView<float> x, ArrayView<float> u, long rows, int c)
    {
        long gridStride = (long)Grid.DimX * Group.DimX;
        for (long r = Grid.GlobalIndex.X; r < rows; r += gridStride)
        {
            long row = r * c;
            double s = 0;
            for (int k = 0; k < c; k++) s += (double)x[row + k] * x[row + k];
            float inv = s > 0 ? (float)(1.0 / XMath.Sqrt(s)) : 0f;
            for (int k = 0; k < c; k++) u[row + k] = x[row + k] * inv;
        }
    }

    /// <summary>d[b, i, j] = ua[b, i] . ub[b, j].</summary>
    /// <param name="ua">[B, N, C] unit rows.</param>
    /// <param name="ub">[B, M, C] unit rows.</param>
    /// <param name="d">[B, N, M] similarities.</param>
    /// <param name="p">Dims.</param>
    internal static void Kernel(ArrayView<float> ua, ArrayView<float> ub, ArrayView<float> d, SimilarityParams p)
    {
        long total = (long)p.Batch * p.N * p.M;
        long gridStride = (long)Grid.DimX * Group.DimX;
        for (long t = Grid.GlobalIndex.X; t < total; t += gridStride)
        {
            long bi = t / p.M;
            int j = (int)(t - bi * p.M);
            long b = bi / p.N;
            d[t] = Dot(ua, bi * p.C, ub, (b * p.M + j) * p.C, p.C);
        }
    }

    /// <summary>Best unit-row partner per row of A (one group per row; -inf and -1 when no column).</summary>
    /// <param name="ua">[B, N, C] unit rows.</param>
    /// <param name="ub">[B, M, C] unit rows.</param>
    /// <param name="max">[B, N] best similarity.</param>
    /// <param name="arg">[B, N] best column.</param>
    /// <param name="p">Dims and excluded leading columns.</param>
    internal static void BestMatchKernel<TReduce>(ArrayView<float> ua, ArrayView<float> ub, ArrayView<float> max, ArrayView<int> arg, SimilarityParams p)
        where TReduce : struct, IGroupReduce
    {
        var values = SharedMemory.Allocate<float>(LaunchPolicy.MaxReduceThreads);
        var indices = SharedMemory.Allocate<int>(LaunchPolicy.MaxReduceThreads);
        int tid = Group.IdxX, g = Group.DimX;
        long rows = (long)p.Batch * p.N;
        for (long r = Grid.IdxX; r < rows; r += Grid.DimX)
        {
            long b = r / p.N;
            float best = float.NegativeInfinity;
            int bestIndex = -1;
            for (int j = p.Exclude + tid; j < p.M; j += g)
            {
                float v = Dot(ua, r * p.C, ub, (b * p.M + j) * p.C, p.C);
                if (!XMath.IsNaN(v) && (bestIndex < 0 || v > best))
                {
                    best = v;
                    bestIndex = j;
                }
            }
            default(TReduce).ArgMax(ref best, ref bestIndex, values, indices);
            if (tid == 0)
            {
                max[r] = bestIndex < 0 ? float.NegativeInfinity : best;
                arg[r] = bestIndex;
            }
        }
    }

    /// <summary>Row max and argmax (NaN skipped, ties lower, -inf and -1 for a row without a number).</summary>
    /// <param name="x">[Rows, Cols] values.</param>
    /// <param name="max">[Rows] maxima.</param>
    /// <param name="arg">[Rows] argmax.</param>
    /// <param name="rows">Rows.</param>
    /// <param name="cols">Columns.</param>
    internal static void RowMaxKernel<TReduce>(ArrayView<float> x, ArrayView<float> max, ArrayView<int> arg, long rows, int cols)
        where TReduce : struct, IGroupReduce
    {
        var values = SharedMemory.Allocate<float>(LaunchPolicy.MaxReduceThreads);
        var indices = SharedMemory.Allocate<int>(LaunchPolicy.MaxReduceThreads);
        int tid = Group.IdxX, g = Group.DimX;
        for (long r = Grid.IdxX; r < rows; r += Grid.DimX)
        {
            long row = r * cols;
            float best = float.NegativeInfinity;
            int bestIndex = -1;
            for (int c = tid; c < cols; c += g)
            {
                float v = x[row + c];
                if (!XMath.IsNaN(v) && (bestIndex < 0 || v > best))
                {
                    best = v;
                    bestIndex = c;
                }
            }
            default(TReduce).ArgMax(ref best, ref bestIndex, values, indices);
            if (tid == 0)
            {
                max[r] = bestIndex < 0 ? float.NegativeInfinity : best;
                arg[r] = bestIndex;
            }
        }
    }

    private static float Dot(ArrayView<float> a, long ia, ArrayView<float> b, long ib, int c)
    {
        float s = 0f;
        for (int k = 0; k < c; k++) s += a[ia + k] * b[ib + k];
        return s;
    }
}
