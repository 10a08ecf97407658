// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// A memory-mapped file shared by a reader and every zero-copy tensor loaded from it, freed with the last of them.
using System.IO.MemoryMappedFiles;

namespace HpcCore.Models.Weights;

/// <summary>
/// A whole file mapped copy-on-write, with a reference count: the reader holds one reference and each zero-copy
/// tensor's storage holds a <see cref="Lease"/>, so tensors stay valid after the reader is disposed.
/// </summary>
/// <remarks>
/// Why copy-on-write rather than read-only: with <see cref="MemoryMappedFileAccess.Read"/> the pages are mapped
/// PROT_READ, and one stray write through a loaded tensor (an in-place op on a weight) is a SIGSEGV / access
/// violation, which .NET cannot catch: the process dies. Copy-on-write (MAP_PRIVATE on Unix, PAGE_WRITECOPY on
/// Windows) makes such a write change only this process's private copy of the page; the file on disk is never
/// modified. Untouched pages are still shared with the page cache, so the cost on Linux is nil; on Windows the
/// view's size is charged against the commit limit. The file handle is opened read-only either way.
/// </remarks>
internal sealed unsafe class MappedWeightsFile
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private static long s_live;
    private int _references = 1;

    /// <summary>Mappings open in this process (tests and the soak check that failed loads release theirs).</summary>
    internal static long LiveCount => Interlocked.Read(ref s_live);

    private MappedWeightsFile(MemoryMappedFile file, MemoryMappedViewAccessor view, byte* pointer, long length)
    {
        _file = file;
        _view = view;
        Pointer = pointer;
        Length = length;
    }

    /// <summary>Start of the mapped file.</summary>
    public byte* Pointer { get; }

    /// <summary>File length in bytes (the mapping may be rounded up to a page; bytes past this are not used).</summary>
    public long Length { get; }

    /// <summary>
    /// Maps <paramref name="path"/>, or returns null with <paramref name="length"/> set when the file is too short
    /// to map (an empty file cannot be mapped; the caller reports it as a format error).
    /// </summary>
    public static MappedWeightsFile? Open(string path, long minimumLength, out long length)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        MemoryMappedFile? file = null;
        MemoryMappedViewAccessor? view = null;
        bool acquired = false;
        try
        {
            length = stream.Length;
            if (length < minimumLength)
            {
                stream.Dispose();
                return null;
            }
            file = MemoryMappedFile.CreateFromFile(
                stream, mapName: null, capacity: 0, MemoryMappedFileAccess.CopyOnWrite, HandleInheritability.None,
                leaveOpen: false);
            view = file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.CopyOnWrite);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            acquired = true;
            Interlocked.Increment(ref s_live);
            return new MappedWeightsFile(file, view, pointer + view.PointerOffset, length);
        }
        catch
        {
            if (acquired) view!.SafeMemoryMappedViewHandle.ReleasePointer();
            view?.Dispose();
            if (file is not null) file.Dispose();
            else stream.Dispose();
            throw;
        }
    }

    /// <summary>A new reference, released by disposing the lease (once; further calls do nothing).</summary>
    /// <exception cref="ObjectDisposedException">The mapping was already released.</exception>
    public IDisposable Lease()
    {
        int current;
        do
        {
            current = Volatile.Read(ref _references);
            if (current <= 0)
                throw new ObjectDisposedException(nameof(SafetensorsReader), "The safetensors file was closed.");
        }
        while (Interlocked.CompareExchange(ref _references, current + 1, current) != current);
        return new MappingLease(this);
    }

    /// <summary>Drops a reference; the last one unmaps the file and closes it.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _references) != 0) return;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
        Interlocked.Decrement(ref s_live);
    }

    private sealed class MappingLease(MappedWeightsFile owner) : IDisposable
    {
        private MappedWeightsFile? _owner = owner;

        public void Dispose() => Interlocked.Exchange(ref _owner, null)?.Release();
    }
}
