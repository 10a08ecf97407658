// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Reference float conversions written from the IEEE definitions, independent of the kernels' bit tricks.
namespace HpcCore.Testing.Reference;

/// <summary>Reference F32 to BF16/F16 rounding (round to nearest, ties to even).</summary>
public static class ReferenceConvert
{
    /// <summary>The BF16 value nearest to <paramref name="v"/> (ties to even), as bits; NaN maps to a quiet NaN.</summary>
    public static ushort ToBf16(float v)
    {
        if (float.IsNaN(v)) return (ushort)((BitConverter.SingleToUInt32Bits(v) >> 16) | 0x40);
        uint bits = BitConverter.SingleToUInt32Bits(v);
        uint lower = bits & 0xFFFF, upper = bits >> 16;
        // Compare the dropped half with exactly half an ulp of the kept part.
        if (lower > 0x8000 || (lower == 0x8000 && (upper & 1) == 1)) upper++;
        return (ushort)upper;
    }

    /// <summary>BF16 bits to float.</summary>
    public static float FromBf16(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>The F16 value nearest to <paramref name="v"/> through the BCL's IEEE conversion.</summary>
    public static Half ToF16(float v) => (Half)v;
}
