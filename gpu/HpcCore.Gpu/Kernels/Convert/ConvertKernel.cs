// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Elementwise dtype conversion between F32, F16 and BF16, bit-identical to the CPU backend.
// Algorithm: every conversion goes through binary32 bits, like the CPU (so F16->F16 and BF16->BF16 quiet NaNs the same
// way). All rounding is done with integer arithmetic rather than cvt instructions, so the result is the same bits
// on every device: F32->F16 round-to-nearest-even with overflow to inf, subnormals, and NaN kept quiet with the top
// payload bits; F32->BF16 the "add 0x7FFF + lsb" rounding with NaN -> (bits >> 16) | 0x40 (quiet, sign kept).
// Storage: F16 and BF16 travel as ushort (System.Half is not allowed in kernels). Limits: contiguous, Count elements.
using ILGPU;
using ILGPU.Runtime;

namespace HpcCore.Gpu.Kernels;

using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>Dims of <see cref="ConvertKernel"/>: 0 = F32, 1 = F16, 2 = BF16.</summary>
internal readonly struct ConvertParams(long count, int from, int to)
{
    public readonly long Count = count;
    public readonly int From = from;
    public readonly int To = to;
}

/// <summary>F32 / F16 / BF16 conversion.</summary>
internal sealed class ConvertKernel(Accelerator accelerator, LaunchPolicy policy)
{
    private readonly Action<KernelConfig, ArrayView<uint>, ArrayView<ushort>, ArrayView<uint>, ArrayView<ushort>, ConvertParams> _launch =
        accelerator.LoadStreamKernel<ArrayView<uint>, ArrayView<ushort>, ArrayView<uint>, ArrayView<ushort>, ConvertParams>(Kernel);

    public void Launch(in ConvertArgs a)
    {
        if (a.Count == 0) return;
        // The unused view of each pair is a placeholder over the same storage; the kernel never reads it.
        bool x32 = a.X.DType == DType.F32, d32 = a.Dest.DType == DType.F32;
        var xs32 = x32 ? DeviceViews.Elements<uint>(a.X, a.Count) : DeviceViews.Whole<uint>(a.X);
        var xs16 = x32 ? DeviceViews.Whole<ushort>(a.X) : DeviceViews.Elements<ushort>(a.X, a.Count);
        var ds32 = d32 ? DeviceViews.Elements<uint>(a.Dest, a.Count) : DeviceViews.Whole<uint>(a.Dest);
        var ds16 = d32 ? DeviceViews.Whole<ushort>(a.Dest) : DeviceViews.Elements<ushort>(a.Dest, a.Count);
        int group = policy.ElementwiseGroupSize;
        _launch(new KernelConfig(policy.GridFor(a.Count, group), group), xs32, xs16, ds32, ds16,
            new ConvertParams(a.Count, Code(a.X.DType), Code(a.Dest.DType)));
    }

    private static int Code(DType t) => t == DType.F32 ? 0 : t == DType.F16 ? 1 : 2;

    /// <param name="x32">[N] source bits when the source is F32.</param>
    /// <param name="x16">[N] source bits when the source is F16 or BF16.</param>
    /// <param name="d32">[N] destination bits when the destination is F32.</param>
    /// <param name="d16">[N] destination bits when the destination is F16 or BF16.</param>
    /// <param name="p">Count and dtype codes.</param>
    internal static void Kernel(ArrayView<uint> x32, ArrayView<ushort> x16, ArrayView<uint> d32, ArrayView<ushort> d16, ConvertParams p)
    {
        long stride = (long)Grid.DimX * Group.DimX;
        for (long i = Grid.GlobalIndex.X; i < p.Count; i += stride)
        {
            uint f = p.From == 0 ? x32[i] : p.From == 1 ? HalfToSingleBits(x16[i]) : (uint)x16[i] << 16;
            if (p.To == 0) d32[i] = f;
            else if (p.To == 1) d16[i] = SingleToHalfBits(f);
            else d16[i] = SingleToBFloat16Bits(f);
        }
    }

    /// <summary>binary16 bits to binary32 bits (exact; NaN payload kept with the quiet bit set).</summary>
    internal static uint HalfToSingleBits(ushort h)
    {
        uint sign = (uint)(h & 0x8000) << 16;
        uint e = (uint)(h >> 10) & 0x1F;
        uint m = (uint)h & 0x3FF;
        if (e == 0x1F) return m == 0 ? sign | 0x7F800000u : sign | 0x7FC00000u | (m << 13);
        if (e != 0) return sign | ((e + 112) << 23) | (m << 13);
        if (m == 0) return sign;
        // Subnormal: shift the leading 1 up to the implicit-bit position, lowering the exponent as we go.
        uint exp = 113;
        while ((m & 0x400) == 0)
        {
            m <<= 1;
            exp--;
        }
        return sign | (exp << 23) | ((m & 0x3FF) << 13);
    }

    /// <summary>binary32 bits to binary16 bits, round to nearest even.</summary>
    internal static ushort SingleToHalfBits(uint f)
    {
        uint sign = (f >> 16) & 0x8000;
        uint abs = f & 0x7FFFFFFF;
        if (abs > 0x7F800000) return (ushort)(sign | 0x7E00 | ((abs >> 13) & 0x3FF)); // NaN: quiet, top payload bits
        if (abs >= 0x477FF000) return (ushort)(sign | 0x7C00);                        // >= 65520 rounds to inf
        if (abs >= 0x38800000)                                                         // normal half (>= 2^-14)
        {
            uint h = (abs >> 13) - (112u << 10);
            uint rem = abs & 0x1FFF;
            if (rem > 0x1000 || (rem == 0x1000 && (h & 1) != 0)) h++;
            return (ushort)(sign | h);
        }
        if (abs <= 0x33000000) return (ushort)sign;                                   // <= 2^-25 ties to zero
        // Subnormal half: value = m * 2^-24, so shift the 24-bit significand right by 126 - exponent (14..24).
        uint mant = (abs & 0x7FFFFF) | 0x800000;
        int shift = 126 - (int)(abs >> 23);
        uint r = mant >> shift;
        uint rest = mant & ((1u << shift) - 1);
        uint half = 1u << (shift - 1);
        if (rest > half || (rest == half && (r & 1) != 0)) r++;
        return (ushort)(sign | r);
    }

    /// <summary>binary32 bits to bfloat16 bits, round to nearest even; NaN stays a (quiet) NaN.</summary>
    internal static ushort SingleToBFloat16Bits(uint f)
    {
        if ((f & 0x7FFFFFFF) > 0x7F800000) return (ushort)((f >> 16) | 0x40);
        return (ushort)((f + 0x7FFFu + ((f >> 16) & 1)) >> 16);
    }
}
