// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm.Loading.Gguf;

using System.Buffers.Binary;
using System.Text;

/// <summary>
/// Writes a GGUF version 3 file: metadata key/values in the order added, then the tensor table, then the tensor data,
/// every tensor aligned to <see cref="GgufFile.DefaultAlignment"/> (general.alignment is written too). Tensors are
/// given as F32 in row-major [rows, cols] order and encoded to their type when the file is written.
/// </summary>
public sealed class GgufWriter
{
    private readonly List<(string Key, GgufValue Value)> _metadata = [];
    private readonly List<(string Name, long[] Shape, GgufTensorType Type, float[] Data)> _tensors = [];

    /// <summary>Creates a writer with general.alignment already set.</summary>
    public GgufWriter() => Add("general.alignment", GgufValue.Of((uint)GgufFile.DefaultAlignment));

    /// <summary>Adds a metadata value.</summary>
    public GgufWriter Add(string key, GgufValue value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        if (_metadata.Any(m => m.Key == key)) throw new ArgumentException($"GgufWriter.Add: key '{key}' was already added.", nameof(key));
        _metadata.Add((key, value));
        return this;
    }

    /// <summary>
    /// Adds a tensor of row-major <paramref name="shape"/> (for example [rows, cols]) stored as <paramref name="type"/>;
    /// the last dimension must be a whole number of the type's blocks.
    /// </summary>
    public GgufWriter AddTensor(string name, long[] shape, GgufTensorType type, float[] data)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        if (!GgufQuantize.CanWrite(type)) throw new ArgumentException($"GgufWriter.AddTensor: '{name}' type {type} cannot be written.", nameof(type));
        if (shape.Length is 0 or > 4 || shape.Any(d => d <= 0))
            throw new ArgumentException($"GgufWriter.AddTensor: '{name}' shape [{string.Join(", ", shape)}] must have 1..4 positive dims.", nameof(shape));
        long count = shape.Aggregate(1L, (a, d) => checked(a * d));
        if (count != data.Length)
            throw new ArgumentException($"GgufWriter.AddTensor: '{name}' shape [{string.Join(", ", shape)}] holds {count} values, data has {data.Length}.", nameof(data));
        if (shape[^1] % GgufTensorTypes.Block(type).BlockValues != 0)
            throw new ArgumentException($"GgufWriter.AddTensor: '{name}' rows of {shape[^1]} are not whole {type} blocks.", nameof(shape));
        if (_tensors.Any(t => t.Name == name)) throw new ArgumentException($"GgufWriter.AddTensor: '{name}' was already added.", nameof(name));
        _tensors.Add((name, shape, type, data));
        return this;
    }

    /// <summary>Writes the file to <paramref name="path"/>.</summary>
    public void Write(string path)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        Write(stream);
    }

    /// <summary>Writes the file to <paramref name="stream"/>.</summary>
    public void Write(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        long start = stream.Position;
        w.Write(GgufFile.Magic);
        w.Write(3u);
        w.Write((ulong)_tensors.Count);
        w.Write((ulong)_metadata.Count);
        foreach (var (key, value) in _metadata)
        {
            WriteString(w, key);
            w.Write((uint)value.Type);
            WriteValue(w, value);
        }
        long offset = 0;
        var sizes = new long[_tensors.Count];
        for (int i = 0; i < _tensors.Count; i++)
        {
            var (name, shape, type, data) = _tensors[i];
            WriteString(w, name);
            w.Write((uint)shape.Length);
            for (int d = shape.Length - 1; d >= 0; d--) w.Write((ulong)shape[d]); // ggml order: contiguous dim first
            w.Write((uint)type);
            w.Write((ulong)offset);
            sizes[i] = GgufTensorTypes.ByteSize(type, data.Length);
            offset = Align(offset + sizes[i]);
        }
        Pad(w, stream.Position - start);
        for (int i = 0; i < _tensors.Count; i++)
        {
            var (_, _, type, data) = _tensors[i];
            var bytes = new byte[sizes[i]];
            GgufQuantize.FromF32(type, data, bytes);
            w.Write(bytes);
            Pad(w, sizes[i]);
        }
    }

    private static long Align(long x) => (x + GgufFile.DefaultAlignment - 1) / GgufFile.DefaultAlignment * GgufFile.DefaultAlignment;

    private static void Pad(BinaryWriter w, long written)
    {
        for (long i = written; i < Align(written); i++) w.Write((byte)0);
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static void WriteValue(BinaryWriter w, GgufValue v)
    {
        switch (v.Type)
        {
            case GgufValueType.UInt8: w.Write((byte)(long)v.Value); break;
            case GgufValueType.Int8: w.Write((sbyte)(long)v.Value); break;
            case GgufValueType.UInt16: w.Write((ushort)(long)v.Value); break;
            case GgufValueType.Int16: w.Write((short)(long)v.Value); break;
            case GgufValueType.UInt32: w.Write((uint)(long)v.Value); break;
            case GgufValueType.Int32: w.Write((int)(long)v.Value); break;
            case GgufValueType.UInt64: w.Write(v.Value is ulong u ? u : (ulong)(long)v.Value); break;
            case GgufValueType.Int64: w.Write((long)v.Value); break;
            case GgufValueType.Float32: w.Write((float)(double)v.Value); break;
            case GgufValueType.Float64: w.Write((double)v.Value); break;
            case GgufValueType.Bool: w.Write((bool)v.Value ? (byte)1 : (byte)0); break;
            case GgufValueType.String: WriteString(w, (string)v.Value); break;
            case GgufValueType.Array:
                w.Write((uint)v.ElementType);
                w.Write((ulong)v.ArrayItems.Count);
                foreach (var item in v.ArrayItems) WriteValue(w, item);
                break;
            default: throw new ArgumentException($"GgufWriter: value type {v.Type} is unknown.", nameof(v));
        }
    }
}
