// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm.Loading.Gguf;

using System.Buffers.Binary;
using System.Text;

/// <summary>
/// Reads a GGUF file (version 2 or 3, little-endian; ggml's gguf.md): the metadata key/values, the tensor table, and
/// each tensor dequantised to F32 on request. The file is untrusted: every count, length and offset is checked
/// against the bytes that remain, with checked arithmetic, before anything is allocated from it; any violation is an
/// <see cref="LmFormatException"/> naming the file and the key or tensor.
/// </summary>
public sealed class GgufFile : IDisposable
{
    /// <summary>"GGUF" read as a little-endian uint32.</summary>
    public const uint Magic = 0x46554747;

    /// <summary>Alignment of the data section and every tensor when general.alignment is absent.</summary>
    public const int DefaultAlignment = 32;

    // Caps that keep a hostile header from asking for absurd work; far above any real model's needs.
    private const long MaxStringBytes = 1 << 24, MaxArrayNesting = 2, MaxDims = 4;

    private readonly FileStream _stream;
    private readonly Dictionary<string, GgufValue> _metadata = new(StringComparer.Ordinal);
    private readonly Dictionary<string, GgufTensorInfo> _tensors = new(StringComparer.Ordinal);
    private readonly List<GgufTensorInfo> _order = [];

    private GgufFile(FileStream stream, string name)
    {
        _stream = stream;
        Name = name;
    }

    /// <summary>The file name used in error messages.</summary>
    public string Name { get; }

    /// <summary>Format version (2 or 3).</summary>
    public uint Version { get; private set; }

    /// <summary>Byte alignment of the data section (general.alignment, default 32).</summary>
    public int Alignment { get; private set; } = DefaultAlignment;

    /// <summary>Absolute file offset of the data section.</summary>
    public long DataOffset { get; private set; }

    /// <summary>All metadata, by key.</summary>
    public IReadOnlyDictionary<string, GgufValue> Metadata => _metadata;

    /// <summary>Tensors in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors => _order;

    /// <summary>Opens and validates <paramref name="path"/> (header, metadata and tensor table; data is read lazily).</summary>
    public static GgufFile Open(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.RandomAccess);
        var file = new GgufFile(stream, Path.GetFileName(path));
        try
        {
            file.ReadHeader();
            return file;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>The tensor named <paramref name="name"/>, or null.</summary>
    public GgufTensorInfo? Find(string name) => _tensors.GetValueOrDefault(name);

    /// <summary>The value of <paramref name="key"/>, or null.</summary>
    public GgufValue? Get(string key) => _metadata.GetValueOrDefault(key);

    /// <summary>Reads tensor <paramref name="info"/> and dequantises it to F32 (row-major, ggml element order).</summary>
    public float[] ReadF32(GgufTensorInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        long n = info.ElementCount;
        if (n > Array.MaxLength)
            throw new LmFormatException($"GGUF {Name}: tensor '{info.Name}' has {n} values, more than one array can hold.");
        var result = new float[n];
        var (blockValues, blockBytes) = GgufTensorTypes.Block(info.Type);
        // Read and dequantise in chunks of whole blocks so a large quantised tensor needs no second full-size buffer.
        int blocksPerChunk = Math.Max(1, (1 << 20) / blockBytes);
        var buffer = new byte[(long)blocksPerChunk * blockBytes];
        long blocks = n / blockValues, done = 0;
        while (done < blocks)
        {
            int count = (int)Math.Min(blocksPerChunk, blocks - done);
            var bytes = buffer.AsSpan(0, count * blockBytes);
            RandomAccess.Read(_stream.SafeFileHandle, bytes, info.Offset + done * blockBytes);
            GgufDequantize.ToF32(info.Type, bytes, result.AsSpan(checked((int)(done * blockValues)), count * blockValues));
            done += count;
        }
        return result;
    }

    /// <inheritdoc />
    public void Dispose() => _stream.Dispose();

    private void ReadHeader()
    {
        var r = new Cursor(new BufferedStream(_stream, 1 << 16), _stream.Length, Name);
        uint magic = r.U32("magic");
        if (magic != Magic)
            throw new LmFormatException($"GGUF {Name}: magic 0x{magic:X8} is not 'GGUF' (not a GGUF file).");
        Version = r.U32("version");
        if (Version is 0x02000000 or 0x03000000)
            throw new LmFormatException($"GGUF {Name}: big-endian GGUF files are not supported.");
        if (Version is not (2 or 3))
            throw new LmFormatException($"GGUF {Name}: version {Version} is not supported (2 or 3).");
        ulong tensorCount = r.U64("tensor_count"), kvCount = r.U64("metadata_kv_count");
        // Each key/value needs at least 8 (key length) + 4 (type) + 1 bytes; each tensor entry at least 8 + 4 + 8 + 4 + 8.
        if (kvCount > (ulong)r.Remaining / 13)
            throw new LmFormatException($"GGUF {Name}: metadata_kv_count {kvCount} cannot fit in the {r.Remaining} bytes left.");
        if (tensorCount > (ulong)r.Remaining / 32)
            throw new LmFormatException($"GGUF {Name}: tensor_count {tensorCount} cannot fit in the {r.Remaining} bytes left.");
        for (ulong i = 0; i < kvCount; i++)
        {
            string key = r.String($"metadata key #{i}");
            var type = (GgufValueType)r.U32($"type of '{key}'");
            var value = ReadValue(r, type, key, 0);
            if (!_metadata.TryAdd(key, value))
                throw new LmFormatException($"GGUF {Name}: metadata key '{key}' appears twice.");
        }
        if (_metadata.TryGetValue("general.alignment", out var align))
        {
            long a = align.AsInt64() ?? 0;
            if (a <= 0 || a > 1 << 20 || (a & (a - 1)) != 0)
                throw new LmFormatException($"GGUF {Name}: general.alignment = {align} is not a power of two in 1..{1 << 20}.");
            Alignment = (int)a;
        }
        var pending = new List<(string Name, long[] Dims, GgufTensorType Type, ulong Offset)>();
        for (ulong i = 0; i < tensorCount; i++)
        {
            string name = r.String($"tensor #{i} name");
            uint nDims = r.U32($"tensor '{name}' n_dims");
            if (nDims == 0 || nDims > MaxDims)
                throw new LmFormatException($"GGUF {Name}: tensor '{name}' has {nDims} dimensions (1..{MaxDims}).");
            var dims = new long[nDims];
            for (int d = 0; d < nDims; d++)
            {
                ulong v = r.U64($"tensor '{name}' dim {d}");
                if (v == 0 || v > long.MaxValue / 2)
                    throw new LmFormatException($"GGUF {Name}: tensor '{name}' dimension {d} = {v} is out of range.");
                dims[d] = (long)v;
            }
            var type = (GgufTensorType)r.U32($"tensor '{name}' type");
            ulong offset = r.U64($"tensor '{name}' offset");
            pending.Add((name, dims, type, offset));
        }
        DataOffset = AlignUp(r.Position, Alignment);
        if (DataOffset > _stream.Length)
            throw new LmFormatException($"GGUF {Name}: the data section would start at {DataOffset}, past the end of the {_stream.Length}-byte file.");
        foreach (var (name, dims, type, offset) in pending) AddTensor(name, dims, type, offset);
    }

    private void AddTensor(string name, long[] dims, GgufTensorType type, ulong offset)
    {
        if (!GgufTensorTypes.IsKnown(type))
            throw new LmFormatException($"GGUF {Name}: tensor '{name}' has ggml type {(uint)type}, which this reader does not support " +
                                        "(F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K).");
        long elements;
        try
        {
            elements = dims.Aggregate(1L, (a, d) => checked(a * d));
        }
        catch (OverflowException)
        {
            throw new LmFormatException($"GGUF {Name}: tensor '{name}' dimensions [{string.Join(", ", dims)}] overflow.");
        }
        var (blockValues, _) = GgufTensorTypes.Block(type);
        if (dims[0] % blockValues != 0)
            throw new LmFormatException($"GGUF {Name}: tensor '{name}' of type {type} has rows of {dims[0]} values, not a multiple of its block of {blockValues}.");
        long size;
        try
        {
            size = GgufTensorTypes.ByteSize(type, elements);
        }
        catch (OverflowException)
        {
            throw new LmFormatException($"GGUF {Name}: tensor '{name}' byte size overflows.");
        }
        long dataBytes = _stream.Length - DataOffset;
        if (offset % (ulong)Alignment != 0 || offset > (ulong)dataBytes || size > dataBytes - (long)offset)
            throw new LmFormatException($"GGUF {Name}: tensor '{name}' ({type}, {size} bytes at data offset {offset}) lies outside the " +
                                        $"{dataBytes}-byte data section or is not aligned to {Alignment}.");
        var info = new GgufTensorInfo(name, dims, type, DataOffset + (long)offset, size);
        if (!_tensors.TryAdd(name, info))
            throw new LmFormatException($"GGUF {Name}: tensor '{name}' appears twice.");
        _order.Add(info);
    }

    private GgufValue ReadValue(Cursor r, GgufValueType type, string key, int depth)
    {
        switch (type)
        {
            case GgufValueType.UInt8: return GgufValue.Scalar(type, (long)r.Bytes(1, key)[0]);
            case GgufValueType.Int8: return GgufValue.Scalar(type, (long)(sbyte)r.Bytes(1, key)[0]);
            case GgufValueType.UInt16: return GgufValue.Scalar(type, (long)BinaryPrimitives.ReadUInt16LittleEndian(r.Bytes(2, key)));
            case GgufValueType.Int16: return GgufValue.Scalar(type, (long)BinaryPrimitives.ReadInt16LittleEndian(r.Bytes(2, key)));
            case GgufValueType.UInt32: return GgufValue.Scalar(type, (long)r.U32(key));
            case GgufValueType.Int32: return GgufValue.Scalar(type, (long)BinaryPrimitives.ReadInt32LittleEndian(r.Bytes(4, key)));
            case GgufValueType.UInt64: return GgufValue.Scalar(type, r.U64(key));
            case GgufValueType.Int64: return GgufValue.Scalar(type, BinaryPrimitives.ReadInt64LittleEndian(r.Bytes(8, key)));
            case GgufValueType.Float32: return GgufValue.Scalar(type, (double)BinaryPrimitives.ReadSingleLittleEndian(r.Bytes(4, key)));
            case GgufValueType.Float64: return GgufValue.Scalar(type, BinaryPrimitives.ReadDoubleLittleEndian(r.Bytes(8, key)));
            case GgufValueType.Bool:
                byte b = r.Bytes(1, key)[0];
                if (b > 1) throw new LmFormatException($"GGUF {Name}: bool '{key}' holds {b}, not 0 or 1.");
                return GgufValue.Scalar(type, b == 1);
            case GgufValueType.String: return GgufValue.Scalar(type, r.String(key));
            case GgufValueType.Array:
                if (depth >= MaxArrayNesting)
                    throw new LmFormatException($"GGUF {Name}: '{key}' nests arrays deeper than {MaxArrayNesting}.");
                var elementType = (GgufValueType)r.U32($"element type of '{key}'");
                ulong count = r.U64($"length of '{key}'");
                if (!Enum.IsDefined(elementType))
                    throw new LmFormatException($"GGUF {Name}: array '{key}' has unknown element type {(uint)elementType}.");
                // Every element takes at least one byte (a string: eight): a count beyond the bytes left is a lie.
                ulong minBytes = elementType is GgufValueType.String or GgufValueType.Array ? 8UL : 1UL;
                if (count > (ulong)r.Remaining / minBytes)
                    throw new LmFormatException($"GGUF {Name}: array '{key}' claims {count} elements but only {r.Remaining} bytes are left.");
                var items = new GgufValue[count];
                for (ulong i = 0; i < count; i++) items[i] = ReadValue(r, elementType, key, depth + 1);
                return GgufValue.Array(elementType, items);
            default:
                throw new LmFormatException($"GGUF {Name}: metadata '{key}' has unknown value type {(uint)type}.");
        }
    }

    private static long AlignUp(long x, int alignment) => checked((x + alignment - 1) / alignment * alignment);

    /// <summary>Sequential little-endian reads that check every length against the bytes left in the file.</summary>
    private sealed class Cursor(Stream stream, long length, string name)
    {
        private readonly byte[] _scratch = new byte[8];

        public long Position { get; private set; }

        public long Remaining => length - Position;

        public ReadOnlySpan<byte> Bytes(int n, string what)
        {
            Need(n, what);
            stream.ReadExactly(_scratch, 0, n);
            Position += n;
            return _scratch.AsSpan(0, n);
        }

        public uint U32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4, what));

        public ulong U64(string what) => BinaryPrimitives.ReadUInt64LittleEndian(Bytes(8, what));

        public string String(string what)
        {
            ulong len = U64(what);
            if (len > MaxStringBytes || len > (ulong)Remaining)
                throw new LmFormatException($"GGUF {name}: string length {len} of {what} exceeds the {Remaining} bytes left (or {MaxStringBytes}).");
            var bytes = new byte[len];
            stream.ReadExactly(bytes);
            Position += (long)len;
            return Encoding.UTF8.GetString(bytes);
        }

        private void Need(long n, string what)
        {
            if (n > Remaining)
                throw new LmFormatException($"GGUF {name}: the file ends inside {what} (at byte {Position} of {length}).");
        }
    }
}
