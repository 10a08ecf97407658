// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Reads safetensors files (huggingface/safetensors) by memory-mapping them; CPU tensors are views of the mapping.
//
// The header is parsed and validated in full by SafetensorsHeader when the reader is created, so every later
// call works on checked offsets. Limits: little-endian hosts only (the format is little-endian and bytes are
// used as is); rank <= 8 and dimensions <= int.MaxValue (HpcCore's Shape); dtypes F32, F16, BF16, I32, I64, U8
// and BOOL. A file that is truncated or rewritten in place while mapped is outside what any mmap reader can
// defend against (SIGBUS on Unix): replace weight files by rename, as SafetensorsWriter does.
using System.Diagnostics.CodeAnalysis;

namespace HpcCore.Models.Weights;

using HpcCore.Devices;
using HpcCore.Tensors;

/// <summary>
/// A safetensors file opened for reading. <see cref="Open"/> maps the file and validates its header;
/// <see cref="Load"/> returns each tensor, without copying on the CPU backend.
/// </summary>
/// <remarks>
/// <para>Zero-copy tensors (CPU backend, file opened with <see cref="Open"/>) view the mapping directly and keep
/// it alive: they stay valid after the reader is disposed, and the file is unmapped when the reader and the last
/// such tensor are disposed.</para>
/// <para>Treat loaded tensors as read-only. The mapping is copy-on-write, so writing into one never reaches the
/// file and never crashes the process, but the change is visible to every tensor loaded from this reader for the
/// same bytes and to <see cref="GetBytes"/>. When a private mutable tensor is needed, copy, e.g.
/// <c>Tensor.FromBytes(reader.GetBytes(name), entry.Shape, entry.DType, backend)</c>.</para>
/// <para>Every member is safe to call from several threads, except <see cref="Dispose"/> concurrently with
/// <see cref="GetBytes"/> (whose span would dangle).</para>
/// </remarks>
public sealed unsafe class SafetensorsReader : IDisposable
{
    // Copies to non-CPU backends go through CopyFromHost in slices this large, so a tensor above 2 GiB
    // (beyond one span) still loads.
    private const int CopyChunkBytes = 1 << 30;

    private readonly SafetensorsHeader _header;
    private readonly MappedWeightsFile? _mapping;
    private readonly ReadOnlyMemory<byte> _memory;
    private int _disposed;
    private SafetensorsLoadScope? _scope;

    private SafetensorsReader(
        string source, SafetensorsHeader header, MappedWeightsFile? mapping, ReadOnlyMemory<byte> memory)
    {
        Source = source;
        _header = header;
        _mapping = mapping;
        _memory = memory;
        Metadata = header.Metadata.AsReadOnly();
        Entries = header.Entries.AsReadOnly();
    }

    /// <summary>The path given to <see cref="Open"/>, or the name given to <see cref="FromBytes"/>.</summary>
    public string Source { get; }

    /// <summary>The header's <c>__metadata__</c> map (empty when the file has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Every tensor in the file, in file order (ascending data offset).</summary>
    public IReadOnlyList<SafetensorsEntry> Entries { get; }

    /// <summary>Length of the JSON header in bytes (N, padding included).</summary>
    public long HeaderLength => _header.HeaderBytes;

    /// <summary>Offset of the data section from the start of the file: 8 + N.</summary>
    public long DataStart => _header.DataStart;

    /// <summary>True once <see cref="Dispose"/> was called.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Start of the data section in the mapping (tests check that zero-copy tensors point into it).</summary>
    internal byte* MappedDataPointer => _mapping is null ? null : _mapping.Pointer + _header.DataStart;

    /// <summary>
    /// Memory-maps <paramref name="path"/> (read-only file handle, copy-on-write pages) and validates it.
    /// </summary>
    /// <exception cref="SafetensorsFormatException">The file is not a valid safetensors file, or uses a dtype,
    /// rank or dimension HpcCore does not support. The message names the file and the problem.</exception>
    /// <exception cref="IOException">The file cannot be opened or mapped.</exception>
    public static SafetensorsReader Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        // An empty file cannot be mapped at all; ReadHeaderLength reports it like any other short file.
        var mapping = MappedWeightsFile.Open(path, minimumLength: 1, out long length);
        if (mapping is null)
        {
            SafetensorsHeader.ReadHeaderLength([], length, path);
            throw SafetensorsHeader.Fail(path, "file is empty");
        }
        try
        {
            var file = new ReadOnlySpan<byte>(mapping.Pointer, (int)Math.Min(length, SafetensorsHeader.PrefixBytes));
            int n = SafetensorsHeader.ReadHeaderLength(file, length, path);
            var json = new ReadOnlySpan<byte>(mapping.Pointer + SafetensorsHeader.PrefixBytes, n);
            var header = SafetensorsHeader.Parse(json, length, path);
            return new SafetensorsReader(path, header, mapping, ReadOnlyMemory<byte>.Empty);
        }
        catch
        {
            mapping.Release();
            throw;
        }
    }

    /// <summary>
    /// Reads safetensors bytes already in memory. The buffer is referenced, not copied, and must not change while
    /// the reader is used; <see cref="Load"/> always copies out of it.
    /// </summary>
    /// <param name="bytes">The whole file: length prefix, header and data.</param>
    /// <param name="sourceName">Name used in error messages.</param>
    /// <exception cref="SafetensorsFormatException">The bytes are not a valid safetensors file.</exception>
    public static SafetensorsReader FromBytes(ReadOnlyMemory<byte> bytes, string sourceName = "<memory>")
    {
        ArgumentNullException.ThrowIfNull(sourceName);
        var span = bytes.Span;
        int n = SafetensorsHeader.ReadHeaderLength(span, span.Length, sourceName);
        var header = SafetensorsHeader.Parse(span.Slice(SafetensorsHeader.PrefixBytes, n), span.Length, sourceName);
        return new SafetensorsReader(sourceName, header, null, bytes);
    }

    /// <summary>True when the file holds a tensor named <paramref name="name"/>.</summary>
    public bool Contains(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _header.Index.ContainsKey(name);
    }

    /// <summary>The header entry of <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No tensor has that name.</exception>
    public SafetensorsEntry GetEntry(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!_header.Index.TryGetValue(name, out int i))
            throw new KeyNotFoundException($"{Source}: no tensor named {SafetensorsHeader.Echo(name)} " +
                $"(the file holds {Entries.Count})");
        return Entries[i];
    }

    /// <summary>The header entry of <paramref name="name"/>, or false when there is none.</summary>
    public bool TryGetEntry(string name, [NotNullWhen(true)] out SafetensorsEntry? entry)
    {
        ArgumentNullException.ThrowIfNull(name);
        entry = _header.Index.TryGetValue(name, out int i) ? Entries[i] : null;
        return entry is not null;
    }

    /// <summary>
    /// The raw little-endian bytes of tensor <paramref name="name"/> (row-major), without copying. The span is
    /// valid until the reader is disposed.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No tensor has that name.</exception>
    /// <exception cref="NotSupportedException">The tensor is larger than 2 GiB, beyond one span; use
    /// <see cref="Load"/>.</exception>
    public ReadOnlySpan<byte> GetBytes(string name)
    {
        var entry = GetEntry(name);
        ThrowIfDisposed();
        if (entry.ByteLength > int.MaxValue)
            throw new NotSupportedException($"{Source}: tensor {SafetensorsHeader.Echo(name)} is {entry.ByteLength} " +
                "bytes, more than one span can hold; use Load instead");
        return DataSpan(entry.DataOffset, (int)entry.ByteLength);
    }

    /// <summary>
    /// Tensor <paramref name="name"/> on <paramref name="backend"/>, shape and dtype as in the header. On a
    /// backend that computes on host memory (the CPU backend) with a mapped file it is a zero-copy view of the mapping (when its bytes are
    /// aligned to the element size, which files from the reference writer and <see cref="SafetensorsWriter"/>
    /// always are); otherwise a contiguous copy on the backend. The caller owns (disposes) the tensor.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No tensor has that name.</exception>
    public Tensor Load(string name, IBackend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        var entry = GetEntry(name);
        ThrowIfDisposed();
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("SafetensorsReader.Load: safetensors data is little-endian; " +
                "big-endian hosts are not supported.");

        // Holding a lease while we read keeps the mapping alive even if Dispose runs concurrently.
        IDisposable? hold = _mapping?.Lease();
        try
        {
            if (_mapping is not null)
            {
                byte* start = _mapping.Pointer + _header.DataStart + entry.DataOffset;
                // The tensor keeps the lease and releases it when its last view is disposed.
                if ((nuint)start % (nuint)entry.DType.SizeInBytes() == 0 &&
                    Tensor.WrapHost(backend, start, entry.ByteLength, entry.Shape, entry.DType, hold) is { } view)
                {
                    hold = null;
                    return Tracked(view);
                }
            }
            return Tracked(Copy(entry, backend));
        }
        finally
        {
            hold?.Dispose();
        }
    }

    /// <summary>
    /// Releases the reader's hold on the file. Zero-copy tensors loaded earlier stay valid; the file is unmapped
    /// when the last of them is disposed. Safe to call twice.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _mapping?.Release();
    }

    /// <summary><paramref name="length"/> bytes of <paramref name="entry"/>'s data from <paramref name="offset"/> (within the entry).</summary>
    internal ReadOnlySpan<byte> GetBytesSlice(SafetensorsEntry entry, long offset, int length)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset + length, entry.ByteLength, nameof(length));
        return DataSpan(entry.DataOffset + offset, length);
    }

    /// <summary>
    /// Starts recording every tensor <see cref="Load"/> returns, so that a loader can dispose them all when it fails
    /// part-way (one scope at a time per reader).
    /// </summary>
    internal SafetensorsLoadScope TrackLoads()
    {
        var scope = new SafetensorsLoadScope(this);
        if (Interlocked.CompareExchange(ref _scope, scope, null) is not null)
            throw new InvalidOperationException($"{Source}: a load is already being tracked on this reader");
        return scope;
    }

    internal void EndScope(SafetensorsLoadScope scope) => Interlocked.CompareExchange(ref _scope, null, scope);

    private Tensor Tracked(Tensor tensor)
    {
        Volatile.Read(ref _scope)?.Add(tensor);
        return tensor;
    }

    private Tensor Copy(SafetensorsEntry entry, IBackend backend)
    {
        var tensor = Tensor.Empty(entry.Shape, entry.DType, backend);
        try
        {
            for (long done = 0; done < entry.ByteLength; done += CopyChunkBytes)
            {
                int chunk = (int)Math.Min(CopyChunkBytes, entry.ByteLength - done);
                backend.CopyFromHost(DataSpan(entry.DataOffset + done, chunk), tensor.Storage, done);
            }
            return tensor;
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    private ReadOnlySpan<byte> DataSpan(long dataOffset, int length) => _mapping is not null
        ? new ReadOnlySpan<byte>(_mapping.Pointer + _header.DataStart + dataOffset, length)
        : _memory.Span.Slice((int)(_header.DataStart + dataOffset), length);

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(IsDisposed, this);
}
