// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm.Loading;

using System.Runtime.InteropServices;
using HpcCore.Devices;
using HpcCore.Tensors;

/// <summary>
/// Reads llama2.c's legacy checkpoint (Karpathy's run.c): seven int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads,
/// vocab_size, seq_len; a negative vocab_size means an untied classifier), then float32 tensors in run.c's order.
/// The file is untrusted: every header field is range-checked and the exact file length is verified before anything
/// is allocated.
/// </summary>
public static class LlamaCCheckpoint
{
    /// <summary>Bounds on header fields; generous for real checkpoints, small enough that a bad header cannot ask for terabytes.</summary>
    private const int MaxDim = 1 << 16, MaxHidden = 1 << 18, MaxLayers = 1024, MaxVocab = 1 << 22, MaxSeq = 1 << 20;

    /// <summary>Parses and validates the 28-byte header; <paramref name="fileLength"/> must match exactly.</summary>
    public static (LmConfig Config, bool Tied) ReadHeader(ReadOnlySpan<byte> header, long fileLength, string name = "checkpoint")
    {
        if (header.Length < 28 || fileLength < 28)
            throw new LmFormatException($"llama2.c {name}: {fileLength} bytes is shorter than the 28-byte header.");
        var h = MemoryMarshal.Cast<byte, int>(header[..28]);
        int dim = h[0], hidden = h[1], layers = h[2], heads = h[3], kvHeads = h[4], vocab = h[5], seq = h[6];
        bool tied = vocab > 0;
        vocab = vocab == int.MinValue ? 0 : Math.Abs(vocab);
        Range(name, "dim", dim, MaxDim);
        Range(name, "hidden_dim", hidden, MaxHidden);
        Range(name, "n_layers", layers, MaxLayers);
        Range(name, "n_heads", heads, dim);
        Range(name, "n_kv_heads", kvHeads, heads);
        Range(name, "vocab_size", vocab, MaxVocab);
        Range(name, "seq_len", seq, MaxSeq);
        if (dim % heads != 0 || heads % kvHeads != 0 || (dim / heads) % 2 != 0)
            throw new LmFormatException($"llama2.c {name}: dim {dim}, n_heads {heads}, n_kv_heads {kvHeads} do not form whole, even heads.");
        var config = new LmConfig(LmArchitecture.Llama, dim, hidden, layers, heads, kvHeads, vocab, seq);
        long expected = 28 + 4 * FloatCount(config, tied);
        if (fileLength != expected)
            throw new LmFormatException($"llama2.c {name}: header {dim}/{hidden}/{layers}/{heads}/{kvHeads}/{vocab}/{seq} needs " +
                                        $"{expected} bytes, the file has {fileLength}.");
        return (config, tied);
    }

    /// <summary>Loads a checkpoint file onto <paramref name="backend"/>.</summary>
    public static (LmConfig Config, LmWeights Weights) Load(string path, IBackend backend)
    {
        using var stream = File.OpenRead(path);
        return Load(stream, backend, Path.GetFileName(path));
    }

    /// <summary>Loads a checkpoint from a seekable stream onto <paramref name="backend"/>.</summary>
    public static (LmConfig Config, LmWeights Weights) Load(Stream stream, IBackend backend, string name = "checkpoint")
    {
        Span<byte> header = stackalloc byte[28];
        int got = stream.ReadAtLeast(header, 28, throwOnEndOfStream: false);
        var (c, tied) = ReadHeader(header[..got], stream.Length, name);
        int C = c.Dim, L = c.Layers, kv = c.KvDim, hid = c.HiddenDim, hs = c.HeadDim;
        var emb = ReadFloats(stream, (long)c.VocabSize * C);
        var rmsAtt = ReadFloats(stream, (long)L * C);
        var wq = ReadFloats(stream, (long)L * C * C);
        var wk = ReadFloats(stream, (long)L * kv * C);
        var wv = ReadFloats(stream, (long)L * kv * C);
        var wo = ReadFloats(stream, (long)L * C * C);
        var rmsFfn = ReadFloats(stream, (long)L * C);
        var w1 = ReadFloats(stream, (long)L * hid * C);
        var w2 = ReadFloats(stream, (long)L * C * hid);
        var w3 = ReadFloats(stream, (long)L * hid * C);
        var rmsFinal = ReadFloats(stream, C);
        stream.Seek((long)c.MaxSeqLen * hs * 4, SeekOrigin.Current); // freq_cis_real and freq_cis_imag (unused: RoPE is computed)
        var embT = Tensor.From<float>(emb, new Shape(c.VocabSize, C), backend);
        var cls = tied ? embT : Tensor.From<float>(ReadFloats(stream, (long)c.VocabSize * C), new Shape(c.VocabSize, C), backend);

        Tensor Slice(float[] all, int layer, int rows, int cols) =>
            Tensor.From<float>(all.AsSpan(layer * rows * cols, rows * cols), cols == 1 ? new Shape(rows) : new Shape(rows, cols), backend);
        var layers = new LmLayerWeights[L];
        for (int l = 0; l < L; l++)
        {
            layers[l] = new LmLayerWeights
            {
                AttnNorm = Slice(rmsAtt, l, C, 1),
                Wq = Slice(wq, l, C, C),
                Wk = Slice(wk, l, kv, C),
                Wv = Slice(wv, l, kv, C),
                Wo = Slice(wo, l, C, C),
                FfnNorm = Slice(rmsFfn, l, C, 1),
                Up = Slice(w3, l, hid, C),
                Gate = Slice(w1, l, hid, C),
                Down = Slice(w2, l, C, hid),
            };
        }
        var weights = new LmWeights
        {
            TokenEmbedding = embT,
            Layers = layers,
            FinalNorm = Tensor.From<float>(rmsFinal, new Shape(C), backend),
            Classifier = cls,
        };
        return (c, weights);
    }

    /// <summary>Float32 values after the header for <paramref name="c"/> (including run.c's unused RoPE tables).</summary>
    public static long FloatCount(LmConfig c, bool tied)
    {
        long C = c.Dim, L = c.Layers, kv = c.KvDim, hid = c.HiddenDim;
        long n = c.VocabSize * C + L * C * 2 + L * C * C * 2 + L * kv * C * 2 + L * hid * C * 3 + C + (long)c.MaxSeqLen * c.HeadDim;
        return tied ? n : n + c.VocabSize * C;
    }

    private static void Range(string name, string field, int value, int max)
    {
        if (value <= 0 || value > max)
            throw new LmFormatException($"llama2.c {name}: header field {field} = {value} is outside 1..{max}.");
    }

    private static float[] ReadFloats(Stream s, long count)
    {
        var data = new float[checked((int)count)];
        s.ReadExactly(MemoryMarshal.AsBytes(data.AsSpan()));
        return data;
    }
}
