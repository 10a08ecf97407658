// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Strided copy of rank <= 8 (Contiguous, CopyTo): d[dstOffset + sum i_k * ds_k] = s[srcOffset + sum i_k * ss_k].
// Algorithm: one thread per element, grid-stride over the row-major linear index, which is decomposed into axis
// indices innermost first (so consecutive threads walk the innermost axis). Generic over the element type, which is
// picked by element size (1, 2, 4 or 8 bytes), never by dtype. Shape and strides travel in a fixed-size struct.
using ILGPU;
using ILGPU.Runtime;

namespace HpcCore.Gpu.Kernels;

using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>Shape, strides (elements) and offsets of a strided copy, rank &lt;= 8, held inline.</summary>
internal readonly struct CopyStridedParams
{
    public readonly long Count;
    public readonly long SrcOffset, DstOffset;
    public readonly int Rank;
    public readonly int N0, N1, N2, N3, N4, N5, N6, N7;
    public readonly long S0, S1, S2, S3, S4, S5, S6, S7;
    public readonly long D0, D1, D2, D3, D4, D5, D6, D7;

    public CopyStridedParams(Tensor src, Tensor dst)
    {
        Count = src.ElementCount;
        SrcOffset = src.Offset;
        DstOffset = dst.Offset;
        Rank = src.Rank;
        int r = Rank;
        var s = src.Strides;
        var d = dst.Strides;
        N0 = r > 0 ? src.Shape[0] : 1; S0 = r > 0 ? s[0] : 0; D0 = r > 0 ? d[0] : 0;
        N1 = r > 1 ? src.Shape[1] : 1; S1 = r > 1 ? s[1] : 0; D1 = r > 1 ? d[1] : 0;
        N2 = r > 2 ? src.Shape[2] : 1; S2 = r > 2 ? s[2] : 0; D2 = r > 2 ? d[2] : 0;
        N3 = r > 3 ? src.Shape[3] : 1; S3 = r > 3 ? s[3] : 0; D3 = r > 3 ? d[3] : 0;
        N4 = r > 4 ? src.Shape[4] : 1; S4 = r > 4 ? s[4] : 0; D4 = r > 4 ? d[4] : 0;
        N5 = r > 5 ? src.Shape[5] : 1; S5 = r > 5 ? s[5] : 0; D5 = r > 5 ? d[5] : 0;
        N6 = r > 6 ? src.Shape[6] : 1; S6 = r > 6 ? s[6] : 0; D6 = r > 6 ? d[6] : 0;
        N7 = r > 7 ? src.Shape[7] : 1; S7 = r > 7 ? s[7] : 0; D7 = r > 7 ? d[7] : 0;
    }

    public int Dim(int axis) => axis switch
    {
        0 => N0, 1 => N1, 2 => N2, 3 => N3, 4 => N4, 5 => N5, 6 => N6, _ => N7,
    };

    public long SrcStride(int axis) => axis switch
    {
        0 => S0, 1 => S1, 2 => S2, 3 => S3, 4 => S4, 5 => S5, 6 => S6, _ => S7,
    };

    public long DstStride(int axis) => axis switch
    {
        0 => D0, 1 => D1, 2 => D2, 3 => D3, 4 => D4, 5 => D5, 6 => D6, _ => D7,
    };
}

/// <summary>Element-by-element strided copy for 1-, 2-, 4- and 8-byte elements.</summary>
internal sealed class CopyStridedKernel(Accelerator accelerator, LaunchPolicy policy)
{
    private readonly Action<KernelConfig, ArrayView<byte>, ArrayView<byte>, CopyStridedParams> _copy8 =
        accelerator.LoadStreamKernel<ArrayView<byte>, ArrayView<byte>, CopyStridedParams>(Kernel);
    private readonly Action<KernelConfig, ArrayView<ushort>, ArrayView<ushort>, CopyStridedParams> _copy16 =
        accelerator.LoadStreamKernel<ArrayView<ushort>, ArrayView<ushort>, CopyStridedParams>(Kernel);
    private readonly Action<KernelConfig, ArrayView<uint>, ArrayView<uint>, CopyStridedParams> _copy32 =
        accelerator.LoadStreamKernel<ArrayView<uint>, ArrayView<uint>, CopyStridedParams>(Kernel);
    private readonly Action<KernelConfig, ArrayView<ulong>, ArrayView<ulong>, CopyStridedParams> _copy64 =
        accelerator.LoadStreamKernel<ArrayView<ulong>, ArrayView<ulong>, CopyStridedParams>(Kernel);

    public void Launch(in CopyStridedArgs a)
    {
        long count = a.Source.ElementCount;
        if (count == 0) return;
        var p = new CopyStridedParams(a.Source, a.Dest);
        int group = policy.ElementwiseGroupSize;
        var config = new KernelConfig(policy.GridFor(count, group), group);
        switch (a.Source.DType.SizeInBytes())
        {
            case 1: _copy8(config, DeviceViews.Whole<byte>(a.Source), DeviceViews.Whole<byte>(a.Dest), p); break;
            case 2: _copy16(config, DeviceViews.Whole<ushort>(a.Source), DeviceViews.Whole<ushort>(a.Dest), p); break;
            case 4: _copy32(config, DeviceViews.Whole<uint>(a.Source), DeviceViews.Whole<uint>(a.Dest), p); break;
            default: _copy64(config, DeviceViews.Whole<ulong>(a.Source), DeviceViews.Whole<ulong>(a.Dest), p); break;
        }
    }

    /// <param name="s">Source storage, as elements.</param>
    /// <param name="d">Destination storage, as elements.</param>
    /// <param name="p">Shape, strides and offsets.</param>
    internal static void Kernel<T>(ArrayView<T> s, ArrayView<T> d, CopyStridedParams p) where T : unmanaged
    {
        long stride = (long)Grid.DimX * Group.DimX;
        for (long i = Grid.GlobalIndex.X; i < p.Count; i += stride)
        {
            long rem = i, so = p.SrcOffset, dof = p.DstOffset;
            for (int ax = p.Rank - 1; ax >= 0; ax--)
            {
                int n = p.Dim(ax);
                long k = rem % n;
                rem /= n;
                so += k * p.SrcStride(ax);
                dof += k * p.DstStride(ax);
            }
            d[dof] = s[so];
        }
    }
}
