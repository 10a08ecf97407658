// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The managed tensor: a storage on one backend, a layout (shape, strides in elements, offset) and a dtype.
namespace HpcCore.Tensors;

using HpcCore.Devices;
using HpcCore.Diagnostics;

/// <summary>
/// An n-dimensional array on one device. Views (<see cref="Narrow"/>, <see cref="Permute"/>,
/// <see cref="Reshape"/>) share storage and never copy; <see cref="Contiguous"/> and <see cref="To"/> are the
/// only copies. Every tensor, view or not, must be disposed: the storage is freed with its last user.
/// </summary>
public sealed partial class Tensor : IDisposable
{
    private readonly Strides _strides;
    private readonly bool _contiguous;
    private readonly long _byteOffset;
    private int _disposed;

    private Tensor(Storage storage, Shape shape, Strides strides, long offset, DType dtype)
    {
        Storage = storage;
        Shape = shape;
        _strides = strides;
        Offset = offset;
        DType = dtype;
        // Layout never changes after construction: the checks every op's front door makes are answered once here.
        _contiguous = ComputeContiguous(shape, strides);
        _byteOffset = offset * dtype.SizeInBytes();
    }

    /// <summary>The memory this tensor views.</summary>
    public Storage Storage { get; }

    /// <summary>Dimensions, outermost first.</summary>
    public Shape Shape { get; }

    /// <summary>Element type.</summary>
    public DType DType { get; }

    /// <summary>Offset of element [0, 0, ...] from the storage start, in elements.</summary>
    public long Offset { get; }

    /// <summary>The backend that owns the storage.</summary>
    public IBackend Backend => Storage.Backend;

    /// <summary>The device holding the data.</summary>
    public Device Device => Storage.Backend.Device;

    /// <summary>Number of axes.</summary>
    public int Rank => Shape.Rank;

    /// <summary>Total element count.</summary>
    public long ElementCount => Shape.ElementCount;

    /// <summary>True once <see cref="Dispose"/> was called.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Stride of <paramref name="axis"/> in elements (negative axes count from the end).</summary>
    public long Stride(int axis) => _strides[Shape.NormalizeAxis(axis)];

    /// <summary>All strides, in elements.</summary>
    public Strides Strides => _strides;

    /// <summary>True when elements are laid out row-major without gaps (axes of size 1 are ignored).</summary>
    public bool IsContiguous => _contiguous;

    /// <summary>Byte offset of element [0, 0, ...] in the storage.</summary>
    public long ByteOffset => _byteOffset;

    private static bool ComputeContiguous(in Shape shape, in Strides strides)
    {
        long expected = 1;
        for (int i = shape.Rank - 1; i >= 0; i--)
        {
            if (shape[i] == 1) continue;
            if (strides[i] != expected) return false;
            expected *= shape[i];
        }
        return true;
    }

    /// <summary>Releases this tensor's reference to its storage. Safe to call twice.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) Storage.Release();
    }

    /// <summary>Throws <see cref="ObjectDisposedException"/> naming <paramref name="op"/> when disposed.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal void ThrowIfDisposed(string op, string argument)
    {
        if (IsDisposed || Storage.IsReleased) ThrowHelper.Disposed(op, argument);
    }

    /// <summary>Formats as <c>Tensor(F32 [2, 3] on cpu:0)</c>.</summary>
    public override string ToString() => $"Tensor({DType} {Shape} on {Device.Kind.ToString().ToLowerInvariant()}:{Device.Ordinal})";
}
