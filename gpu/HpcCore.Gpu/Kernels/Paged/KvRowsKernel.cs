// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Row moves between a page pool [NPages, P, D] and dense rows [N, D] (KvPages.Write / KvPages.Read), one thread per
// element, grid-stride. Write: pages[slots[n] * D + c] = rows[n * D + c]; Read: rows[n * D + c] = pages[slots[n] * D + c].
// Dtypes: either side F32, F16 or BF16. Equal dtypes copy the bits; otherwise the value goes through F32 bits with
// ConvertKernel's integer conversions (F16 widening exact, narrowing round to nearest even, NaN kept quiet), so the
// result is the same bits as Cast.To on every device.
// Range safety (device slots are not range-checked on the host): a write with a slot outside [0, NPages P) is
// skipped; a read of one gives a zero row.
using ILGPU;
using ILGPU.Runtime;

namespace HpcCore.Gpu.Kernels;

using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>Dims of <see cref="KvRowsKernel"/>: dtype codes 0 = F32, 1 = F16, 2 = BF16.</summary>
internal readonly struct KvRowsParams(int count, int headDim, long capacity, int from, int to, int write)
{
    public readonly int Count = count;
    public readonly int D = headDim;
    /// <summary>Page rows in the pool (NPages x P).</summary>
    public readonly long Capacity = capacity;
    public readonly int From = from;
    public readonly int To = to;
    /// <summary>1: rows to pages; 0: pages to rows.</summary>
    public readonly int Write = write;
}

/// <summary>KV page row writes and reads with dtype conversion.</summary>
internal sealed class KvRowsKernel(Accelerator accelerator, LaunchPolicy policy)
{
    private readonly Action<KernelConfig, ArrayView<uint>, ArrayView<ushort>, ArrayView<uint>, ArrayView<ushort>, ArrayView<int>, KvRowsParams> _launch =
        accelerator.LoadStreamKernel<ArrayView<uint>, ArrayView<ushort>, ArrayView<uint>, ArrayView<ushort>, ArrayView<int>, KvRowsParams>(Kernel);

    public void Write(in KvRowsArgs a) => Launch(a, a.Rows, a.Pages, write: true);

    public void Read(in KvRowsArgs a) => Launch(a, a.Pages, a.Rows, write: false);

    private void Launch(in KvRowsArgs a, Tensor source, Tensor destination, bool write)
    {
        long total = (long)a.Count * a.HeadDim;
        if (total == 0) return;
        // The unused view of each pair is a placeholder over the same storage; the kernel never touches it.
        var (s32, s16) = Views(source);
        var (d32, d16) = Views(destination);
        int group = policy.ElementwiseGroupSize;
        long capacity = (long)a.Pages.Shape[0] * a.Pages.Shape[1];
        _launch(new KernelConfig(policy.GridFor(total, group), group), s32, s16, d32, d16,
            DeviceViews.Elements<int>(a.Slots, a.Count),
            new KvRowsParams(a.Count, a.HeadDim, capacity, Code(source.DType), Code(destination.DType), write ? 1 : 0));
    }

    private static (ArrayView<uint> Wide, ArrayView<ushort> Narrow) Views(Tensor t)
    {
        long n = t.ElementCount;
        return t.DType == DType.F32
            ? (DeviceViews.Elements<uint>(t, n), DeviceViews.Whole<ushort>(t))
            : (DeviceViews.Whole<uint>(t), DeviceViews.Elements<ushort>(t, n));
    }

    private static int Code(DType t) => t == DType.F32 ? 0 : t == DType.F16 ? 1 : 2;

    /// <param name="s32">Source bits when the source is F32.</param>
    /// <param name="s16">Source bits when the source is F16 or BF16.</param>
    /// <param name="d32">Destination bits when the destination is F32.</param>
    /// <param name="d16">Destination bits when the destination is F16 or BF16.</param>
    /// <param name="slots">[N] flat page rows.</param>
    /// <param name="p">Dims, dtype codes and direction.</param>
    internal static void Kernel(ArrayView<uint> s32, ArrayView<ushort> s16, ArrayView<uint> d32, ArrayView<ushort> d16,
        ArrayView<int> slots, KvRowsParams p)
    {
        long total = (long)p.Count * p.D;
        long stride = (long)Grid.DimX * Group.DimX;
        for (long i = Grid.GlobalIndex.X; i < total; i += stride)
        {
            long n = i / p.D;
            long c = i - n * p.D;
            long slot = slots[n];
            bool valid = slot >= 0 && slot < p.Capacity;
            long page = slot * p.D + c;
            long from = p.Write != 0 ? i : page, to = p.Write != 0 ? page : i;
            if (!valid)
            {
                if (p.Write != 0) continue;
                if (p.To == 0) d32[to] = 0u;
                else d16[to] = 0;
                continue;
            }
            if (p.From == p.To)
            {
                if (p.To == 0) d32[to] = s32[from];
                else d16[to] = s16[from];
                continue;
            }
            uint f = p.From == 0 ? s32[from] : p.From == 1 ? ConvertKernel.HalfToSingleBits(s16[from]) : (uint)s16[from] << 16;
            if (p.To == 0) d32[to] = f;
            else if (p.To == 1) d16[to] = ConvertKernel.SingleToHalfBits(f);
            else d16[to] = ConvertKernel.SingleToBFloat16Bits(f);
        }
    }
}
