// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tensors;

using System.Runtime.InteropServices;
using HpcCore.Devices;
using HpcCore.Diagnostics;

public sealed partial class Tensor
{
    /// <summary>A new contiguous tensor whose contents are unspecified (pooled memory is reused as is).</summary>
    /// <remarks>
    /// The byte size cannot overflow: a <see cref="Shape"/> holds at most <see cref="Shape.MaxElements"/> elements.
    /// A size the backend cannot provide throws <see cref="OutOfMemoryException"/>.
    /// </remarks>
    public static Tensor Empty(Shape shape, DType dtype, IBackend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        long bytes = checked(shape.ElementCount * dtype.SizeInBytes());
        var storage = backend.Allocate(bytes);
        return new Tensor(storage, shape, Strides.RowMajor(shape), 0, dtype);
    }

    /// <summary>A new contiguous tensor of zeros.</summary>
    public static Tensor Zeros(Shape shape, DType dtype, IBackend backend)
    {
        var t = Empty(shape, dtype, backend);
        try
        {
            backend.Clear(t.Storage, 0, shape.ElementCount * dtype.SizeInBytes());
        }
        catch
        {
            // Give the (already touched) buffer back: a failed Zeros must not keep its memory.
            t.Dispose();
            throw;
        }
        return t;
    }

    /// <summary>A new contiguous tensor holding a copy of <paramref name="data"/>.</summary>
    /// <exception cref="ArgumentException">The span length does not match the shape's element count.</exception>
    public static Tensor From<T>(ReadOnlySpan<T> data, Shape shape, IBackend backend) where T : unmanaged
    {
        var dtype = DTypeExtensions.Of<T>();
        if (data.Length != shape.ElementCount)
            ThrowHelper.Argument("Tensor.From", nameof(data), $"has {data.Length} elements but shape {shape} needs {shape.ElementCount}");
        var t = Empty(shape, dtype, backend);
        try
        {
            backend.CopyFromHost(MemoryMarshal.AsBytes(data), t.Storage, 0);
        }
        catch
        {
            t.Dispose();
            throw;
        }
        return t;
    }

    /// <summary>A new contiguous tensor of <paramref name="dtype"/> from raw little-endian bytes.</summary>
    public static Tensor FromBytes(ReadOnlySpan<byte> data, Shape shape, DType dtype, IBackend backend)
    {
        long need = shape.ElementCount * dtype.SizeInBytes();
        if (data.Length != need)
            ThrowHelper.Argument("Tensor.FromBytes", nameof(data), $"has {data.Length} bytes but {dtype} {shape} needs {need}");
        var t = Empty(shape, dtype, backend);
        try
        {
            backend.CopyFromHost(data, t.Storage, 0);
        }
        catch
        {
            t.Dispose();
            throw;
        }
        return t;
    }

    /// <summary>
    /// Wraps an existing storage (for example a memory-mapped weights file) without copying. The tensor takes
    /// over one reference: the caller must not release it separately.
    /// </summary>
    public static Tensor FromStorage(Storage storage, Shape shape, DType dtype, long offsetElements = 0)
    {
        ArgumentNullException.ThrowIfNull(storage);
        // No sum or product that can overflow: a huge offset must not wrap around and pass (issue #21).
        long capacity = storage.ByteLength / dtype.SizeInBytes();
        long count = shape.ElementCount;
        if (offsetElements < 0 || count > capacity || offsetElements > capacity - count)
            ThrowHelper.Argument("Tensor.FromStorage", nameof(offsetElements),
                $"= {offsetElements}: {dtype} {shape} ({count} elements) from that offset does not fit the storage's {capacity} elements ({storage.ByteLength} bytes)");
        return new Tensor(storage, shape, Strides.RowMajor(shape), offsetElements, dtype);
    }

    /// <summary>
    /// Wraps <paramref name="bytes"/> of host memory at <paramref name="pointer"/> (e.g. a memory-mapped weights file)
    /// as a tensor on <paramref name="backend"/> without copying, when that backend computes on host memory (the CPU
    /// backend); returns null otherwise, and the caller copies instead. <paramref name="owner"/> is disposed with the
    /// tensor's last view (only when a tensor is returned).
    /// </summary>
    public static unsafe Tensor? WrapHost(IBackend backend, byte* pointer, long bytes, Shape shape, DType dtype, IDisposable? owner)
    {
        ArgumentNullException.ThrowIfNull(backend);
        if (backend is not Cpu.CpuBackend) return null;
        return FromStorage(new Cpu.CpuStorage(backend, pointer, bytes, owner), shape, dtype);
    }
}
