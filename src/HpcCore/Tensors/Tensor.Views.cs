// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tensors;

using HpcCore.Devices;
using HpcCore.Diagnostics;
using HpcCore.Kernels;

public sealed partial class Tensor
{
    /// <summary>A view of <paramref name="length"/> entries of <paramref name="axis"/> starting at <paramref name="start"/>.</summary>
    public Tensor Narrow(int axis, int start, int length)
    {
        ThrowIfDisposed("Tensor.Narrow", "this");
        int a = Shape.NormalizeAxis(axis);
        if (start < 0 || length < 0 || (long)start + length > Shape[a])
            ThrowHelper.Argument("Tensor.Narrow", nameof(start), $"range [{start}, {start}+{length}) is outside axis {a} of shape {Shape}");
        return View(Shape.WithDim(a, length), _strides, Offset + start * _strides[a]);
    }

    /// <summary>A view with axes reordered: result axis i is this tensor's axis <paramref name="axes"/>[i].</summary>
    public Tensor Permute(params ReadOnlySpan<int> axes)
    {
        ThrowIfDisposed("Tensor.Permute", "this");
        if (axes.Length != Rank)
            ThrowHelper.Argument("Tensor.Permute", nameof(axes), $"has {axes.Length} entries for a tensor of shape {Shape}");
        Span<int> dims = stackalloc int[Rank];
        Span<bool> seen = stackalloc bool[Rank];
        var strides = new Strides();
        for (int i = 0; i < Rank; i++)
        {
            int src = axes[i] < 0 ? axes[i] + Rank : axes[i];
            if ((uint)src >= (uint)Rank || seen[src])
                ThrowHelper.Argument("Tensor.Permute", nameof(axes), $"is not a permutation of the axes of shape {Shape}");
            seen[src] = true;
            dims[i] = Shape[src];
            strides[i] = _strides[src];
        }
        return View(new Shape(dims), strides, Offset);
    }

    /// <summary>A view with axes <paramref name="axis0"/> and <paramref name="axis1"/> swapped.</summary>
    public Tensor Transpose(int axis0, int axis1)
    {
        int a = Shape.NormalizeAxis(axis0), b = Shape.NormalizeAxis(axis1);
        Span<int> axes = stackalloc int[Rank];
        for (int i = 0; i < Rank; i++) axes[i] = i;
        (axes[a], axes[b]) = (axes[b], axes[a]);
        return Permute(axes);
    }

    /// <summary>
    /// A view with a new shape of the same element count. Only contiguous tensors can be reshaped:
    /// call <see cref="Contiguous"/> first otherwise, so that no copy is ever hidden. One dimension may be -1.
    /// </summary>
    public Tensor Reshape(params ReadOnlySpan<int> dims)
    {
        ThrowIfDisposed("Tensor.Reshape", "this");
        Span<int> resolved = stackalloc int[dims.Length];
        int inferred = -1;
        long known = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            resolved[i] = dims[i];
            if (dims[i] == -1)
            {
                if (inferred >= 0) ThrowHelper.Argument("Tensor.Reshape", nameof(dims), "has more than one -1");
                inferred = i;
            }
            else if (dims[i] < 0) ThrowHelper.Argument("Tensor.Reshape", nameof(dims), $"has negative dimension {dims[i]}");
            else known *= dims[i];
        }
        if (inferred >= 0)
        {
            if (known == 0 || ElementCount % known != 0)
                ThrowHelper.Argument("Tensor.Reshape", nameof(dims), $"cannot infer -1 for {ElementCount} elements of shape {Shape}");
            resolved[inferred] = (int)(ElementCount / known);
        }
        var shape = new Shape(resolved);
        if (shape.ElementCount != ElementCount)
            ThrowHelper.Argument("Tensor.Reshape", nameof(dims), $"shape {shape} has {shape.ElementCount} elements but {Shape} has {ElementCount}");
        if (!IsContiguous)
            ThrowHelper.Argument("Tensor.Reshape", "this", $"is a non-contiguous view of shape {Shape}; call Contiguous() first");
        return View(shape, Strides.RowMajor(shape), Offset);
    }

    /// <summary>
    /// A contiguous tensor with the same values. Returns a new view (sharing storage) when already contiguous,
    /// else a copy; either way the caller owns and disposes the result.
    /// </summary>
    public Tensor Contiguous()
    {
        ThrowIfDisposed("Tensor.Contiguous", "this");
        if (IsContiguous) return View(Shape, Strides.RowMajor(Shape), Offset);
        var result = Empty(Shape, DType, Backend);
        Backend.Kernels.CopyStrided(new CopyStridedArgs(this, result));
        return result;
    }

    /// <summary>Copies values (strided views included) into an existing tensor of the same shape and dtype.</summary>
    public void CopyTo(Tensor destination)
    {
        ThrowIfDisposed("Tensor.CopyTo", "this");
        destination.ThrowIfDisposed("Tensor.CopyTo", nameof(destination));
        if (destination.Shape != Shape || destination.DType != DType)
            ThrowHelper.Argument("Tensor.CopyTo", nameof(destination), $"is {destination.DType} {destination.Shape} but the source is {DType} {Shape}");
        if (destination.Backend != Backend)
            ThrowHelper.Argument("Tensor.CopyTo", nameof(destination), $"is on {destination.Device} but the source is on {Device}; use To()");
        Backend.Kernels.CopyStrided(new CopyStridedArgs(this, destination));
    }

    /// <summary>
    /// This tensor on <paramref name="backend"/>: a view when it is already there, otherwise a contiguous copy
    /// made through host memory.
    /// </summary>
    public Tensor To(IBackend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ThrowIfDisposed("Tensor.To", "this");
        if (backend == Backend) return View(Shape, _strides, Offset);
        using var source = Contiguous();
        var result = Empty(Shape, DType, backend);
        long bytes = ElementCount * DType.SizeInBytes();
        if (source.Storage is Cpu.CpuStorage cpu)
        {
            backend.CopyFromHost(cpu.AsSpan(source.ByteOffset, bytes), result.Storage, 0);
        }
        else
        {
            var staging = GC.AllocateUninitializedArray<byte>(checked((int)bytes));
            source.Backend.CopyToHost(source.Storage, source.ByteOffset, staging);
            backend.CopyFromHost(staging, result.Storage, 0);
        }
        return result;
    }

    private Tensor View(Shape shape, Strides strides, long offset)
    {
        Storage.Retain();
        return new Tensor(Storage, shape, strides, offset, DType);
    }
}
