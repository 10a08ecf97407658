// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Bytes owned on one device, shared by a tensor and its views through a reference count.
namespace HpcCore.Tensors;

using HpcCore.Devices;

/// <summary>
/// A block of memory on one backend's device. A tensor and every view of it share one storage;
/// the memory is released (returned to the backend's pool) when the last of them is disposed.
/// </summary>
public abstract class Storage
{
    private int _references = 1;

    /// <summary>Creates a storage holding one reference.</summary>
    protected Storage(IBackend backend, long byteLength)
    {
        Backend = backend;
        ByteLength = byteLength;
    }

    /// <summary>The backend whose device holds the bytes.</summary>
    public IBackend Backend { get; }

    /// <summary>Usable length in bytes.</summary>
    public long ByteLength { get; }

    /// <summary>True once the last reference was released.</summary>
    public bool IsReleased => Volatile.Read(ref _references) <= 0;

    /// <summary>Adds a reference (a new view).</summary>
    /// <exception cref="ObjectDisposedException">The storage was already released.</exception>
    internal void Retain()
    {
        int current;
        do
        {
            current = Volatile.Read(ref _references);
            if (current <= 0) throw new ObjectDisposedException(nameof(Storage), "The tensor's storage was already released.");
        }
        while (Interlocked.CompareExchange(ref _references, current + 1, current) != current);
    }

    /// <summary>Drops a reference; the last one frees the memory.</summary>
    internal void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0) ReleaseMemory();
    }

    /// <summary>Frees or pools the memory. Called exactly once.</summary>
    protected abstract void ReleaseMemory();
}
