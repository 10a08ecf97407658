// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The production CPU backend: hand-written SIMD kernels, a pooled allocator and a reusable worker pool.
using System.Runtime.Intrinsics;

namespace HpcCore.Cpu;

using HpcCore.Devices;
using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>
/// The SIMD CPU backend (Vector512 where accelerated, Vector256 otherwise, scalar tails), parallel over
/// all cores. Memory comes from a <see cref="CpuMemoryPool"/> of pre-touched buffers.
/// </summary>
public sealed unsafe class CpuBackend : IBackend
{
    private bool _disposed;

    /// <summary>Creates a CPU backend using <paramref name="threads"/> threads (0: every core).</summary>
    public CpuBackend(int threads = 0)
    {
        int n = threads > 0 ? threads : Environment.ProcessorCount;
        Pool = new CpuWorkerPool(n);
        long memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        Memory = new CpuMemoryPool(Math.Max(64L << 20, memory / 4));
        Device = DescribeDevice();
        Capabilities = new BackendCapabilities(
            WarpSize: 1, MaxGroupSize: 1, SharedMemoryPerGroup: 0, SupportsF16: false,
            SimdWidthBits: SimdWidthBits, Cores: n, MemoryBytes: memory);
        Kernels = new CpuKernels(this);
    }

    /// <summary>Vector width the kernels use: 512 when Vector512 is hardware-accelerated, else 256 or 128.</summary>
    public static int SimdWidthBits =>
        Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : Vector128.IsHardwareAccelerated ? 128 : 0;

    /// <inheritdoc/>
    public Device Device { get; }

    /// <inheritdoc/>
    public BackendCapabilities Capabilities { get; }

    /// <inheritdoc/>
    public IKernels Kernels { get; }

    /// <summary>The worker pool kernels run on.</summary>
    public CpuWorkerPool Pool { get; }

    /// <summary>The allocator behind <see cref="Allocate"/>.</summary>
    public CpuMemoryPool Memory { get; }

    /// <summary>The CPU device as listed by <see cref="HpcRuntime.ListDevices"/>.</summary>
    public static Device DescribeDevice() =>
        new(DeviceKind.Cpu, 0, $"{Environment.ProcessorCount}-core x64 CPU, {SimdWidthBits}-bit SIMD");

    /// <inheritdoc/>
    public Storage Allocate(long bytes)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        return new CpuStorage(this, Memory, bytes);
    }

    /// <inheritdoc/>
    public void CopyFromHost(ReadOnlySpan<byte> source, Storage destination, long destinationOffset) =>
        source.CopyTo(Host(destination).AsSpan(destinationOffset, source.Length));

    /// <inheritdoc/>
    public void CopyToHost(Storage source, long sourceOffset, Span<byte> destination) =>
        Host(source).AsSpan(sourceOffset, destination.Length).CopyTo(destination);

    /// <inheritdoc/>
    public void Clear(Storage storage, long offset, long length) => Host(storage).Clear(offset, length);

    /// <summary>
    /// A unit of work below this many FLOPs (and <see cref="SerialBelowBytes"/>) runs on the calling thread alone
    /// (<see cref="BeginWork"/>). Measured: see <see cref="DefaultSerialBelowFlops"/>. 0 turns it off.
    /// </summary>
    public double SerialBelowFlops { get; set; } = DefaultSerialBelowFlops;

    /// <summary>
    /// A unit of work that streams at least this many bytes uses the pool whatever its FLOPs: a decode step is a
    /// chain of memory-bound matrix-vector products, and two cores read memory at about twice one core's rate.
    /// </summary>
    public double SerialBelowBytes { get; set; } = DefaultSerialBelowBytes;

    /// <summary>
    /// The FLOPs below which a forward ran faster on one thread than on two here (BENCHMARKS.md, "Two threads slower
    /// than one on a small forward").
    /// </summary>
    public const double DefaultSerialBelowFlops = 4e8;

    /// <summary>The streamed bytes from which two threads won a decode step here (same section of BENCHMARKS.md).</summary>
    public const double DefaultSerialBelowBytes = 8e6;

    /// <inheritdoc/>
    public WorkScope BeginWork(double flops, double bytes) =>
        Pool.Threads > 1 && flops < SerialBelowFlops && bytes < SerialBelowBytes ? WorkScope.SerialOnThisThread() : default;

    /// <summary>CPU kernels run synchronously: nothing to wait for.</summary>
    public void Synchronize()
    {
    }

    /// <summary>Stops the workers and frees pooled memory.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Pool.Dispose();
        Memory.Dispose();
    }

    private static CpuStorage Host(Storage storage) => storage as CpuStorage ?? throw new ArgumentException(
        $"CpuBackend: storage belongs to {storage.Backend.Device}, not the CPU backend.", nameof(storage));
}
