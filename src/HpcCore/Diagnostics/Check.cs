// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Shared front-door checks for ops, applied in a fixed order: disposed -> device -> dtype -> rank -> shape -> layout.
// Each check is a compare that inlines into the op's front door; the message is built only on failure, in an
// out-of-line method (a decode step makes ~100 op calls of a few hundred multiply-adds each, so a call per check
// and an interpolated string's set-up on the happy path were a visible share of the step).
namespace HpcCore.Diagnostics;

using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using HpcCore.Tensors;

/// <summary>Argument checks every op's front door uses.</summary>
internal static class Check
{
    /// <summary>The tensor is live.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Live(string op, string name, [NotNull] Tensor? t)
    {
        if (t is null) NullTensor(op, name);
        t.ThrowIfDisposed(op, name);
    }

    /// <summary>Both tensors live on the same backend.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SameDevice(string op, string name, Tensor t, Tensor reference, string referenceName)
    {
        if (!ReferenceEquals(t.Backend, reference.Backend)) DeviceMismatch(op, name, t, reference, referenceName);
    }

    /// <summary>The tensor has the expected dtype.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void DType(string op, string name, Tensor t, Tensors.DType expected)
    {
        if (t.DType != expected) DTypeMismatch(op, name, t, expected);
    }

    /// <summary>The tensor has at least <paramref name="minRank"/> axes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MinRank(string op, string name, Tensor t, int minRank)
    {
        if (t.Rank < minRank) RankTooLow(op, name, t, minRank);
    }

    /// <summary>The tensor has exactly <paramref name="rank"/> axes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Rank(string op, string name, Tensor t, int rank, string layout)
    {
        if (t.Rank != rank) LayoutMismatch(op, name, t, layout);
    }

    /// <summary>
    /// The tensor has exactly <paramref name="shape"/>. The message is only built on failure (no allocation on the
    /// happy path), naming <paramref name="other"/>'s shape when given.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Shape(string op, string name, Tensor t, in Shape shape, string because, Tensor? other = null, string? otherName = null)
    {
        if (!t.Shape.Equals(shape)) ShapeMismatch(op, name, t, shape, because, other, otherName);
    }

    /// <summary>The tensor is laid out row-major without gaps.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Contiguous(string op, string name, Tensor t)
    {
        if (!t.IsContiguous) NotContiguous(op, name, t);
    }

    /// <summary>Full front-door check of a live, same-device, contiguous tensor of a dtype.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Operand(string op, string name, [NotNull] Tensor? t, Tensor reference, string referenceName, Tensors.DType dtype)
    {
        Live(op, name, t);
        SameDevice(op, name, t, reference, referenceName);
        DType(op, name, t, dtype);
        Contiguous(op, name, t);
    }

    /// <summary>A live, contiguous first operand of the given dtype and rank (the others are checked against it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Input(string op, string name, Tensor t, Tensors.DType dtype, int rank, string layout)
    {
        Live(op, name, t);
        DType(op, name, t, dtype);
        Rank(op, name, t, rank, layout);
        Contiguous(op, name, t);
    }

    /// <summary>
    /// Throws when <paramref name="destination"/> may share memory with the input <paramref name="input"/>: the same
    /// storage and overlapping byte extents (first to last element). Kernels read inputs while they write outputs, so an
    /// aliased destination would be read after it was overwritten. Disjoint views of one buffer pass.
    /// </summary>
    public static void NoOverlap(string op, string destinationName, Tensor destination, string inputName, Tensor? input)
    {
        if (input is null || !ReferenceEquals(destination.Storage, input.Storage)) return;
        var (d0, d1) = Extent(destination);
        var (i0, i1) = Extent(input);
        if (d0 < d1 && i0 < i1 && d0 < i1 && i0 < d1) Overlap(op, destinationName, destination, inputName, input);
    }

    // Bytes [first, end) a view can touch (strides are never negative); empty for a view of no elements.
    private static (long First, long End) Extent(Tensor t)
    {
        if (t.ElementCount == 0) return (0, 0);
        long last = 0;
        for (int i = 0; i < t.Rank; i++) last += (t.Shape[i] - 1) * t.Strides[i];
        int size = t.DType.SizeInBytes();
        return (t.ByteOffset, t.ByteOffset + (last + 1) * size);
    }

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private static void Overlap(string op, string name, Tensor t, string inputName, Tensor input) =>
        ThrowHelper.Argument(op, name, $"({t.DType} {t.Shape}) shares memory with {inputName} ({input.DType} {input.Shape}); " +
                                       "the op reads its inputs while it writes, so write to a separate tensor");

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private static void NullTensor(string op, string name) => throw new ArgumentNullException(name, $"{op}: {name} is null.");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void DeviceMismatch(string op, string name, Tensor t, Tensor reference, string referenceName) =>
        ThrowHelper.Argument(op, name, $"is on {t.Device} but {referenceName} is on {reference.Device}");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void DTypeMismatch(string op, string name, Tensor t, Tensors.DType expected) =>
        ThrowHelper.Argument(op, name, $"has dtype {t.DType} (shape {t.Shape}); expected {expected}");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RankTooLow(string op, string name, Tensor t, int minRank) =>
        ThrowHelper.Argument(op, name, $"has shape {t.Shape}; expected rank >= {minRank}");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void LayoutMismatch(string op, string name, Tensor t, string layout) =>
        ThrowHelper.Argument(op, name, $"has shape {t.Shape}; expected {layout}");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ShapeMismatch(string op, string name, Tensor t, Shape shape, string because, Tensor? other, string? otherName)
    {
        string context = other is null ? because : $"{because}; {otherName} is {other.Shape}";
        ThrowHelper.Argument(op, name, $"has shape {t.Shape}; expected {shape} ({context})");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void NotContiguous(string op, string name, Tensor t) =>
        ThrowHelper.Argument(op, name, $"is a non-contiguous view of shape {t.Shape}; call Contiguous() first");
}
