// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Plans are index bookkeeping over [B, N] rows (a few thousand integers): it runs on the host between the device
// primitives (BestMatch, TopK, Scatter, Gather), with pooled host arrays so that steady-state calls create no garbage.
namespace HpcCore.TokenReduction;

using System.Buffers;
using HpcCore.Tensors;

/// <summary>Pooled host copies of small plan tensors.</summary>
internal static class HostIndex
{
    /// <summary>A pooled array holding <paramref name="t"/>'s elements (its length may exceed the element count).</summary>
    public static T[] Read<T>(Tensor t) where T : unmanaged
    {
        var a = ArrayPool<T>.Shared.Rent((int)Math.Max(1, t.ElementCount));
        t.CopyTo<T>(a);
        return a;
    }

    /// <summary>A pooled array of at least <paramref name="count"/> elements (contents unspecified).</summary>
    public static T[] Rent<T>(long count) where T : unmanaged => ArrayPool<T>.Shared.Rent((int)Math.Max(1, count));

    /// <summary>Returns a pooled array.</summary>
    public static void Return<T>(T[] a) where T : unmanaged => ArrayPool<T>.Shared.Return(a);

    /// <summary>A new tensor of <paramref name="shape"/> holding the first elements of <paramref name="data"/>.</summary>
    public static Tensor Upload<T>(T[] data, Shape shape, Tensor like) where T : unmanaged =>
        Tensor.From<T>(data.AsSpan(0, (int)shape.ElementCount), shape, like.Backend);
}
