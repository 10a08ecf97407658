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

    /// <summary>How <see cref="BeginWork"/> runs units of work: adaptively by default.</summary>
    public WorkSplitting Splitting { get; set; } = WorkSplitting.Adaptive;

    /// <summary>The per-size record of serial and pooled unit times behind <see cref="WorkSplitting.Adaptive"/>.</summary>
    public SplitChooser SplitChooser { get; } = new();

    /// <summary>
    /// From this cost (FLOPs plus weighted bytes) a unit always uses the pool: one try of such a unit on one thread would
    /// cost a second or more. Below it the chooser decides: a ViT-B forward (3.5e10 FLOPs) or a 512-token prompt of a
    /// 25M-parameter decoder (2.1e10) ran 0.75x of one thread on the pool while a neighbour held the other vCPU.
    /// </summary>
    public const double AlwaysPooledCost = 2e11;

    /// <summary>FLOP-equivalents per streamed byte in a unit's cost: about one core's FMA rate over its memory bandwidth here.</summary>
    public const double FlopsPerByte = 10;

    /// <inheritdoc/>
    public WorkScope BeginWork(double flops, double bytes)
    {
        if (Pool.Threads == 1) return default;
        switch (Splitting)
        {
            case WorkSplitting.Serial:
                return WorkScope.SerialOnThisThread();
            case WorkSplitting.Pooled:
                return default;
        }
        double cost = Math.Max(0, flops) + FlopsPerByte * Math.Max(0, bytes);
        // Inside a serial scope or a pool job the unit runs inline whatever is chosen: timing it would credit the
        // pooled way with a serial time.
        if (!(cost > 0) || cost >= AlwaysPooledCost || CpuWorkerPool.InlineOnThisThread) return default;
        int sizeClass = SplitChooser.SizeClass(cost);
        bool serial = SplitChooser.ChooseSerial(sizeClass, out var wakeWorkersFor);
        if (wakeWorkersFor > TimeSpan.Zero) Pool.Prewake(wakeWorkersFor);
        return WorkScope.Timed(SplitChooser, sizeClass, cost, serial);
    }

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
