// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// A tensor shape of rank 0..8 held inline, so that building one never allocates.
using System.Runtime.CompilerServices;

namespace HpcCore.Tensors;

/// <summary>Dimensions of a tensor, outermost first (row-major). Rank 0 is a scalar.</summary>
public readonly struct Shape : IEquatable<Shape>
{
    /// <summary>Largest supported rank.</summary>
    public const int MaxRank = 8;

    private readonly Dims _dims;

    /// <summary>Number of axes.</summary>
    public int Rank { get; }

    /// <summary>
    /// Largest product of the nonzero dimensions (2^56): every element count, row-major stride and byte size (8 bytes
    /// per element at most, rounded up to an allocator's size class) of a shape then fits a <see cref="long"/> with room
    /// to spare, so no size computed from a shape can overflow.
    /// </summary>
    public const long MaxElements = 1L << 56;

    /// <summary>Creates a shape from its dimensions.</summary>
    /// <exception cref="ArgumentException">More than <see cref="MaxRank"/> axes, or a negative dimension.</exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// The product of the nonzero dimensions exceeds <see cref="MaxElements"/> (the message names the dimensions).
    /// </exception>
    public Shape(params ReadOnlySpan<int> dims)
    {
        if (dims.Length > MaxRank)
            throw new ArgumentException($"Shape: rank {dims.Length} exceeds the maximum of {MaxRank}.", nameof(dims));
        // Checked in the loop, not with `checked`: the bound must hold for the zero-free product too, because the
        // row-major strides of [0, a, b] are products of a and b.
        long product = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            int d = dims[i];
            if (d < 0)
                throw new ArgumentException($"Shape: dimension {i} is {d}; dimensions must be >= 0.", nameof(dims));
            if (d > 1)
            {
                if (product > MaxElements / d) ThrowTooLarge(dims);
                product *= d;
            }
            _dims[i] = d;
        }
        Rank = dims.Length;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowTooLarge(ReadOnlySpan<int> dims) =>
        throw new ArgumentOutOfRangeException(nameof(dims),
            $"Shape: [{string.Join(", ", dims.ToArray())}] has more than 2^56 elements (Shape.MaxElements); its sizes would overflow.");

    /// <summary>Size of axis <paramref name="axis"/>; negative axes count from the end.</summary>
    public int this[int axis]
    {
        // Inlined (op front doors index shapes dozens of times per call); only the throw is out of line.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _dims[NormalizeAxis(axis)];
    }

    /// <summary>Product of all dimensions (1 for a scalar).</summary>
    public long ElementCount
    {
        get
        {
            long n = 1;
            for (int i = 0; i < Rank; i++) n *= _dims[i];
            return n;
        }
    }

    /// <summary>Size of the last axis (1 for a scalar).</summary>
    public int Last => Rank == 0 ? 1 : _dims[Rank - 1];

    /// <summary>Product of all dimensions but the last: the row count of a row-wise op.</summary>
    public long RowCount
    {
        get
        {
            long n = 1;
            for (int i = 0; i < Rank - 1; i++) n *= _dims[i];
            return n;
        }
    }

    /// <summary>Resolves a possibly negative axis to 0..Rank-1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The axis is outside the shape.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int NormalizeAxis(int axis)
    {
        int a = axis < 0 ? axis + Rank : axis;
        if ((uint)a >= (uint)Rank) ThrowAxis(axis);
        return a;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowAxis(int axis) =>
        throw new ArgumentOutOfRangeException(nameof(axis), axis, $"Axis {axis} is out of range for shape {this}.");

    /// <summary>The dimensions as a new array.</summary>
    public int[] ToArray()
    {
        var a = new int[Rank];
        for (int i = 0; i < Rank; i++) a[i] = _dims[i];
        return a;
    }

    /// <summary>A copy with axis <paramref name="axis"/> resized to <paramref name="size"/>.</summary>
    public Shape WithDim(int axis, int size)
    {
        Span<int> d = stackalloc int[Rank];
        CopyTo(d);
        d[NormalizeAxis(axis)] = size;
        return new Shape(d);
    }

    /// <summary>Copies the dimensions into <paramref name="destination"/>.</summary>
    public void CopyTo(Span<int> destination)
    {
        for (int i = 0; i < Rank; i++) destination[i] = _dims[i];
    }

    /// <inheritdoc/>
    public bool Equals(Shape other)
    {
        if (Rank != other.Rank) return false;
        for (int i = 0; i < Rank; i++)
            if (_dims[i] != other._dims[i]) return false;
        return true;
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Shape s && Equals(s);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        for (int i = 0; i < Rank; i++) h.Add(_dims[i]);
        return h.ToHashCode();
    }

    /// <summary>Shape equality.</summary>
    public static bool operator ==(Shape left, Shape right) => left.Equals(right);

    /// <summary>Shape inequality.</summary>
    public static bool operator !=(Shape left, Shape right) => !left.Equals(right);

    /// <summary>Formats as <c>[2, 3, 4]</c>.</summary>
    public override string ToString()
    {
        var parts = new string[Rank];
        for (int i = 0; i < Rank; i++) parts[i] = _dims[i].ToString(System.Globalization.CultureInfo.InvariantCulture);
        return "[" + string.Join(", ", parts) + "]";
    }

    [InlineArray(MaxRank)]
    private struct Dims
    {
        private int _element;
    }
}
