// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cpu;

using HpcCore.Devices;
using HpcCore.Tensors;

/// <summary>Host memory for the CPU backend: a pooled buffer, or external memory such as a memory-mapped file.</summary>
public sealed unsafe class CpuStorage : Storage
{
    private readonly CpuMemoryPool? _pool;
    private readonly long _capacity;
    private readonly IDisposable? _owner;

    internal CpuStorage(IBackend backend, CpuMemoryPool pool, long bytes)
        : base(backend, bytes)
    {
        _pool = pool;
        Pointer = pool.Rent(bytes, out _capacity);
    }

    /// <summary>
    /// Wraps memory owned elsewhere (e.g. a memory-mapped file view). <paramref name="owner"/> is disposed when
    /// the last tensor over this storage is disposed.
    /// </summary>
    public CpuStorage(IBackend backend, byte* pointer, long bytes, IDisposable? owner)
        : base(backend, bytes)
    {
        Pointer = pointer;
        _owner = owner;
    }

    /// <summary>Start of the memory.</summary>
    public byte* Pointer { get; }

    /// <summary>A span over <paramref name="length"/> bytes from <paramref name="offset"/>.</summary>
    public Span<byte> AsSpan(long offset, long length)
    {
        if (offset < 0 || length < 0 || offset > ByteLength - length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"CpuStorage.AsSpan: [{offset}, {offset + length}) is outside {ByteLength} bytes.");
        return new Span<byte>(Pointer + offset, checked((int)length));
    }

    /// <summary>Zeroes <paramref name="length"/> bytes from <paramref name="offset"/> (any length: no span of more than 2 GiB is made).</summary>
    public void Clear(long offset, long length)
    {
        if (offset < 0 || length < 0 || offset > ByteLength - length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"CpuStorage.Clear: [{offset}, {offset} + {length}) is outside {ByteLength} bytes.");
        System.Runtime.InteropServices.NativeMemory.Clear(Pointer + offset, (nuint)length);
    }

    /// <inheritdoc/>
    protected override void ReleaseMemory()
    {
        if (_pool is not null) _pool.Return(Pointer, _capacity);
        _owner?.Dispose();
    }
}
