// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Weights;

using System.Buffers.Binary;
using System.Runtime.InteropServices;
using HpcCore.Tensors;

/// <summary>
/// The opt-in weights check (<c>--check-weights</c> in the CLI): finds tensors holding NaN or infinity, by name,
/// before a model is used. A NaN weight otherwise surfaces only as NaN logits far from its cause. Off by default:
/// it reads every weight byte once (about as long as copying the file from the page cache).
/// </summary>
public static class WeightsCheck
{
    /// <summary>One tensor with non-finite values.</summary>
    /// <param name="File">The file it is in.</param>
    /// <param name="Name">The tensor's name (a llama2.c checkpoint's names are run.c's field names).</param>
    /// <param name="NonFinite">How many of its values are NaN or infinite.</param>
    public readonly record struct Finding(string File, string Name, long NonFinite);

    /// <summary>
    /// Every F32, F16 and BF16 tensor of <paramref name="reader"/> with NaN or infinite values (other dtypes have none).
    /// </summary>
    public static IReadOnlyList<Finding> FindNonFinite(SafetensorsReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var found = new List<Finding>();
        foreach (var entry in reader.Entries)
        {
            if (entry.DType is not (DType.F32 or DType.F16 or DType.BF16) || entry.ByteLength == 0) continue;
            long n = entry.ByteLength > int.MaxValue ? CountChunked(reader, entry) : Count(reader.GetBytes(entry.Name), entry.DType);
            if (n > 0) found.Add(new Finding(reader.Source, entry.Name, n));
        }
        return found;
    }

    /// <summary>
    /// Checks a model path: a .safetensors file, a folder (every *.safetensors in it) or a llama2.c checkpoint
    /// (any other file; its float32 arrays, named as in run.c).
    /// </summary>
    /// <exception cref="SafetensorsFormatException">A safetensors file is malformed.</exception>
    /// <exception cref="IOException">A file cannot be read.</exception>
    public static IReadOnlyList<Finding> FindNonFinite(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var found = new List<Finding>();
        if (Directory.Exists(path))
        {
            foreach (var file in Directory.EnumerateFiles(path, "*.safetensors").Order(StringComparer.Ordinal))
            {
                using var reader = SafetensorsReader.Open(file);
                found.AddRange(FindNonFinite(reader));
            }
        }
        else if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
        {
            using var reader = SafetensorsReader.Open(path);
            found.AddRange(FindNonFinite(reader));
        }
        else
        {
            found.AddRange(LlamaCFloats(path));
        }
        return found;
    }

    /// <summary>A one-line description of <paramref name="findings"/> (at most five names), for an error message.</summary>
    public static string Describe(IReadOnlyList<Finding> findings)
    {
        ArgumentNullException.ThrowIfNull(findings);
        var names = string.Join(", ", findings.Take(5).Select(f => $"{f.Name} ({f.NonFinite} non-finite)"));
        return findings.Count > 5 ? $"{names} and {findings.Count - 5} more tensors" : names;
    }

    // llama2.c: a 28-byte header, then float32 arrays; the names are run.c's TransformerWeights fields. Counted over
    // the whole float area in one pass, then attributed by offset.
    private static List<Finding> LlamaCFloats(string path)
    {
        using var stream = File.OpenRead(path);
        Span<byte> header = stackalloc byte[28];
        stream.ReadExactly(header);
        var (c, tied) = HpcCore.Models.Lm.Loading.LlamaCCheckpoint.ReadHeader(header, stream.Length, Path.GetFileName(path));
        long C = c.Dim, L = c.Layers, kv = c.KvDim, hid = c.HiddenDim;
        var parts = new List<(string Name, long Count)>
        {
            ("token_embedding_table", c.VocabSize * C), ("rms_att_weight", L * C), ("wq", L * C * C), ("wk", L * kv * C),
            ("wv", L * kv * C), ("wo", L * C * C), ("rms_ffn_weight", L * C), ("w1", L * hid * C), ("w2", L * C * hid),
            ("w3", L * hid * C), ("rms_final_weight", C), ("freq_cis", (long)c.MaxSeqLen * c.HeadDim),
        };
        if (!tied) parts.Add(("wcls", c.VocabSize * C));
        var buffer = new byte[1 << 20];
        var result = new List<Finding>();
        foreach (var (name, count) in parts)
        {
            long bad = 0;
            for (long left = count * 4; left > 0;)
            {
                int n = (int)Math.Min(buffer.Length, left);
                stream.ReadExactly(buffer, 0, n);
                bad += Count(buffer.AsSpan(0, n), DType.F32);
                left -= n;
            }
            if (bad > 0 && name != "freq_cis") result.Add(new Finding(path, name, bad));
        }
        return result;
    }

    private static long CountChunked(SafetensorsReader reader, SafetensorsEntry entry)
    {
        // Beyond one span (a single tensor over 2 GiB): in slices.
        long bad = 0;
        for (long done = 0; done < entry.ByteLength; done += 1 << 30)
            bad += Count(reader.GetBytesSlice(entry, done, (int)Math.Min(1 << 30, entry.ByteLength - done)), entry.DType);
        return bad;
    }

    // A value is NaN or infinite exactly when its exponent bits are all ones.
    private static long Count(ReadOnlySpan<byte> bytes, DType dtype)
    {
        long bad = 0;
        if (dtype == DType.F32)
        {
            foreach (uint v in MemoryMarshal.Cast<byte, uint>(bytes[..(bytes.Length & ~3)]))
                if ((v & 0x7F800000u) == 0x7F800000u) bad++;
            return bad;
        }
        uint mask = dtype == DType.F16 ? 0x7C00u : 0x7F80u;
        for (int i = 0; i + 1 < bytes.Length; i += 2)
            if ((BinaryPrimitives.ReadUInt16LittleEndian(bytes[i..]) & mask) == mask) bad++;
        return bad;
    }
}
