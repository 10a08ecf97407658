// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tensors;

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using HpcCore.Cpu;
using HpcCore.Diagnostics;

public sealed partial class Tensor
{
    /// <summary>Copies all elements, in row-major order, into a new host array.</summary>
    public T[] ToArray<T>() where T : unmanaged
    {
        var result = new T[ElementCount];
        CopyTo<T>(result);
        return result;
    }

    /// <summary>Copies all elements, in row-major order, into <paramref name="destination"/>.</summary>
    public void CopyTo<T>(Span<T> destination) where T : unmanaged
    {
        ThrowIfDisposed("Tensor.CopyTo", "this");
        CheckHostType<T>("Tensor.CopyTo");
        if (destination.Length < ElementCount)
            ThrowHelper.Argument("Tensor.CopyTo", nameof(destination), $"holds {destination.Length} elements but {Shape} has {ElementCount}");
        var bytes = MemoryMarshal.AsBytes(destination[..(int)ElementCount]);
        if (IsContiguous)
        {
            // No view object: steady-state callers (a decoder reading logits or policy exports) allocate nothing.
            Backend.CopyToHost(Storage, ByteOffset, bytes);
            return;
        }
        using var source = Contiguous();
        source.Backend.CopyToHost(source.Storage, source.ByteOffset, bytes);
    }

    /// <summary>Overwrites this (contiguous) tensor with <paramref name="source"/>.</summary>
    public void CopyFrom<T>(ReadOnlySpan<T> source) where T : unmanaged
    {
        ThrowIfDisposed("Tensor.CopyFrom", "this");
        CheckHostType<T>("Tensor.CopyFrom");
        if (source.Length != ElementCount)
            ThrowHelper.Argument("Tensor.CopyFrom", nameof(source), $"holds {source.Length} elements but {Shape} has {ElementCount}");
        if (!IsContiguous)
            ThrowHelper.Argument("Tensor.CopyFrom", "this", $"is a non-contiguous view of shape {Shape}");
        Backend.CopyFromHost(MemoryMarshal.AsBytes(source), Storage, ByteOffset);
    }

    /// <summary>
    /// The elements as a span, without copying. Only for contiguous tensors on the CPU backend; the span is
    /// valid until the tensor (and every view of its storage) is disposed.
    /// </summary>
    public Span<T> AsSpan<T>() where T : unmanaged
    {
        ThrowIfDisposed("Tensor.AsSpan", "this");
        CheckHostType<T>("Tensor.AsSpan");
        if (Storage is not CpuStorage cpu)
        {
            ThrowHelper.Argument("Tensor.AsSpan", "this", $"is on {Device}; only CPU tensors can be viewed as spans (use ToArray)");
            return default;
        }
        if (!IsContiguous)
            ThrowHelper.Argument("Tensor.AsSpan", "this", $"is a non-contiguous view of shape {Shape}; call Contiguous() first");
        return MemoryMarshal.Cast<byte, T>(cpu.AsSpan(ByteOffset, ElementCount * DType.SizeInBytes()));
    }

    /// <summary>Whether this tensor lives in host memory that <see cref="AsSpan{T}"/> and <see cref="AsBytes"/> can view (the CPU backend).</summary>
    public bool IsHostVisible => Storage is CpuStorage;

    /// <summary>
    /// The raw bytes of a contiguous host-visible tensor, without copying (any dtype): for writers that stream a
    /// tensor to a file. Throws as <see cref="AsSpan{T}"/> does for device or strided tensors.
    /// </summary>
    public Span<byte> AsBytes()
    {
        ThrowIfDisposed("Tensor.AsBytes", "this");
        if (Storage is not CpuStorage cpu)
        {
            ThrowHelper.Argument("Tensor.AsBytes", "this", $"is on {Device}; only CPU tensors can be viewed as bytes (use ToArray)");
            return default;
        }
        if (!IsContiguous)
            ThrowHelper.Argument("Tensor.AsBytes", "this", $"is a non-contiguous view of shape {Shape}; call Contiguous() first");
        return cpu.AsSpan(ByteOffset, ElementCount * DType.SizeInBytes());
    }

    private void CheckHostType<T>(string op) where T : unmanaged
    {
        // Raw bit access is allowed too: ushort for F16/BF16, byte for U8/Bool.
        bool raw = (typeof(T) == typeof(byte) || typeof(T) == typeof(ushort)) && Unsafe.SizeOf<T>() == DType.SizeInBytes();
        if (!raw && !DType.Matches<T>())
            ThrowHelper.Argument(op, "T", $"host type {typeof(T).Name} does not match tensor dtype {DType}");
    }
}
