// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Embedding gather: d[n, c] = table[ids[n], c]; an id outside [0, Vocab) gives a zero row (as on the CPU).
// Algorithm: one thread per output element, grid-stride (consecutive threads read consecutive columns of one row).
// Limits: contiguous F32 table [V, C], I32 ids.
using ILGPU;
using ILGPU.Runtime;

namespace HpcCore.Gpu.Kernels;

using HpcCore.Kernels;

/// <summary>Dims of <see cref="EmbeddingKernel"/>.</summary>
internal readonly struct EmbeddingParams(long count, int dim, int vocab)
{
    public readonly long Count = count;
    public readonly int Dim = dim;
    public readonly int Vocab = vocab;
}

/// <summary>Row gather from an embedding table.</summary>
internal sealed class EmbeddingKernel(Accelerator accelerator, LaunchPolicy policy)
{
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, EmbeddingParams> _launch =
        accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<int>, ArrayView<float>, EmbeddingParams>(Kernel);

    public void Launch(in EmbeddingArgs a)
    {
        if (a.Count == 0 || a.Dim == 0) return;
        long n = a.Count * a.Dim;
        int group = policy.ElementwiseGroupSize;
        var table = a.Vocab == 0 ? DeviceViews.Whole<float>(a.Table) : DeviceViews.Elements<float>(a.Table, (long)a.Vocab * a.Dim);
        _launch(new KernelConfig(policy.GridFor(n, group), group),
            table, DeviceViews.Elements<int>(a.Ids, a.Count), DeviceViews.Elements<float>(a.Dest, n),
            new EmbeddingParams(a.Count, a.Dim, a.Vocab));
    }

    /// <param name="table">[V, C] embedding table.</param>
    /// <param name="ids">[N] token ids.</param>
    /// <param name="d">[N, C] gathered rows.</param>
    /// <param name="p">N, C and V.</param>
    internal static void Kernel(ArrayView<float> table, ArrayView<int> ids, ArrayView<float> d, EmbeddingParams p)
    {
        long total = p.Count * p.Dim;
        long stride = (long)Grid.DimX * Group.DimX;
        for (long i = Grid.GlobalIndex.X; i < total; i += stride)
        {
            long n = i / p.Dim;
            int c = (int)(i - n * p.Dim);
            int id = ids[n];
            d[i] = (uint)id < (uint)p.Vocab ? table[(long)id * p.Dim + c] : 0f;
        }
    }
}
