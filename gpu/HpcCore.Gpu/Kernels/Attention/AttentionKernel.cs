// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Host side of the fused attention kernels: picks the plan (LaunchPolicy.AttentionPlanFor: tiles, and the
// split-over-keys decode path), zeroes KeyTotals, binds the optional tensors (absent ones are replaced by never-read
// placeholder views), launches AttentionFusedKernel and, when split, AttentionCombineKernel over a pooled scratch
// buffer, and AttentionKeyMeansKernel for KeyMeans. One launcher set per operand dtype (F32, F16, BF16), each
// compiled on first use.
// Host-side refusals (NotSupportedException): the Unfused variant (the GPU has only the fused kernel), head dims
// above LaunchPolicy.MaxAttentionHeadDim (the shared-memory tiles would not fit in 48 KB), and F16 on a device
// without native half precision (the F16 kernel widens with cvt.f32.f16; BF16 needs nothing: integer shifts).
using ILGPU;
using ILGPU.Runtime;

namespace HpcCore.Gpu.Kernels;

using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>Cached launchers of the attention kernels, per operand dtype.</summary>
internal sealed class AttentionKernel(Accelerator accelerator, LaunchPolicy policy, IlgpuMemoryPool pool, bool supportsF16)
{
    private readonly Lazy<Launcher<float, F32Element>> _f32 = new(() => new(accelerator));
    private readonly Lazy<Launcher<ILGPU.Half, F16Element>> _f16 = new(() => new(accelerator));
    private readonly Lazy<Launcher<ushort, BF16Element>> _bf16 = new(() => new(accelerator));

    public void Launch(in AttentionArgs a)
    {
        if (a.Variant != AttentionVariant.Fused)
            throw new NotSupportedException($"Attention.Forward: Variant {a.Variant} is not implemented on the ILGPU backend (only {AttentionVariant.Fused}).");
        if (a.HeadDim > LaunchPolicy.MaxAttentionHeadDim)
            throw new NotSupportedException($"Attention.Forward: HeadDim {a.HeadDim} exceeds the ILGPU backend's limit of {LaunchPolicy.MaxAttentionHeadDim} (48 KB of shared memory).");
        switch (a.Q.DType)
        {
            case DType.F32: _f32.Value.Launch(a, policy, pool); break;
            case DType.F16 when !supportsF16:
                throw new NotSupportedException($"Attention.Forward: F16 operands (q {a.Q.Shape}) need native half precision, which this device lacks (CUDA sm_53+, OpenCL cl_khr_fp16); use F32 or BF16.");
            case DType.F16: _f16.Value.Launch(a, policy, pool); break;
            default: _bf16.Value.Launch(a, policy, pool); break;
        }
    }

    /// <summary>The three kernels for operands of type <typeparamref name="T"/>.</summary>
    private sealed class Launcher<T, TElem>(Accelerator accelerator)
        where T : unmanaged
        where TElem : struct, IAttentionElement<T>
    {
        private readonly Action<KernelConfig, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>,
            ArrayView<byte>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<int>,
            ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<byte>, AttentionParams> _fused =
            accelerator.LoadStreamKernel<ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>,
                ArrayView<byte>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<int>,
                ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<byte>, AttentionParams>(
                AttentionFusedKernel.Kernel<T, TElem>);

        private readonly Lazy<Action<KernelConfig, ArrayView<float>, ArrayView<T>, AttentionCombineParams>> _combine =
            new(() => accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<T>, AttentionCombineParams>(
                AttentionCombineKernel.Kernel<T, TElem>));

        private readonly Lazy<Action<KernelConfig, ArrayView<T>, ArrayView<float>, KeyMeansParams>> _means =
            new(() => accelerator.LoadStreamKernel<ArrayView<T>, ArrayView<float>, KeyMeansParams>(
                AttentionKeyMeansKernel.Kernel<T, TElem>));

        public void Launch(in AttentionArgs a, LaunchPolicy policy, IlgpuMemoryPool pool)
        {
            var k = DeviceViews.Whole<T>(a.K);
            long meansCount = (long)a.Batch * a.KeyLength * a.HeadDim;
            if (a.KeyMeans is { } means && meansCount > 0)
            {
                int group = policy.ElementwiseGroupSize;
                _means.Value(new KernelConfig(policy.GridFor(meansCount, group), group), k, DeviceViews.Whole<float>(means),
                    new KeyMeansParams(a));
            }
            int nk = a.KeySlots;
            long totalsCount = (long)a.Batch * a.Heads * nk;
            if (a.KeyTotals is { } totals && totalsCount > 0)
                DeviceViews.Elements<float>(totals, totalsCount).MemSetToZero();
            if (a.Batch == 0 || a.QueryLength == 0) return;

            bool exports = a.KeyTotals is not null || a.RowIndices is not null;
            var plan = policy.AttentionPlanFor(a.QueryLength, nk, (long)a.Batch * a.Heads, a.HeadDim, exports);
            var p = new AttentionParams(a, plan);
            long work = (long)a.Batch * a.Heads * ((a.QueryLength + plan.QueryBlock - 1) / plan.QueryBlock) * plan.Splits;
            // At most MaxGroups groups (16 on the emulator, so the tests also cover the grid-stride reuse of shared memory).
            var config = new KernelConfig(new Index1D((int)Math.Clamp(work, 1, policy.MaxGroups)), new Index1D(policy.AttentionGroupSize),
                SharedMemoryConfig.RequestDynamic<float>(LaunchPolicy.AttentionSharedFloats(a.HeadDim, plan.QueryBlock, plan.KeyTile)));
            // Placeholders for absent optional tensors: never read or written (their flags are 0).
            var floats = DeviceViews.Whole<float>(a.Q);
            var bytes = DeviceViews.Whole<byte>(a.Q);
            var ints = DeviceViews.Whole<int>(a.Q);
            var dest = DeviceViews.Whole<T>(a.Dest);
            // Split plans write (m, l, O) partial rows to a pooled scratch buffer; returning it right after queuing the
            // combine is safe because everything runs in order on the accelerator's default stream.
            MemoryBuffer1D<byte, Stride1D.Dense>? scratch = plan.Splits > 1
                ? pool.Rent(work * plan.QueryBlock * (a.HeadDim + 2) * sizeof(float))
                : null;
            try
            {
                ArrayView<byte> raw = scratch?.View ?? default;
                var partials = scratch is null ? floats : raw.Cast<float>();
                _fused(config, DeviceViews.Whole<T>(a.Q), k, DeviceViews.Whole<T>(a.V), dest,
                    a.KeyPaddingMask is { } pad ? DeviceViews.Whole<byte>(pad) : bytes,
                    a.KeyLengths is { } len ? DeviceViews.Whole<int>(len) : ints,
                    a.KeyBias is { } bias ? DeviceViews.Whole<float>(bias) : floats,
                    a.PositionBias is { } pos ? DeviceViews.Whole<float>(pos) : floats,
                    a.SelectedKeys is { } sel ? DeviceViews.Whole<int>(sel) : ints,
                    // One slot for both float outputs: the policy never splits when a score export is requested.
                    a.KeyTotals is { } tot ? DeviceViews.Whole<float>(tot) : partials,
                    a.RowIndices is { } rows ? DeviceViews.Whole<int>(rows) : ints,
                    a.RowProbabilities is { } probs ? DeviceViews.Whole<float>(probs) : floats,
                    a.BlockMask is { } blocks ? DeviceViews.Whole<byte>(blocks) : bytes,
                    p);
                if (scratch is not null)
                {
                    long count = (long)a.Batch * a.QueryLength * a.Heads * a.HeadDim;
                    int group = policy.ElementwiseGroupSize;
                    _combine.Value(new KernelConfig(policy.GridFor(count, group), group), partials, dest, new AttentionCombineParams(p));
                }
            }
            finally
            {
                if (scratch is not null) pool.Return(scratch);
            }
        }
    }
}
