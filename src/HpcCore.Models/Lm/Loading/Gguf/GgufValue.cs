// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm.Loading.Gguf;

/// <summary>
/// One metadata value: a scalar (held as <see cref="long"/>, <see cref="ulong"/>, <see cref="double"/>,
/// <see cref="bool"/> or <see cref="string"/>) or an array (<see cref="ArrayItems"/>, with <see cref="ElementType"/>).
/// </summary>
public sealed class GgufValue
{
    private GgufValue(GgufValueType type, object value, GgufValueType elementType = GgufValueType.UInt8)
    {
        Type = type;
        Value = value;
        ElementType = elementType;
    }

    /// <summary>The stored type tag.</summary>
    public GgufValueType Type { get; }

    /// <summary>Element type of an array.</summary>
    public GgufValueType ElementType { get; }

    /// <summary>The value as read (see the class summary for the CLR types).</summary>
    public object Value { get; }

    /// <summary>The elements of an array value.</summary>
    public IReadOnlyList<GgufValue> ArrayItems => (IReadOnlyList<GgufValue>)Value;

    /// <summary>A scalar of <paramref name="type"/>.</summary>
    public static GgufValue Scalar(GgufValueType type, object value) => new(type, value);

    /// <summary>An array of <paramref name="elementType"/>.</summary>
    public static GgufValue Array(GgufValueType elementType, IReadOnlyList<GgufValue> items) => new(GgufValueType.Array, items, elementType);

    /// <summary>A string value.</summary>
    public static GgufValue Of(string s) => new(GgufValueType.String, s);

    /// <summary>A uint32 value.</summary>
    public static GgufValue Of(uint v) => new(GgufValueType.UInt32, (long)v);

    /// <summary>A float32 value.</summary>
    public static GgufValue Of(float v) => new(GgufValueType.Float32, (double)v);

    /// <summary>A bool value.</summary>
    public static GgufValue Of(bool v) => new(GgufValueType.Bool, v);

    /// <summary>Whether the value is an integer type (signed or unsigned, any width).</summary>
    public bool IsInteger => Type is GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.UInt16 or GgufValueType.Int16
        or GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.UInt64 or GgufValueType.Int64;

    /// <summary>The value as a signed 64-bit integer, or null when it is not an integer or does not fit.</summary>
    public long? AsInt64() => Value switch
    {
        long l when IsInteger => l,
        ulong u when u <= long.MaxValue => (long)u,
        _ => null,
    };

    /// <summary>The value as a double when it is a float or an integer, else null.</summary>
    public double? AsDouble() => Value switch
    {
        double d => d,
        long l when IsInteger => l,
        ulong u => u,
        _ => null,
    };

    /// <inheritdoc />
    public override string ToString() => Type == GgufValueType.Array ? $"array<{ElementType}>[{ArrayItems.Count}]" : $"{Type} {Value}";
}
