// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The ILGPU backend: one accelerator (CUDA, OpenCL or ILGPU's CPU emulator), a pool of device buffers, and the
// ILGPU kernel set. Work is queued on the accelerator's default stream, so launches and copies run in order.
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace HpcCore.Gpu;

using HpcCore.Devices;
using HpcCore.Gpu.Kernels;
using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>An <see cref="IBackend"/> over one ILGPU <see cref="Accelerator"/>.</summary>
public sealed class IlgpuBackend : IBackend
{
    private readonly bool _ownsAccelerator;
    private bool _disposed;

    /// <summary>
    /// Wraps <paramref name="accelerator"/>. When <paramref name="ownsAccelerator"/> is true, disposing the backend
    /// disposes the accelerator too.
    /// </summary>
    public IlgpuBackend(Accelerator accelerator, Device device, bool ownsAccelerator = true)
        : this(accelerator, device, ownsAccelerator, allowWarpShuffles: true)
    {
    }

    /// <summary>
    /// As the public constructor; <paramref name="allowWarpShuffles"/> false loads the shared-memory reductions even
    /// where the device has warp shuffles (how the emulator tests the form OpenCL devices without shuffles run).
    /// </summary>
    internal IlgpuBackend(Accelerator accelerator, Device device, bool ownsAccelerator, bool allowWarpShuffles)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        Accelerator = accelerator;
        Device = device;
        _ownsAccelerator = ownsAccelerator;
        Policy = LaunchPolicy.For(accelerator, allowWarpShuffles);
        Capabilities = Describe(accelerator);
        // Keep at most a quarter of device memory (at least 64 MB) in free pooled buffers.
        Memory = new IlgpuMemoryPool(accelerator, Math.Max(64L << 20, accelerator.MemorySize / 4));
        Kernels = new IlgpuKernels(this);
    }

    /// <summary>The ILGPU accelerator kernels run on.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>Group and grid sizes used by every launch.</summary>
    public LaunchPolicy Policy { get; }

    /// <summary>The device-buffer pool behind <see cref="Allocate"/>.</summary>
    public IlgpuMemoryPool Memory { get; }

    /// <summary>True on ILGPU's CPU accelerator (a slow emulator for tests).</summary>
    public bool IsEmulator => Accelerator.AcceleratorType == AcceleratorType.CPU;

    /// <inheritdoc/>
    public Device Device { get; }

    /// <inheritdoc/>
    public BackendCapabilities Capabilities { get; }

    /// <inheritdoc/>
    public IKernels Kernels { get; }

    /// <inheritdoc/>
    public Storage Allocate(long bytes)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        return new IlgpuStorage(this, Memory, bytes);
    }

    /// <inheritdoc/>
    public unsafe void CopyFromHost(ReadOnlySpan<byte> source, Storage destination, long destinationOffset)
    {
        if (source.IsEmpty) return;
        var view = Own(destination).View.SubView(destinationOffset, source.Length);
        // OpenCL queues host copies without blocking (ILGPU passes blocking = false): the host bytes are read later,
        // so they stay pinned, and the copy finishes, before the caller may reuse or the GC may move them. Found on
        // pocl, where an unpinned span gave stale inputs and heap corruption (docs/OPENCL.md). CUDA copies from
        // pageable memory are staged before the call returns.
        fixed (byte* pinned = source)
        {
            view.CopyFromCPU(ref MemoryMarshal.GetReference(source), source.Length);
            if (Accelerator.AcceleratorType == AcceleratorType.OpenCL) Accelerator.DefaultStream.Synchronize();
        }
    }

    /// <inheritdoc/>
    public unsafe void CopyToHost(Storage source, long sourceOffset, Span<byte> destination)
    {
        if (destination.IsEmpty) return;
        var view = Own(source).View.SubView(sourceOffset, destination.Length);
        // Pinned until the queued read has landed (see CopyFromHost).
        fixed (byte* pinned = destination)
        {
            view.CopyToCPU(ref MemoryMarshal.GetReference(destination), destination.Length);
            Accelerator.DefaultStream.Synchronize();
        }
    }

    /// <inheritdoc/>
    public void Clear(Storage storage, long offset, long length)
    {
        if (length == 0) return;
        Own(storage).View.SubView(offset, length).MemSetToZero();
    }

    /// <inheritdoc/>
    public void Synchronize() => Accelerator.Synchronize();

    /// <summary>Frees the pooled buffers and, when owned, the accelerator. Tensors must be disposed first.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Accelerator.Synchronize();
        Memory.Dispose();
        if (_ownsAccelerator) Accelerator.Dispose();
    }

    private IlgpuStorage Own(Storage storage) =>
        storage is IlgpuStorage s && ReferenceEquals(s.Backend, this) ? s : throw new ArgumentException(
            $"IlgpuBackend: storage belongs to {storage.Backend.Device}, not {Device}.", nameof(storage));

    private static BackendCapabilities Describe(Accelerator a)
    {
        bool f16 = a switch
        {
            CudaAccelerator cuda => cuda.Architecture is { } arch && arch >= CudaArchitecture.SM_53,
            CLAccelerator cl => cl.Capabilities is CLCapabilityContext caps && caps.Float16,
            _ => true, // the emulator runs ILGPU.Half in software
        };
        return new BackendCapabilities(
            WarpSize: a.WarpSize,
            MaxGroupSize: a.MaxNumThreadsPerGroup,
            SharedMemoryPerGroup: a.MaxSharedMemoryPerGroup,
            SupportsF16: f16,
            SimdWidthBits: 0,
            Cores: a.NumMultiprocessors,
            MemoryBytes: a.MemorySize);
    }
}
