// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm.Loading.Gguf;

/// <summary>
/// ggml tensor types this reader knows (the numbering is ggml's <c>ggml_type</c>). F32, F16, BF16 and Q8_0 are written;
/// Q4_0, Q4_K and Q6_K (the types of Q4_0 and Q4_K_M downloads) are read too. Every type is dequantised to F32 at load.
/// </summary>
public enum GgufTensorType : uint
{
    /// <summary>IEEE binary32.</summary>
    F32 = 0,
    /// <summary>IEEE binary16.</summary>
    F16 = 1,
    /// <summary>Blocks of 32: an F16 scale d, then 16 bytes of 4-bit values q; x = (q - 8) d.</summary>
    Q4_0 = 2,
    /// <summary>Blocks of 32: an F16 scale d, then 32 int8 values q; x = q d.</summary>
    Q8_0 = 8,
    /// <summary>Super-blocks of 256: F16 d and dmin, 12 bytes of packed 6-bit scales and mins for 8 sub-blocks, 128 bytes of 4-bit values.</summary>
    Q4_K = 12,
    /// <summary>Super-blocks of 256: 128 bytes of low 4 bits, 64 bytes of high 2 bits, 16 int8 sub-block scales, an F16 d.</summary>
    Q6_K = 14,
    /// <summary>bfloat16 (the upper half of a binary32).</summary>
    BF16 = 30,
}

/// <summary>Block geometry of each <see cref="GgufTensorType"/>.</summary>
public static class GgufTensorTypes
{
    /// <summary>Values per block and bytes per block, or (0, 0) for a type this reader does not know.</summary>
    public static (int BlockValues, int BlockBytes) Block(GgufTensorType type) => type switch
    {
        GgufTensorType.F32 => (1, 4),
        GgufTensorType.F16 => (1, 2),
        GgufTensorType.BF16 => (1, 2),
        GgufTensorType.Q4_0 => (32, 18),
        GgufTensorType.Q8_0 => (32, 34),
        GgufTensorType.Q4_K => (256, 144),
        GgufTensorType.Q6_K => (256, 210),
        _ => (0, 0),
    };

    /// <summary>Whether <paramref name="type"/> is one of the known values.</summary>
    public static bool IsKnown(GgufTensorType type) => Block(type).BlockValues > 0;

    /// <summary>
    /// Bytes of <paramref name="elements"/> values of <paramref name="type"/> (a whole number of blocks), with checked
    /// arithmetic.
    /// </summary>
    public static long ByteSize(GgufTensorType type, long elements)
    {
        var (values, bytes) = Block(type);
        return checked(elements / values * bytes);
    }
}
