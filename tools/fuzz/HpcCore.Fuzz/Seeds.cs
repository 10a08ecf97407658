// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Fuzz;

using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;
using HpcCore.Cpu;
using HpcCore.Models.Encoder;
using HpcCore.Models.Weights;
using HpcCore.Tensors;
using SkiaSharp;

/// <summary>
/// Seed inputs: the repository's real files (the Fashion-MNIST ViT, the llama2.c Austen model and byte tokenizer,
/// the Fashion-MNIST IDX files, the ViT's ONNX export) and small valid files made here (images of every PNG colour
/// type, JPEGs encoded by SkiaSharp, a BMP, tiny Llama / GPT-2 / BERT checkpoints, configs and vocabularies).
/// </summary>
internal static class Seeds
{
    public static string RepoRoot { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "HpcCore.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("HpcCore.Fuzz: run from inside the repository (no HpcCore.sln above the binary).");
    }

    public static byte[] Repo(string relative) => File.ReadAllBytes(Path.Combine(RepoRoot, relative));

    public static byte[] Gunzip(byte[] gz)
    {
        using var z = new GZipStream(new MemoryStream(gz), CompressionMode.Decompress);
        var ms = new MemoryStream();
        z.CopyTo(ms);
        return ms.ToArray();
    }

    /// <summary>The first <paramref name="count"/> images of an IDX image file, with the header rewritten to match.</summary>
    public static byte[] IdxImages(int count)
    {
        var all = Gunzip(Repo("assets/data/fashion-mnist/t10k-images-idx3-ubyte.gz"));
        var head = all[..16];
        BinaryPrimitives.WriteInt32BigEndian(head.AsSpan(4), count);
        return [.. head, .. all.AsSpan(16, count * 28 * 28)];
    }

    // ---- images ----

    public static byte[] Png(int w, int h, int depth, int colour, Func<int, byte> value, byte[]? palette = null)
    {
        int channels = colour switch { 2 => 3, 4 => 2, 6 => 4, _ => 1 };
        int rowBytes = (w * channels * depth + 7) / 8;
        var raw = new MemoryStream();
        for (int y = 0; y < h; y++)
        {
            raw.WriteByte((byte)(y % 5)); // every filter type
            for (int i = 0; i < rowBytes; i++) raw.WriteByte(value(y * rowBytes + i));
        }
        var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true)) zs.Write(raw.ToArray());
        var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, w);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), h);
        ihdr[8] = (byte)depth;
        ihdr[9] = (byte)colour;
        Chunk(png, "IHDR", ihdr);
        if (palette is not null) Chunk(png, "PLTE", palette);
        Chunk(png, "IDAT", z.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        s.Write(word);
        var body = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        s.Write(body);
        BinaryPrimitives.WriteUInt32BigEndian(word, Mutators.Crc32(body));
        s.Write(word);
    }

    public static IReadOnlyList<byte[]> Pngs() =>
    [
        Png(28, 28, 8, 0, i => (byte)(i * 7)),
        Png(32, 24, 8, 2, i => (byte)(i * 13 + 5)),
        Png(20, 20, 16, 6, i => (byte)(i * 3)),
        Png(9, 7, 1, 0, i => (byte)(i * 37)),
        Png(16, 16, 8, 4, i => (byte)(i ^ 0x5A)),
        Png(12, 10, 4, 3, i => (byte)(i * 11), Enumerable.Range(0, 48).Select(i => (byte)(i * 5)).ToArray()),
    ];

    public static IReadOnlyList<byte[]> Jpegs()
    {
        var list = new List<byte[]>();
        foreach (var (w, h, q, grey) in new[] { (32, 32, 90, false), (48, 40, 50, false), (28, 28, 75, true), (17, 9, 95, false) })
        {
            var info = new SKImageInfo(w, h, grey ? SKColorType.Gray8 : SKColorType.Rgba8888, SKAlphaType.Opaque);
            using var bitmap = new SKBitmap(info);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    bitmap.SetPixel(x, y, new SKColor((byte)(x * 8), (byte)(y * 6), (byte)((x ^ y) * 4)));
            using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, q);
            list.Add(data.ToArray());
        }
        return list;
    }

    public static byte[] Bmp(int w, int h, int bpp)
    {
        int row = (w * bpp + 31) / 32 * 4, offset = 54 + (bpp <= 8 ? 4 << bpp : 0);
        var b = new byte[offset + row * h];
        b[0] = (byte)'B';
        b[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(2), b.Length);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(10), offset);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(18), w);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(22), h);
        BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(28), (short)bpp);
        for (int i = 54; i < b.Length; i++) b[i] = (byte)(i * 29);
        return b;
    }

    // ---- checkpoints ----

    private static Tensor Rand(CpuBackend cpu, Random r, params int[] dims)
    {
        var shape = new Shape(dims);
        var v = new float[shape.ElementCount];
        for (int i = 0; i < v.Length; i++) v[i] = r.NextSingle() - 0.5f;
        return Tensor.From<float>(v, shape, cpu);
    }

    private static byte[] Write(Dictionary<string, Tensor> named, Dictionary<string, string>? meta)
    {
        var ms = new MemoryStream();
        SafetensorsWriter.Write(ms, named, meta);
        foreach (var t in named.Values) t.Dispose();
        return ms.ToArray();
    }

    /// <summary>A 2-block ViT (16 px grey images, patch 4, width 16, 2 heads, 3 classes) with timm names.</summary>
    public static byte[] TinyVit(CpuBackend cpu)
    {
        var config = new HpcCore.Models.Vit.VitConfig(16, 4, 1, 16, 2, 2, 32, 3, 1e-6f, [0.5f], [0.25f]);
        using var w = HpcCore.Models.Vit.VitWeightsLoader.Random(config, cpu, seed: 5);
        var ms = new MemoryStream();
        SafetensorsWriter.Write(ms, w.Named(), new Dictionary<string, string> { ["heads"] = "2", ["layer_norm_eps"] = "1e-6", ["mean"] = "0.5", ["std"] = "0.25" });
        return ms.ToArray();
    }

    /// <summary>A 2-layer Llama (width 16, 2 query / 1 KV heads, context 32) with Hugging Face names.</summary>
    public static byte[] HfLlama(CpuBackend cpu, bool withMetadata)
    {
        var r = new Random(1);
        int C = 16, H = 32, V = 32, kv = 8;
        var n = new Dictionary<string, Tensor> { ["model.embed_tokens.weight"] = Rand(cpu, r, V, C), ["model.norm.weight"] = Rand(cpu, r, C), ["lm_head.weight"] = Rand(cpu, r, V, C) };
        for (int l = 0; l < 2; l++)
        {
            string p = $"model.layers.{l}.";
            n[p + "input_layernorm.weight"] = Rand(cpu, r, C);
            n[p + "self_attn.q_proj.weight"] = Rand(cpu, r, C, C);
            n[p + "self_attn.k_proj.weight"] = Rand(cpu, r, kv, C);
            n[p + "self_attn.v_proj.weight"] = Rand(cpu, r, kv, C);
            n[p + "self_attn.o_proj.weight"] = Rand(cpu, r, C, C);
            n[p + "post_attention_layernorm.weight"] = Rand(cpu, r, C);
            n[p + "mlp.gate_proj.weight"] = Rand(cpu, r, H, C);
            n[p + "mlp.up_proj.weight"] = Rand(cpu, r, H, C);
            n[p + "mlp.down_proj.weight"] = Rand(cpu, r, C, H);
        }
        return Write(n, withMetadata ? new() { ["num_attention_heads"] = "2", ["max_position_embeddings"] = "32" } : null);
    }

    /// <summary>A 2-layer GPT-2 (width 16, 2 heads, 24 positions) with Hugging Face names (Conv1D weights [in, out]).</summary>
    public static byte[] HfGpt2(CpuBackend cpu)
    {
        var r = new Random(2);
        int C = 16, H = 32, V = 32;
        var n = new Dictionary<string, Tensor>
        {
            ["transformer.wte.weight"] = Rand(cpu, r, V, C), ["transformer.wpe.weight"] = Rand(cpu, r, 24, C),
            ["transformer.ln_f.weight"] = Rand(cpu, r, C), ["transformer.ln_f.bias"] = Rand(cpu, r, C),
        };
        for (int l = 0; l < 2; l++)
        {
            string p = $"transformer.h.{l}.";
            n[p + "ln_1.weight"] = Rand(cpu, r, C);
            n[p + "ln_1.bias"] = Rand(cpu, r, C);
            n[p + "attn.c_attn.weight"] = Rand(cpu, r, C, 3 * C);
            n[p + "attn.c_attn.bias"] = Rand(cpu, r, 3 * C);
            n[p + "attn.c_proj.weight"] = Rand(cpu, r, C, C);
            n[p + "attn.c_proj.bias"] = Rand(cpu, r, C);
            n[p + "ln_2.weight"] = Rand(cpu, r, C);
            n[p + "ln_2.bias"] = Rand(cpu, r, C);
            n[p + "mlp.c_fc.weight"] = Rand(cpu, r, C, H);
            n[p + "mlp.c_fc.bias"] = Rand(cpu, r, H);
            n[p + "mlp.c_proj.weight"] = Rand(cpu, r, H, C);
            n[p + "mlp.c_proj.bias"] = Rand(cpu, r, C);
        }
        return Write(n, new() { ["num_attention_heads"] = "2" });
    }

    public static readonly EncoderConfig Bert = new(16, 2, 2, 32, 40, 24);

    public static string BertVocab { get; } = string.Join('\n',
        new[] { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "a", "cat", "dog", "##s", "##ing", "run", "hello", "world", "!", "," }
            .Concat(Enumerable.Range(0, 20).Select(i => ((char)('b' + i)).ToString()))) + "\n";

    public static byte[] BertTokenizerJson { get; } = Encoding.UTF8.GetBytes(
        "{\"version\":\"1.0\",\"model\":{\"type\":\"WordPiece\",\"unk_token\":\"[UNK]\",\"continuing_subword_prefix\":\"##\",\"vocab\":{" +
        string.Join(",", BertVocab.TrimEnd('\n').Split('\n').Select((p, i) => $"\"{p}\":{i}")) + "}}}");

    /// <summary>A 2-layer BERT folder (EncoderFolder's layout) in <paramref name="folder"/>.</summary>
    public static void BertFolder(CpuBackend cpu, string folder)
    {
        var r = new Random(3);
        var c = Bert;
        int D = c.Hidden, I = c.Intermediate;
        var n = new Dictionary<string, Tensor>
        {
            ["embeddings.word_embeddings.weight"] = Rand(cpu, r, c.VocabSize, D),
            ["embeddings.position_embeddings.weight"] = Rand(cpu, r, c.MaxPositions, D),
            ["embeddings.token_type_embeddings.weight"] = Rand(cpu, r, c.TypeVocabSize, D),
            ["embeddings.LayerNorm.weight"] = Rand(cpu, r, D),
            ["embeddings.LayerNorm.bias"] = Rand(cpu, r, D),
        };
        for (int l = 0; l < c.Layers; l++)
        {
            string p = $"encoder.layer.{l}.";
            foreach (var m in new[] { "query", "key", "value" })
            {
                n[p + $"attention.self.{m}.weight"] = Rand(cpu, r, D, D);
                n[p + $"attention.self.{m}.bias"] = Rand(cpu, r, D);
            }
            n[p + "attention.output.dense.weight"] = Rand(cpu, r, D, D);
            n[p + "attention.output.dense.bias"] = Rand(cpu, r, D);
            n[p + "attention.output.LayerNorm.weight"] = Rand(cpu, r, D);
            n[p + "attention.output.LayerNorm.bias"] = Rand(cpu, r, D);
            n[p + "intermediate.dense.weight"] = Rand(cpu, r, I, D);
            n[p + "intermediate.dense.bias"] = Rand(cpu, r, I);
            n[p + "output.dense.weight"] = Rand(cpu, r, D, I);
            n[p + "output.dense.bias"] = Rand(cpu, r, D);
            n[p + "output.LayerNorm.weight"] = Rand(cpu, r, D);
            n[p + "output.LayerNorm.bias"] = Rand(cpu, r, D);
        }
        EncoderFolder.Write(folder, c, n, BertVocab, lowerCase: true);
        foreach (var t in n.Values) t.Dispose();
    }

    /// <summary>A tiny llama2.c checkpoint (width 16, 2 layers, 2 / 1 heads, vocab 32, context 16; untied when asked).</summary>
    public static byte[] LlamaC(bool tied)
    {
        int dim = 16, hidden = 32, layers = 2, heads = 2, kvHeads = 1, vocab = 32, seq = 16, hs = dim / heads, kv = kvHeads * hs;
        long floats = (long)vocab * dim + layers * dim * 2L + layers * dim * dim * 2L + layers * kv * dim * 2L + layers * hidden * dim * 3L + dim + (long)seq * hs + (tied ? 0 : vocab * dim);
        var b = new byte[28 + 4 * floats];
        var h = MemoryMarshal.Cast<byte, int>(b.AsSpan(0, 28));
        h[0] = dim; h[1] = hidden; h[2] = layers; h[3] = heads; h[4] = kvHeads; h[5] = tied ? vocab : -vocab; h[6] = seq;
        var f = MemoryMarshal.Cast<byte, float>(b.AsSpan(28));
        var r = new Random(4);
        for (int i = 0; i < f.Length; i++) f[i] = r.NextSingle() - 0.5f;
        return b;
    }
}
