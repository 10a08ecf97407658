// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm.Loading.Gguf;

using System.Buffers.Binary;
using System.Runtime.InteropServices;

/// <summary>
/// Expands ggml's block formats to F32, written from the block layouts in ggml's documentation (ggml-common.h).
/// Every format stores its blocks one after another along the contiguous dimension; a scale stored as F16 is widened
/// before use.
/// </summary>
public static class GgufDequantize
{
    /// <summary>Decodes whole blocks of <paramref name="type"/> from <paramref name="src"/> into <paramref name="dst"/>.</summary>
    public static void ToF32(GgufTensorType type, ReadOnlySpan<byte> src, Span<float> dst)
    {
        var (values, bytes) = GgufTensorTypes.Block(type);
        if (values == 0) throw new ArgumentException($"GgufDequantize.ToF32: ggml type {(uint)type} is not supported.", nameof(type));
        if (src.Length % bytes != 0 || (long)src.Length / bytes * values != dst.Length)
            throw new ArgumentException($"GgufDequantize.ToF32: {src.Length} bytes of {type} do not decode to {dst.Length} values.", nameof(dst));
        // The unquantised types in bulk (a 7B model has billions of values): a copy, and the library's F16 widening.
        if (BitConverter.IsLittleEndian && type == GgufTensorType.F32)
        {
            MemoryMarshal.Cast<byte, float>(src).CopyTo(dst);
            return;
        }
        if (BitConverter.IsLittleEndian && type == GgufTensorType.F16)
        {
            System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(src), dst);
            return;
        }
        int blocks = src.Length / bytes;
        for (int b = 0; b < blocks; b++)
        {
            var block = src.Slice(b * bytes, bytes);
            var output = dst.Slice(b * values, values);
            switch (type)
            {
                case GgufTensorType.F32: output[0] = BinaryPrimitives.ReadSingleLittleEndian(block); break;
                case GgufTensorType.F16: output[0] = F16(block); break;
                case GgufTensorType.BF16: output[0] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(block) << 16); break;
                case GgufTensorType.Q8_0: Q8_0(block, output); break;
                case GgufTensorType.Q4_0: Q4_0(block, output); break;
                case GgufTensorType.Q4_K: Q4_K(block, output); break;
                case GgufTensorType.Q6_K: Q6_K(block, output); break;
            }
        }
    }

    private static float F16(ReadOnlySpan<byte> b) => (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(b));

    // { f16 d; int8 q[32] }: x = d q.
    private static void Q8_0(ReadOnlySpan<byte> block, Span<float> y)
    {
        float d = F16(block);
        for (int i = 0; i < 32; i++) y[i] = d * (sbyte)block[2 + i];
    }

    // { f16 d; uint8 q[16] }: the low nibbles are values 0..15, the high nibbles values 16..31; x = d (q - 8).
    private static void Q4_0(ReadOnlySpan<byte> block, Span<float> y)
    {
        float d = F16(block);
        for (int i = 0; i < 16; i++)
        {
            byte q = block[2 + i];
            y[i] = d * ((q & 0xF) - 8);
            y[i + 16] = d * ((q >> 4) - 8);
        }
    }

    // { f16 d; f16 dmin; uint8 scales[12]; uint8 q[128] }: 8 sub-blocks of 32 with 6-bit scale s and min m each;
    // x = d s q - dmin m. Each 32 bytes of q hold two sub-blocks: low nibbles then high nibbles.
    private static void Q4_K(ReadOnlySpan<byte> block, Span<float> y)
    {
        float d = F16(block), dmin = F16(block[2..]);
        var scales = block.Slice(4, 12);
        var q = block.Slice(16, 128);
        for (int pair = 0; pair < 4; pair++)
        {
            var (s0, m0) = ScaleMin(scales, 2 * pair);
            var (s1, m1) = ScaleMin(scales, 2 * pair + 1);
            float d0 = d * s0, o0 = dmin * m0, d1 = d * s1, o1 = dmin * m1;
            var bytes = q.Slice(32 * pair, 32);
            var out0 = y.Slice(64 * pair, 32);
            var out1 = y.Slice(64 * pair + 32, 32);
            for (int l = 0; l < 32; l++)
            {
                out0[l] = d0 * (bytes[l] & 0xF) - o0;
                out1[l] = d1 * (bytes[l] >> 4) - o1;
            }
        }
    }

    // The 12 scale bytes pack eight 6-bit scales and eight 6-bit mins: sub-blocks 0-3 use the low 6 bits of bytes
    // 0-3 (scale) and 4-7 (min); sub-blocks 4-7 take their low 4 bits from bytes 8-11 and their top 2 bits from the
    // spare high bits of bytes 0-7.
    private static (int Scale, int Min) ScaleMin(ReadOnlySpan<byte> s, int j) => j < 4
        ? (s[j] & 63, s[j + 4] & 63)
        : ((s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4), (s[j + 4] >> 4) | ((s[j] >> 6) << 4));

    // { uint8 ql[128]; uint8 qh[64]; int8 scales[16]; f16 d }: 6-bit values (4 low bits in ql, 2 high bits in qh)
    // minus 32, in 16 sub-blocks of 16 with an int8 scale each; x = d scale (q - 32). Each half of 128 values uses 64
    // bytes of ql (low nibbles for values 0-63, high nibbles for 64-127) and 32 bytes of qh (2 bits per quarter).
    private static void Q6_K(ReadOnlySpan<byte> block, Span<float> y)
    {
        var ql = block[..128];
        var qh = block.Slice(128, 64);
        var scales = block.Slice(192, 16);
        float d = F16(block[208..]);
        for (int half = 0; half < 2; half++)
        {
            var l4 = ql.Slice(64 * half, 64);
            var h2 = qh.Slice(32 * half, 32);
            var sc = scales.Slice(8 * half, 8);
            var output = y.Slice(128 * half, 128);
            for (int l = 0; l < 32; l++)
            {
                int sub = l / 16;
                int q1 = ((l4[l] & 0xF) | (((h2[l] >> 0) & 3) << 4)) - 32;
                int q2 = ((l4[l + 32] & 0xF) | (((h2[l] >> 2) & 3) << 4)) - 32;
                int q3 = ((l4[l] >> 4) | (((h2[l] >> 4) & 3) << 4)) - 32;
                int q4 = ((l4[l + 32] >> 4) | (((h2[l] >> 6) & 3) << 4)) - 32;
                output[l] = d * (sbyte)sc[sub] * q1;
                output[l + 32] = d * (sbyte)sc[sub + 2] * q2;
                output[l + 64] = d * (sbyte)sc[sub + 4] * q3;
                output[l + 96] = d * (sbyte)sc[sub + 6] * q4;
            }
        }
    }
}
