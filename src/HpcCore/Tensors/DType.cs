// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Element types a Tensor can hold.
namespace HpcCore.Tensors;

/// <summary>Element type of a <see cref="Tensor"/>.</summary>
public enum DType : byte
{
    /// <summary>IEEE 754 binary32.</summary>
    F32,
    /// <summary>IEEE 754 binary16 (<see cref="System.Half"/> on the host).</summary>
    F16,
    /// <summary>bfloat16: the upper 16 bits of a binary32, stored as <see cref="ushort"/>.</summary>
    BF16,
    /// <summary>Signed 32-bit integer.</summary>
    I32,
    /// <summary>Signed 64-bit integer.</summary>
    I64,
    /// <summary>Unsigned byte.</summary>
    U8,
    /// <summary>Boolean stored as one byte (0 or 1).</summary>
    Bool,
}

/// <summary>Size and naming helpers for <see cref="DType"/>.</summary>
public static class DTypeExtensions
{
    /// <summary>Bytes per element.</summary>
    public static int SizeInBytes(this DType dtype) =>
        (uint)dtype < (uint)Sizes.Length ? Sizes[(int)dtype] : UnknownSize(dtype);

    // By enum value: F32, F16, BF16, I32, I64, U8, Bool (a table lookup that inlines into every byte-size query).
    private static ReadOnlySpan<byte> Sizes => [4, 2, 2, 4, 8, 1, 1];

    private static int UnknownSize(DType dtype) =>
        throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown dtype.");

    /// <summary>The dtype whose host element type is <typeparamref name="T"/>.</summary>
    /// <exception cref="NotSupportedException">T has no matching dtype.</exception>
    public static DType Of<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return DType.F32;
        if (typeof(T) == typeof(Half)) return DType.F16;
        if (typeof(T) == typeof(int)) return DType.I32;
        if (typeof(T) == typeof(long)) return DType.I64;
        if (typeof(T) == typeof(byte)) return DType.U8;
        if (typeof(T) == typeof(bool)) return DType.Bool;
        if (typeof(T) == typeof(ushort)) return DType.BF16;
        throw new NotSupportedException($"No HpcCore dtype corresponds to host type {typeof(T).Name}.");
    }

    /// <summary>True when a host span of <typeparamref name="T"/> may view elements of <paramref name="dtype"/>.</summary>
    public static bool Matches<T>(this DType dtype) where T : unmanaged => Of<T>() == dtype;
}
