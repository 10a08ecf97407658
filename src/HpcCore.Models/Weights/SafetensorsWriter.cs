// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Writes safetensors files byte-compatible with the reference implementation (huggingface/safetensors,
// safetensors/src/tensor.rs `prepare`/`serialize`).
//
// Layout choices, all as in the reference so that files are identical to what it would write:
//  - tensors sorted by element size, largest first, then by name (ordinal). With the header padded to a
//    multiple of 8, every tensor then starts at an offset aligned to its element size, which is what lets the
//    reader (ours and others) hand out zero-copy views;
//  - compact JSON, "__metadata__" first (its keys sorted, for determinism), then the tensors in data order,
//    each as {"dtype","shape","data_offsets"};
//  - the header padded with spaces (valid JSON whitespace) to a multiple of 8 bytes.
using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace HpcCore.Models.Weights;

using HpcCore.Tensors;

/// <summary>Writes tensors to the safetensors format.</summary>
public static class SafetensorsWriter
{
    // Device tensors are copied to the host in slices this large, so writing never needs a second full copy.
    private const int HostChunkBytes = 16 << 20;

    /// <summary>
    /// Writes <paramref name="tensors"/> to <paramref name="path"/>. The file is written under a temporary name in
    /// the same folder and then renamed over <paramref name="path"/>, so a reader that has the old file mapped
    /// keeps seeing the old bytes (truncating a mapped file in place would crash it with SIGBUS).
    /// </summary>
    /// <param name="path">Destination file; replaced if it exists.</param>
    /// <param name="tensors">Name and tensor pairs, any backend, any layout (strided views are written
    /// row-major). Names must be unique and not <c>__metadata__</c>.</param>
    /// <param name="metadata">Optional string map stored as <c>__metadata__</c>.</param>
    /// <exception cref="ArgumentException">A name is null, repeated or reserved, or a tensor was disposed.</exception>
    public static void Write(
        string path,
        IEnumerable<KeyValuePair<string, Tensor>> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var sorted = Prepare(tensors, metadata);
        string full = Path.GetFullPath(path);
        // Same folder, so the rename stays on one file system (and is atomic there).
        string temp = Path.Combine(
            Path.GetDirectoryName(full) ?? ".", $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                WriteCore(stream, sorted, metadata);
                stream.Flush(flushToDisk: false);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>
    /// Writes <paramref name="tensors"/> in safetensors format to <paramref name="stream"/> (left open).
    /// </summary>
    /// <param name="stream">A writable stream; the file starts at its current position.</param>
    /// <param name="tensors">Name and tensor pairs, any backend, any layout. Names must be unique and not
    /// <c>__metadata__</c>.</param>
    /// <param name="metadata">Optional string map stored as <c>__metadata__</c>.</param>
    /// <exception cref="ArgumentException">A name is null, repeated or reserved, a tensor was disposed, or the
    /// stream is not writable.</exception>
    public static void Write(
        Stream stream,
        IEnumerable<KeyValuePair<string, Tensor>> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanWrite) throw Bad("stream is not writable", nameof(stream));
        WriteCore(stream, Prepare(tensors, metadata), metadata);
    }

    /// <summary>The header bytes (length prefix excluded, padding included) for tensors in file order.</summary>
    internal static byte[] BuildHeader(
        List<KeyValuePair<string, Tensor>> sorted, IReadOnlyDictionary<string, string>? metadata)
    {
        var buffer = new ArrayBufferWriter<byte>();
        // Relaxed escaping: names like "a+b" or non-ASCII stay readable, as serde writes them; quotes, backslashes
        // and control characters are still escaped, so the JSON is valid.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions
        {
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            Indented = false,
            SkipValidation = false,
        }))
        {
            json.WriteStartObject();
            if (metadata is not null)
            {
                json.WriteStartObject(SafetensorsHeader.MetadataKey);
                foreach (var key in metadata.Keys.Order(StringComparer.Ordinal))
                    json.WriteString(key, metadata[key]);
                json.WriteEndObject();
            }
            long offset = 0;
            Span<int> dims = stackalloc int[Shape.MaxRank];
            foreach (var (name, tensor) in sorted)
            {
                long bytes = tensor.ElementCount * tensor.DType.SizeInBytes();
                json.WriteStartObject(name);
                json.WriteString("dtype", SafetensorsDTypes.ToName(tensor.DType));
                json.WriteStartArray("shape");
                tensor.Shape.CopyTo(dims);
                for (int i = 0; i < tensor.Rank; i++) json.WriteNumberValue(dims[i]);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += bytes;
            }
            json.WriteEndObject();
        }
        int padded = (buffer.WrittenCount + 7) / 8 * 8;
        var header = new byte[padded];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        return header;
    }

    private static List<KeyValuePair<string, Tensor>> Prepare(
        IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("SafetensorsWriter: big-endian hosts are not supported.");
        var list = new List<KeyValuePair<string, Tensor>>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pair in tensors)
        {
            string name = pair.Key ?? throw Bad("a tensor name is null", nameof(tensors));
            if (name == SafetensorsHeader.MetadataKey)
                throw Bad($"\"{name}\" is reserved for metadata", nameof(tensors));
            if (!names.Add(name))
                throw Bad($"tensor '{name}' appears twice", nameof(tensors));
            if (pair.Value is null || pair.Value.IsDisposed)
                throw Bad($"tensor '{name}' is null or disposed", nameof(tensors));
            list.Add(pair);
        }
        if (metadata is not null)
        {
            foreach (var (key, value) in metadata)
            {
                if (key is null || value is null)
                    throw Bad("metadata keys and values must not be null", nameof(metadata));
            }
        }
        list.Sort(static (a, b) =>
        {
            int bySize = b.Value.DType.SizeInBytes().CompareTo(a.Value.DType.SizeInBytes());
            return bySize != 0 ? bySize : string.CompareOrdinal(a.Key, b.Key);
        });
        return list;
    }

    private static void WriteCore(
        Stream stream, List<KeyValuePair<string, Tensor>> sorted, IReadOnlyDictionary<string, string>? metadata)
    {
        byte[] header = BuildHeader(sorted, metadata);
        Span<byte> prefix = stackalloc byte[SafetensorsHeader.PrefixBytes];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
        stream.Write(prefix);
        stream.Write(header);
        foreach (var (_, tensor) in sorted) WriteData(stream, tensor);
    }

    private static void WriteData(Stream stream, Tensor tensor)
    {
        long bytes = tensor.ElementCount * tensor.DType.SizeInBytes();
        if (bytes == 0) return;
        // A view over contiguous memory costs nothing; a strided view becomes a row-major copy here.
        using var contiguous = tensor.Contiguous();
        if (contiguous.IsHostVisible && bytes <= int.MaxValue)
        {
            stream.Write(contiguous.AsBytes());
            return;
        }
        byte[] chunk = ArrayPool<byte>.Shared.Rent((int)Math.Min(HostChunkBytes, bytes));
        try
        {
            for (long done = 0; done < bytes; done += HostChunkBytes)
            {
                int n = (int)Math.Min(HostChunkBytes, bytes - done);
                contiguous.Backend.CopyToHost(contiguous.Storage, contiguous.ByteOffset + done, chunk.AsSpan(0, n));
                stream.Write(chunk, 0, n);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    private static ArgumentException Bad(string problem, string parameter) =>
        new($"SafetensorsWriter.Write: {problem}.", parameter);
}
