// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Host side of the paged attention kernel: zeroes the exports, rents the scratch (per group the probabilities of one
// row, MaxSlots + 1 floats, with the group count capped so that these stay within 64 MB; then the compensation
// tensors, copied in because the kernel is at ILGPU's parameter limit), binds the optional tensors (absent ones become
// never-read placeholder views), takes the inverse RoPE frequencies from RopeKernel's cached table and launches
// PagedAttentionGroupKernel: one group per (b, h), at most MaxGroups groups (16 on the emulator, so the tests cover
// the grid-stride reuse of a group's scratch slice).
// One launcher per page dtype (F32, F16, BF16), compiled on first use. Refusal (NotSupportedException): F16 pages on
// a device without native half precision, as for Attention.Forward.
// The scratch comes from the backend's pool (size classes: steady-state calls allocate nothing) and is returned right
// after the launch is queued: everything runs in order on the accelerator's default stream.
using ILGPU;
using ILGPU.Runtime;

namespace HpcCore.Gpu.Kernels;

using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>Cached launchers of the paged attention kernel, per page dtype.</summary>
internal sealed class PagedAttentionKernel(Accelerator accelerator, LaunchPolicy policy, IlgpuMemoryPool pool, Func<RopeKernel> rope,
    bool supportsF16)
{
    private readonly LaunchPolicy _policy = policy;
    private readonly IlgpuMemoryPool _pool = pool;
    private readonly Func<RopeKernel> _rope = rope;
    private readonly Lazy<Launcher<float, F32Element>> _f32 = new(() => new(accelerator, policy.WarpShuffles));
    private readonly Lazy<Launcher<ILGPU.Half, F16Element>> _f16 = new(() => new(accelerator, policy.WarpShuffles));
    private readonly Lazy<Launcher<ushort, BF16Element>> _bf16 = new(() => new(accelerator, policy.WarpShuffles));

    /// <summary>Probability scratch (floats) a launch may hold at most: 64 MB, i.e. 512 groups of 32k-slot heads.</summary>
    public const long MaxScratchFloats = 1L << 24;

    /// <summary>
    /// Groups a launch for <paramref name="a"/> uses, each owning one scratch slice of MaxSlots + 1 floats: one per
    /// (b, h) up to the policy's MaxGroups, fewer when the slices would exceed <see cref="MaxScratchFloats"/>.
    /// </summary>
    public int GroupsFor(in PagedAttentionArgs a)
    {
        long byScratch = Math.Max(1, MaxScratchFloats / (PagedAttentionParams.MaxSlots(a) + 1L));
        return (int)Math.Clamp(Math.Min((long)a.Batch * a.Heads, byScratch), 1, _policy.MaxGroups);
    }

    public void Launch(in PagedAttentionArgs a)
    {
        ZeroExports(a);
        if ((long)a.Batch * a.Heads * a.QueryLength == 0 || a.HeadDim == 0)
        {
            if (a.Dest.ElementCount > 0) DeviceViews.Elements<float>(a.Dest, a.Dest.ElementCount).MemSetToZero();
            return;
        }
        switch (a.KeyPages.DType)
        {
            case DType.F32: _f32.Value.Launch(a, this); break;
            case DType.F16 when !supportsF16:
                throw new NotSupportedException($"PagedAttention.Forward: F16 pages (shape {a.KeyPages.Shape}) need native half precision, which this device lacks (CUDA sm_53+, OpenCL cl_khr_fp16); use F32 or BF16.");
            case DType.F16: _f16.Value.Launch(a, this); break;
            default: _bf16.Value.Launch(a, this); break;
        }
    }

    private static void ZeroExports(in PagedAttentionArgs a)
    {
        Zero(a.KeyTotals);
        Zero(a.WindowTotals);
        Zero(a.Probabilities);
    }

    private static void Zero(Tensor? t)
    {
        if (t is not null && t.ElementCount > 0) DeviceViews.Elements<float>(t, t.ElementCount).MemSetToZero();
    }

    /// <summary>The kernel for pages of type <typeparamref name="T"/>.</summary>
    private sealed class Launcher<T, TElem>(Accelerator accelerator, bool warpShuffles)
        where T : unmanaged
        where TElem : struct, IAttentionElement<T>
    {
        private readonly Action<KernelConfig, ArrayView<float>, ArrayView<T>, ArrayView<T>, ArrayView<int>, ArrayView<int>,
            ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<double>, PagedAttentionParams> _kernel = warpShuffles
            ? accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<T>, ArrayView<T>, ArrayView<int>, ArrayView<int>,
                ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
                ArrayView<float>, ArrayView<double>, PagedAttentionParams>(PagedAttentionGroupKernel.Kernel<T, TElem, WarpShuffleReduce>)
            : accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<T>, ArrayView<T>, ArrayView<int>, ArrayView<int>,
                ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
                ArrayView<float>, ArrayView<double>, PagedAttentionParams>(PagedAttentionGroupKernel.Kernel<T, TElem, SharedTreeReduce>);

        public void Launch(in PagedAttentionArgs a, PagedAttentionKernel owner)
        {
            int groups = owner.GroupsFor(a);
            int slotStride = PagedAttentionParams.MaxSlots(a) + 1;
            long probsFloats = (long)groups * slotStride;
            long kvFloats = (long)a.Batch * a.KvHeads * a.HeadDim;
            bool comp = a.CompensationBias is not null;
            long scratchFloats = probsFloats + (comp ? 2 * kvFloats + (long)a.Batch * a.KvHeads : 0);
            var scratch = owner._pool.Rent(scratchFloats * sizeof(float));
            try
            {
                var floats = ((ArrayView<byte>)scratch.View).SubView(0, scratchFloats * sizeof(float)).Cast<float>();
                long offKeys = probsFloats, offValues = offKeys + kvFloats, offBias = offValues + kvFloats;
                if (comp)
                {
                    Copy(a.CompensationKeys!, floats.SubView(offKeys, kvFloats));
                    Copy(a.CompensationValues!, floats.SubView(offValues, kvFloats));
                    Copy(a.CompensationBias!, floats.SubView(offBias, (long)a.Batch * a.KvHeads));
                }
                var p = new PagedAttentionParams(a, slotStride, offKeys, offValues, offBias);
                var ints = DeviceViews.Whole<int>(a.Lengths);   // placeholders: never read or written (flags 0)
                var freqs = a.RopeKeys && a.RotaryDim > 0
                    ? owner._rope().Frequencies(a.RotaryDim, a.RopeTheta)
                    : DeviceViews.Whole<double>(a.Q);
                var config = new KernelConfig(new Index1D(groups), new Index1D(owner._policy.RowGroupSize(slotStride)),
                    SharedMemoryConfig.RequestDynamic<float>(a.HeadDim));
                long pageCount = a.KeyPages.ElementCount;
                long qCount = a.Q.ElementCount;
                _kernel(config,
                    DeviceViews.Elements<float>(a.Q, qCount),
                    DeviceViews.Elements<T>(a.KeyPages, pageCount),
                    DeviceViews.Elements<T>(a.ValuePages, pageCount),
                    Ints(a.BlockTables, ints),
                    Ints(a.Lengths, ints),
                    a.SelectedKeys is { } sel ? Ints(sel, ints) : ints,
                    a.SelectedCounts is { } counts ? Ints(counts, ints) : ints,
                    DeviceViews.Elements<float>(a.Dest, qCount),
                    Floats(a.KeyTotals, floats),
                    Floats(a.WindowTotals, floats),
                    Floats(a.Probabilities, floats),
                    floats,
                    freqs,
                    p);
            }
            finally
            {
                owner._pool.Return(scratch);
            }
        }

        private static void Copy(Tensor source, ArrayView<float> target) =>
            DeviceViews.Elements<float>(source, target.Length).CopyTo(target);

        private static ArrayView<int> Ints(Tensor t, ArrayView<int> placeholder) =>
            t.ElementCount > 0 ? DeviceViews.Elements<int>(t, t.ElementCount) : placeholder;

        private static ArrayView<float> Floats(Tensor? t, ArrayView<float> placeholder) =>
            t is not null && t.ElementCount > 0 ? DeviceViews.Elements<float>(t, t.ElementCount) : placeholder;
    }
}
