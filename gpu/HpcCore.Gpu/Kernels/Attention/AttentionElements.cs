// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Element codecs of the attention kernels: every operand is widened to F32 on load (the kernels accumulate in F32,
// like flash-attn's fp16/bf16 kernels) and the output is rounded once on store. One generic kernel body serves every
// dtype; ILGPU specialises it per codec struct, so the F32 path has no conversion at all.
// F16 loads use ILGPU.Half's widening (cvt.f32.f16 on PTX). Stores round with the integer round-to-nearest-even of
// ConvertKernel, so the output bits match Cast.To on every device (no cvt.rn.f16, whose NaN payloads differ).
// BF16 has no ILGPU type: it travels as ushort, widened by a 16-bit shift and rounded like ConvertKernel.
using ILGPU;

namespace HpcCore.Gpu.Kernels;

/// <summary>Load (widen to F32) and store (round from F32) of one attention operand element type.</summary>
internal interface IAttentionElement<T>
    where T : unmanaged
{
    /// <summary>The element as F32.</summary>
    float Load(T x);

    /// <summary>The F32 value rounded to the element type.</summary>
    T Store(float x);
}

/// <summary>F32 operands: no conversion.</summary>
internal readonly struct F32Element : IAttentionElement<float>
{
    public float Load(float x) => x;

    public float Store(float x) => x;
}

/// <summary>F16 operands as <see cref="ILGPU.Half"/>.</summary>
internal readonly struct F16Element : IAttentionElement<ILGPU.Half>
{
    public float Load(ILGPU.Half x) => x;

    public ILGPU.Half Store(float x) => Interop.IntAsFloat(ConvertKernel.SingleToHalfBits(Interop.FloatAsInt(x)));
}

/// <summary>BF16 operands as their raw ushort bits.</summary>
internal readonly struct BF16Element : IAttentionElement<ushort>
{
    public float Load(ushort x) => Interop.IntAsFloat((uint)x << 16);

    public ushort Store(float x) => ConvertKernel.SingleToBFloat16Bits(Interop.FloatAsInt(x));
}
