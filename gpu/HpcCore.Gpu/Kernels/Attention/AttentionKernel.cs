// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Host side of the fused attention kernel: picks the tiles (LaunchPolicy.AttentionTiles), zeroes KeyTotals, binds the
// optional tensors (absent ones are replaced by never-read placeholder views) and launches AttentionFusedKernel.
// Host-side refusals (NotSupportedException): the Unfused variant (the GPU has only the fused kernel) and head dims
// above LaunchPolicy.MaxAttentionHeadDim (the shared-memory tiles would not fit in 48 KB).
using ILGPU;
using ILGPU.Runtime;

namespace HpcCore.Gpu.Kernels;

using HpcCore.Kernels;

/// <summary>Cached launcher of <see cref="AttentionFusedKernel"/>.</summary>
internal sealed class AttentionKernel(Accelerator accelerator, LaunchPolicy policy)
{
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
        ArrayView<byte>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<int>,
        ArrayView<float>, ArrayView<int>, ArrayView<float>, AttentionParams> _launch =
        accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<byte>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<int>,
            ArrayView<float>, ArrayView<int>, ArrayView<float>, AttentionParams>(AttentionFusedKernel.Kernel);

    public void Launch(in AttentionArgs a)
    {
        if (a.Variant != AttentionVariant.Fused)
            throw new NotSupportedException($"Attention.Forward: Variant {a.Variant} is not implemented on the ILGPU backend (only {AttentionVariant.Fused}).");
        if (a.HeadDim > LaunchPolicy.MaxAttentionHeadDim)
            throw new NotSupportedException($"Attention.Forward: HeadDim {a.HeadDim} exceeds the ILGPU backend's limit of {LaunchPolicy.MaxAttentionHeadDim} (48 KB of shared memory).");
        if (a.Q.DType != Tensors.DType.F32)
            throw new NotSupportedException($"Attention.Forward: dtype {a.Q.DType} is not implemented on the ILGPU backend.");
        if (a.BlockMask is not null || a.KeyMeans is not null)
            throw new NotSupportedException("Attention.Forward: BlockMask and KeyMeans are not implemented on the ILGPU backend.");
        int nk = a.KeySlots;
        long totalsCount = (long)a.Batch * a.Heads * nk;
        if (a.KeyTotals is { } totals && totalsCount > 0)
            DeviceViews.Elements<float>(totals, totalsCount).MemSetToZero();
        if (a.Batch == 0 || a.Heads == 0 || a.QueryLength == 0) return;
        var (bq, bk) = policy.AttentionTiles(a.HeadDim);
        long work = (long)a.Batch * a.Heads * ((a.QueryLength + bq - 1) / bq);
        // At most MaxGroups groups (16 on the emulator, so the tests also cover the grid-stride reuse of shared memory).
        var config = new KernelConfig(new Index1D((int)Math.Clamp(work, 1, policy.MaxGroups)), new Index1D(policy.AttentionGroupSize),
            SharedMemoryConfig.RequestDynamic<float>(LaunchPolicy.AttentionSharedFloats(a.HeadDim, bq, bk)));
        var q = DeviceViews.Whole<float>(a.Q);
        // Placeholders for absent optional tensors: never read or written (their flags are 0).
        var bytes = DeviceViews.Whole<byte>(a.Q);
        var ints = DeviceViews.Whole<int>(a.Q);
        _launch(config, q, DeviceViews.Whole<float>(a.K), DeviceViews.Whole<float>(a.V), DeviceViews.Whole<float>(a.Dest),
            a.KeyPaddingMask is { } pad ? DeviceViews.Whole<byte>(pad) : bytes,
            a.KeyLengths is { } len ? DeviceViews.Whole<int>(len) : ints,
            a.KeyBias is { } bias ? DeviceViews.Whole<float>(bias) : q,
            a.PositionBias is { } pos ? DeviceViews.Whole<float>(pos) : q,
            a.SelectedKeys is { } sel ? DeviceViews.Whole<int>(sel) : ints,
            a.KeyTotals is { } tot ? DeviceViews.Whole<float>(tot) : q,
            a.RowIndices is { } rows ? DeviceViews.Whole<int>(rows) : ints,
            a.RowProbabilities is { } probs ? DeviceViews.Whole<float>(probs) : q,
            new AttentionParams(a, bq, bk));
    }
}
