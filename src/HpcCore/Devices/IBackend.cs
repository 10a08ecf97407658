// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Devices;

using HpcCore.Cpu;
using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>
/// A device plus its allocator and kernels. Ops validate their arguments, then call
/// <see cref="Kernels"/>; kernels never validate. Disposing a backend releases its device
/// context; tensors allocated from it must be disposed first.
/// </summary>
public interface IBackend : IDisposable
{
    /// <summary>The device this backend runs on.</summary>
    Device Device { get; }

    /// <summary>What the device offers.</summary>
    BackendCapabilities Capabilities { get; }

    /// <summary>The backend's kernel set, one method per op.</summary>
    IKernels Kernels { get; }

    /// <summary>Allocates <paramref name="bytes"/> bytes (contents unspecified; may come from a pool).</summary>
    Storage Allocate(long bytes);

    /// <summary>Copies host bytes into <paramref name="destination"/> at a byte offset.</summary>
    void CopyFromHost(ReadOnlySpan<byte> source, Storage destination, long destinationOffset);

    /// <summary>Copies bytes of <paramref name="source"/> from a byte offset to the host.</summary>
    void CopyToHost(Storage source, long sourceOffset, Span<byte> destination);

    /// <summary>Sets <paramref name="length"/> bytes of <paramref name="storage"/> to zero.</summary>
    void Clear(Storage storage, long offset, long length);

    /// <summary>Waits until all queued work on the device has finished.</summary>
    void Synchronize();

    /// <summary>
    /// Begins a unit of work (a forward pass, a decode step) of about <paramref name="flops"/> floating-point
    /// operations over about <paramref name="bytes"/> bytes of weights and activations, and returns a scope to dispose
    /// when it ends, on the same thread. A backend may run a unit on the calling thread alone (the CPU backend does so
    /// when that has been faster lately for units of this size: <see cref="CpuBackend.Splitting"/>); the default
    /// changes nothing.
    /// </summary>
    WorkScope BeginWork(double flops, double bytes) => default;
}
