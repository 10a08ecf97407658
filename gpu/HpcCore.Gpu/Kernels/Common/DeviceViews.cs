// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Typed device views of tensors: contiguous ops view exactly their elements; strided ops view the whole storage and
// add the tensor's element offset themselves.
using ILGPU;

namespace HpcCore.Gpu.Kernels;

using HpcCore.Tensors;

internal static class DeviceViews
{
    /// <summary>The <paramref name="count"/> elements starting at element [0, ...] of a contiguous tensor.</summary>
    public static ArrayView<T> Elements<T>(Tensor t, long count) where T : unmanaged
    {
        var bytes = ((IlgpuStorage)t.Storage).View;
        long size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        return bytes.SubView(t.ByteOffset, count * size).Cast<T>();
    }

    /// <summary>The whole storage as elements of <typeparamref name="T"/> (index it with the tensor's Offset).</summary>
    public static ArrayView<T> Whole<T>(Tensor t) where T : unmanaged
    {
        var bytes = ((IlgpuStorage)t.Storage).View;
        long size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        return bytes.SubView(0, bytes.Length / size * size).Cast<T>();
    }
}
