// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// A size-classed pool of device buffers. Device allocation (cuMemAlloc) is slow and synchronizing, so freed buffers
// are kept and reused: a steady-state forward pass allocates no device memory at all.
using ILGPU;
using ILGPU.Runtime;

namespace HpcCore.Gpu;

using HpcCore.Cpu;

/// <summary>Pool of byte buffers on one accelerator, keyed by size class (four classes per power of two).</summary>
public sealed class IlgpuMemoryPool : IDisposable
{
    /// <summary>Smallest buffer handed out, in bytes (also the alignment granularity of the size classes).</summary>
    public const long MinBufferBytes = 256;

    private readonly Accelerator _accelerator;
    private readonly Dictionary<long, Stack<MemoryBuffer1D<byte, Stride1D.Dense>>> _free = [];
    private readonly Lock _gate = new();
    private long _retainedBytes;
    private long _liveBuffers;
    private long _freshAllocations;
    private bool _disposed;

    internal IlgpuMemoryPool(Accelerator accelerator, long maxRetainedBytes)
    {
        _accelerator = accelerator;
        MaxRetainedBytes = maxRetainedBytes;
    }

    /// <summary>Free bytes kept for reuse at most; buffers returned beyond it are freed.</summary>
    public long MaxRetainedBytes { get; }

    /// <summary>Bytes currently held free in the pool.</summary>
    public long RetainedBytes
    {
        get
        {
            lock (_gate) return _retainedBytes;
        }
    }

    /// <summary>Buffers handed out and not yet returned.</summary>
    public long LiveBuffers
    {
        get
        {
            lock (_gate) return _liveBuffers;
        }
    }

    /// <summary>Buffers that had to be allocated on the device; unchanged across iterations of a steady workload.</summary>
    public long FreshAllocations
    {
        get
        {
            lock (_gate) return _freshAllocations;
        }
    }

    /// <summary>The size class serving a request of <paramref name="bytes"/> bytes.</summary>
    public static long SizeClass(long bytes) => Math.Max(MinBufferBytes, CpuMemoryPool.SizeClass(bytes));

    internal MemoryBuffer1D<byte, Stride1D.Dense> Rent(long bytes)
    {
        long capacity = SizeClass(bytes);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _liveBuffers++;
            if (_free.TryGetValue(capacity, out var stack) && stack.Count > 0)
            {
                _retainedBytes -= capacity;
                return stack.Pop();
            }
            _freshAllocations++;
        }
        try
        {
            return _accelerator.Allocate1D<byte>(capacity);
        }
        catch
        {
            lock (_gate) _liveBuffers--;
            throw;
        }
    }

    internal void Return(MemoryBuffer1D<byte, Stride1D.Dense> buffer)
    {
        long capacity = buffer.Length;
        lock (_gate)
        {
            _liveBuffers--;
            if (!_disposed && _retainedBytes + capacity <= MaxRetainedBytes)
            {
                if (!_free.TryGetValue(capacity, out var stack)) _free[capacity] = stack = new();
                stack.Push(buffer);
                _retainedBytes += capacity;
                return;
            }
        }
        buffer.Dispose();
    }

    /// <summary>Frees every pooled buffer (buffers still rented are freed when returned).</summary>
    public void Trim()
    {
        lock (_gate)
        {
            foreach (var stack in _free.Values)
                while (stack.Count > 0) stack.Pop().Dispose();
            _free.Clear();
            _retainedBytes = 0;
        }
    }

    /// <summary>Frees the pooled buffers and stops pooling.</summary>
    public void Dispose()
    {
        Trim();
        lock (_gate) _disposed = true;
    }
}
