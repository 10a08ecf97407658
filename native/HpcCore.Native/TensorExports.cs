// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Native;

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using HpcCore.Tensors;

/// <summary>Library info, the last error, and tensors: create from a host buffer, inspect, copy out, free.</summary>
internal static unsafe class TensorExports
{
    /// <summary>hpc_version: the library version, a static NUL-terminated string.</summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_version")]
    public static byte* Version() => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference("0.1.0\0"u8));

    /// <summary>hpc_last_error: the calling thread's last error message ("" after a success).</summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_last_error")]
    public static byte* LastError()
    {
        try
        {
            return NativeError.Message;
        }
        catch (Exception)
        {
            return (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference("out of memory\0"u8));
        }
    }

    /// <summary>hpc_tensor_create: a contiguous tensor copied from <paramref name="data"/> (NULL with 0 bytes: zeros).</summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_tensor_create")]
    public static int Create(int dtype, long* shape, int rank, void* data, nuint dataBytes, nint* result)
    {
        const string Fn = "hpc_tensor_create";
        try
        {
            Arg.NotNull(Fn, "out", result);
            *result = 0;
            if (dtype < (int)DType.F32 || dtype > (int)DType.Bool)
                throw new NativeException(HpcStatus.InvalidArgument, $"{Fn}: dtype {dtype} is not an hpc_dtype (0..6).");
            if (rank < 0 || rank > Shape.MaxRank)
                throw new NativeException(HpcStatus.OutOfRange, $"{Fn}: rank {rank} is outside [0, {Shape.MaxRank}].");
            if (rank > 0) Arg.NotNull(Fn, "shape", shape);
            // No stackalloc in an entry point: it gives the frame a stack cookie, saved in the prologue before the first
            // call into the library initialises the runtime (and the cookie), then checked against the new value in the
            // epilogue: the process aborted when hpc_tensor_create was the first call.
            var dims = new int[rank];
            for (int i = 0; i < rank; i++)
            {
                if (shape[i] < 0 || shape[i] > int.MaxValue)
                    throw new NativeException(HpcStatus.OutOfRange, $"{Fn}: shape[{i}] = {shape[i]} is outside [0, {int.MaxValue}].");
                dims[i] = (int)shape[i];
            }
            var s = new Shape(dims);
            var type = (DType)dtype;
            long need = checked(s.ElementCount * type.SizeInBytes());
            Tensor tensor;
            if (data == null)
            {
                if (dataBytes != 0)
                    throw new NativeException(HpcStatus.NullPointer, $"{Fn}: data is NULL but data_bytes is {dataBytes}.");
                tensor = Tensor.Zeros(s, type, NativeRuntime.Backend);
            }
            else
            {
                if (dataBytes != (nuint)need)
                    throw new NativeException(HpcStatus.InvalidArgument, $"{Fn}: data_bytes is {dataBytes} but {type} {s} needs {need}.");
                tensor = Tensor.FromBytes(new ReadOnlySpan<byte>(data, checked((int)need)), s, type, NativeRuntime.Backend);
            }
            Arg.Publish(result, tensor);
            return NativeError.Ok();
        }
        catch (Exception e)
        {
            return NativeError.From(e, Fn);
        }
    }

    /// <summary>hpc_tensor_free: frees a tensor; NULL is a no-op.</summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_tensor_free")]
    public static int Free(nint tensor) => Arg.Free<Tensor>(tensor, "hpc_tensor_free", "tensor", "tensor");

    /// <summary>hpc_tensor_info: dtype, rank and up to <paramref name="capacity"/> dims (each output may be NULL).</summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_tensor_info")]
    public static int Info(nint tensor, int* dtype, int* rank, long* shape, int capacity)
    {
        const string Fn = "hpc_tensor_info";
        try
        {
            var t = Arg.Tensor(Fn, "tensor", tensor);
            if (shape != null && capacity < t.Rank)
                throw new NativeException(HpcStatus.BufferTooSmall, $"{Fn}: shape holds {capacity} dims but the tensor has rank {t.Rank}.");
            if (dtype != null) *dtype = (int)t.DType;
            if (rank != null) *rank = t.Rank;
            if (shape != null)
            {
                for (int i = 0; i < t.Rank; i++) shape[i] = t.Shape[i];
            }
            return NativeError.Ok();
        }
        catch (Exception e)
        {
            return NativeError.From(e, Fn);
        }
    }

    /// <summary>hpc_tensor_copy_to: copies the elements, row-major, into a host buffer of at least the tensor's bytes.</summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_tensor_copy_to")]
    public static int CopyTo(nint tensor, void* destination, nuint destinationBytes)
    {
        const string Fn = "hpc_tensor_copy_to";
        try
        {
            var t = Arg.Tensor(Fn, "tensor", tensor);
            long need = t.ElementCount * t.DType.SizeInBytes();
            if (need > 0) Arg.NotNull(Fn, "dst", destination);
            if (destinationBytes < (nuint)need)
                throw new NativeException(HpcStatus.BufferTooSmall, $"{Fn}: dst_bytes is {destinationBytes} but {t.DType} {t.Shape} needs {need}.");
            var bytes = new Span<byte>(destination, checked((int)need));
            switch (t.DType)
            {
                case DType.F32: t.CopyTo(MemoryMarshal.Cast<byte, float>(bytes)); break;
                case DType.F16: t.CopyTo(MemoryMarshal.Cast<byte, Half>(bytes)); break;
                case DType.BF16: t.CopyTo(MemoryMarshal.Cast<byte, ushort>(bytes)); break;
                case DType.I32: t.CopyTo(MemoryMarshal.Cast<byte, int>(bytes)); break;
                case DType.I64: t.CopyTo(MemoryMarshal.Cast<byte, long>(bytes)); break;
                case DType.U8: t.CopyTo(bytes); break;
                default: t.CopyTo(MemoryMarshal.Cast<byte, bool>(bytes)); break;
            }
            return NativeError.Ok();
        }
        catch (Exception e)
        {
            return NativeError.From(e, Fn);
        }
    }
}
