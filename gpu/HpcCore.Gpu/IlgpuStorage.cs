// Copyright (c) HpcCore contributors. Licensed under the MIT license.
using ILGPU;
using ILGPU.Runtime;

namespace HpcCore.Gpu;

using HpcCore.Tensors;

/// <summary>Device memory of an <see cref="IlgpuBackend"/>: a pooled byte buffer, viewed by kernels as typed elements.</summary>
public sealed class IlgpuStorage : Storage
{
    private readonly IlgpuMemoryPool _pool;
    private readonly MemoryBuffer1D<byte, Stride1D.Dense> _buffer;

    internal IlgpuStorage(IlgpuBackend backend, IlgpuMemoryPool pool, long bytes)
        : base(backend, bytes)
    {
        _pool = pool;
        _buffer = pool.Rent(bytes);
        View = _buffer.View.SubView(0, bytes);
    }

    /// <summary>The usable bytes (<see cref="Storage.ByteLength"/> of them; the pooled buffer may be larger).</summary>
    public ArrayView<byte> View { get; }

    /// <summary>Bytes actually held on the device (the size class).</summary>
    public long Capacity => _buffer.Length;

    /// <inheritdoc/>
    protected override void ReleaseMemory() => _pool.Return(_buffer);
}
