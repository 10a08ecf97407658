// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm.Loading.Gguf;

using System.Buffers.Binary;

/// <summary>Encodes F32 values as the types <see cref="GgufWriter"/> writes: F32, F16, BF16 and Q8_0.</summary>
public static class GgufQuantize
{
    /// <summary>Whether <paramref name="type"/> can be written.</summary>
    public static bool CanWrite(GgufTensorType type) => type is GgufTensorType.F32 or GgufTensorType.F16 or GgufTensorType.BF16 or GgufTensorType.Q8_0;

    /// <summary>Encodes <paramref name="src"/> (a whole number of blocks) as <paramref name="type"/> into <paramref name="dst"/>.</summary>
    public static void FromF32(GgufTensorType type, ReadOnlySpan<float> src, Span<byte> dst)
    {
        if (!CanWrite(type)) throw new ArgumentException($"GgufQuantize.FromF32: ggml type {type} cannot be written (F32, F16, BF16, Q8_0).", nameof(type));
        var (values, bytes) = GgufTensorTypes.Block(type);
        if (src.Length % values != 0 || (long)src.Length / values * bytes != dst.Length)
            throw new ArgumentException($"GgufQuantize.FromF32: {src.Length} values do not fill whole {type} blocks of {values} into {dst.Length} bytes.", nameof(dst));
        int blocks = src.Length / values;
        for (int b = 0; b < blocks; b++)
        {
            var x = src.Slice(b * values, values);
            var block = dst.Slice(b * bytes, bytes);
            switch (type)
            {
                case GgufTensorType.F32: BinaryPrimitives.WriteSingleLittleEndian(block, x[0]); break;
                case GgufTensorType.F16: BinaryPrimitives.WriteUInt16LittleEndian(block, BitConverter.HalfToUInt16Bits((Half)x[0])); break;
                case GgufTensorType.BF16: BinaryPrimitives.WriteUInt16LittleEndian(block, ToBf16(x[0])); break;
                case GgufTensorType.Q8_0: Q8_0(x, block); break;
            }
        }
    }

    /// <summary>Rounds to the nearest bfloat16 (ties to even); NaN stays a quiet NaN.</summary>
    public static ushort ToBf16(float x)
    {
        uint bits = BitConverter.SingleToUInt32Bits(x);
        if (float.IsNaN(x)) return (ushort)((bits >> 16) | 0x40);
        return (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }

    // ggml's reference Q8_0: d = max|x| / 127, q = round(x / d) (half away from zero), d stored as F16.
    private static void Q8_0(ReadOnlySpan<float> x, Span<byte> block)
    {
        float amax = 0;
        foreach (float v in x) amax = Math.Max(amax, Math.Abs(v));
        float d = amax / 127f;
        float id = d != 0 ? 1f / d : 0f;
        BinaryPrimitives.WriteUInt16LittleEndian(block, BitConverter.HalfToUInt16Bits((Half)d));
        for (int i = 0; i < 32; i++) block[2 + i] = (byte)(sbyte)MathF.Round(x[i] * id, MidpointRounding.AwayFromZero);
    }
}
