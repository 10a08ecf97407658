// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Images;

using System.Buffers.Binary;
using System.IO.Compression;

/// <summary>
/// An IDX file (LeCun's MNIST format, also Fashion-MNIST's): two zero bytes, a type byte, a rank byte, the rank
/// dimensions as big-endian 32-bit integers, then the values row-major. Only unsigned bytes (type 0x08) are read: the
/// format of every MNIST-style image and label file. Files ending in .gz are decompressed on the fly.
/// Untrusted input: every header length is checked against <see cref="MaxElements"/> and, for a file, against the
/// file's length before anything is allocated; a compressed stream's buffer grows only with the data that arrives.
/// The data must be exactly as long as the header says.
/// </summary>
public sealed class IdxFile
{
    /// <summary>Largest accepted element count (1 GiB of bytes).</summary>
    public const long MaxElements = 1L << 30;

    /// <summary>Largest accepted rank.</summary>
    public const int MaxRank = 4;

    private IdxFile(int[] dims, byte[] data)
    {
        Dims = dims;
        Data = data;
    }

    /// <summary>The dimensions from the header, e.g. [N, 28, 28] for images or [N] for labels.</summary>
    public IReadOnlyList<int> Dims { get; }

    /// <summary>The values, row-major.</summary>
    public byte[] Data { get; }

    /// <summary>Reads <paramref name="path"/> (gzip'd when it ends in .gz).</summary>
    /// <exception cref="InvalidDataException">The file is not a well-formed unsigned-byte IDX file.</exception>
    public static IdxFile Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = File.OpenRead(path);
        if (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
        {
            using var gz = new GZipStream(file, CompressionMode.Decompress);
            return Read(gz, path);
        }
        return Read(file, path);
    }

    /// <summary>Reads an uncompressed IDX stream; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="InvalidDataException">The stream is not a well-formed unsigned-byte IDX file.</exception>
    public static IdxFile Read(Stream stream, string source = "<stream>")
    {
        ArgumentNullException.ThrowIfNull(stream);
        Span<byte> head = stackalloc byte[4];
        ReadExactly(stream, head, source, "header");
        if (head[0] != 0 || head[1] != 0)
            throw Bad(source, $"magic starts {head[0]:x2} {head[1]:x2}; IDX files start with two zero bytes");
        if (head[2] != 0x08)
            throw Bad(source, $"type byte 0x{head[2]:x2} is not 0x08 (unsigned byte), the only type read");
        int rank = head[3];
        if (rank < 1 || rank > MaxRank)
            throw Bad(source, $"rank {rank} is outside 1..{MaxRank}");
        Span<byte> dimBytes = stackalloc byte[4 * MaxRank];
        ReadExactly(stream, dimBytes[..(4 * rank)], source, "dimensions");
        var dims = new int[rank];
        long count = 1;
        for (int i = 0; i < rank; i++)
        {
            uint d = BinaryPrimitives.ReadUInt32BigEndian(dimBytes.Slice(4 * i, 4));
            if (d > MaxElements)
                throw Bad(source, $"dimension {i} is {d}, above the limit of {MaxElements} elements");
            dims[i] = (int)d;
            count *= d;
            if (count > MaxElements)
                throw Bad(source, $"dimensions [{string.Join(", ", dims[..(i + 1)])}...] hold more than {MaxElements} elements");
        }
        // The header is 4 + 4 * rank bytes of claims: check them against what the stream holds before allocating.
        long held = stream.CanSeek ? stream.Length - stream.Position : count;
        if (held < count)
            throw Bad(source, $"ends inside the data: it holds {held} bytes, the header [{string.Join(", ", dims)}] declares {count}");
        if (held > count)
            throw Bad(source, $"has bytes after the {count} values the header [{string.Join(", ", dims)}] declares");
        var data = stream.CanSeek ? GC.AllocateUninitializedArray<byte>((int)count) : ReadGrowing(stream, (int)count, source);
        if (stream.CanSeek) ReadExactly(stream, data, source, "data");
        if (stream.ReadByte() >= 0)
            throw Bad(source, $"has bytes after the {count} values the header [{string.Join(", ", dims)}] declares");
        return new IdxFile(dims, data);
    }

    // A stream of unknown length (gzip): the buffer grows with the data that actually arrives, so a short file that
    // declares a huge count costs what it holds, not what it claims.
    private static byte[] ReadGrowing(Stream s, int count, string source)
    {
        var data = new byte[Math.Min(count, 1 << 20)];
        int got = 0;
        while (got < count)
        {
            if (got == data.Length) Array.Resize(ref data, (int)Math.Min(count, 2L * data.Length));
            int n = s.Read(data, got, data.Length - got);
            if (n == 0) throw Bad(source, $"ends inside the data ({got} of {count} bytes)");
            got += n;
        }
        return data;
    }

    private static void ReadExactly(Stream s, Span<byte> buffer, string source, string part)
    {
        int got = 0;
        while (got < buffer.Length)
        {
            int n = s.Read(buffer[got..]);
            if (n == 0) throw Bad(source, $"ends inside the {part} ({got} of {buffer.Length} bytes)");
            got += n;
        }
    }

    private static InvalidDataException Bad(string source, string why) => new($"IdxFile.Read: '{source}' {why}");
}
