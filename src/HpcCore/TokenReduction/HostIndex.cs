// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Plans are index bookkeeping over [B, N] rows (a few thousand integers): it runs on the host between the device
// primitives (BestMatch, TopK, Scatter, Gather), with pooled host arrays, and CPU tensors are read through spans
// (no view objects), so that steady-state calls create no garbage.
namespace HpcCore.TokenReduction;

using System.Buffers;
using HpcCore.Cpu;
using HpcCore.Tensors;

/// <summary>Pooled host copies of small plan tensors.</summary>
internal static class HostIndex
{
    /// <summary>A pooled array holding <paramref name="t"/>'s elements (its length may exceed the element count).</summary>
    public static T[] Read<T>(Tensor t) where T : unmanaged
    {
        var a = Rent<T>(t.ElementCount);
        if (t.Storage is CpuStorage && t.IsContiguous) t.AsSpan<T>().CopyTo(a);
        else t.CopyTo<T>(a);
        return a;
    }

    /// <summary>Overwrites the contiguous <paramref name="t"/> with the first elements of <paramref name="data"/>.</summary>
    public static void Write<T>(Tensor t, T[] data) where T : unmanaged =>
        t.CopyFrom<T>(data.AsSpan(0, (int)t.ElementCount));

    /// <summary>A pooled array of at least <paramref name="count"/> elements (contents unspecified).</summary>
    public static T[] Rent<T>(long count) where T : unmanaged => ArrayPool<T>.Shared.Rent((int)Math.Max(1, count));

    /// <summary>Returns a pooled array.</summary>
    public static void Return<T>(T[] a) where T : unmanaged => ArrayPool<T>.Shared.Return(a);

    /// <summary>A new tensor of <paramref name="shape"/> holding the first elements of <paramref name="data"/>.</summary>
    public static Tensor Upload<T>(T[] data, Shape shape, Tensor like) where T : unmanaged =>
        Tensor.From<T>(data.AsSpan(0, (int)shape.ElementCount), shape, like.Backend);

    /// <summary>
    /// <paramref name="slot"/> when it is live with <paramref name="shape"/> and <paramref name="dtype"/>; otherwise a new
    /// tensor (the old one disposed). Plans keep their scratch this way, so repeated calls with one shape allocate once.
    /// </summary>
    public static Tensor Reuse(ref Tensor? slot, Shape shape, DType dtype, Tensor like)
    {
        if (slot is not null && !slot.IsDisposed && slot.Shape == shape && slot.DType == dtype && ReferenceEquals(slot.Backend, like.Backend))
            return slot;
        slot?.Dispose();
        slot = Tensor.Empty(shape, dtype, like.Backend);
        return slot;
    }
}
