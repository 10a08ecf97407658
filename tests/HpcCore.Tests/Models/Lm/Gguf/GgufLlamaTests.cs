// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.Lm.Gguf;

using HpcCore.Cpu;
using HpcCore.Kernels;
using HpcCore.Models.Lm;
using HpcCore.Models.Lm.Loading;
using HpcCore.Models.Lm.Loading.Gguf;
using HpcCore.Testing;
using Xunit;

/// <summary>
/// Llama models through GGUF: a model written and read back decodes exactly as the original (the Austen model, always
/// present; stories260K when found), the embedded tokenizer encodes as the original, Hugging Face's half-split Q/K
/// rows are permuted to Meta's layout on write, and missing keys or tensors are named.
/// </summary>
public sealed class GgufLlamaTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gguf-llama-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Austen_F32_DecodesAndTokenizesExactlyAsTheOriginal()
    {
        string root = Stories260K.RepositoryRoot();
        AssertSameModel(Path.Combine(root, "tools/train/lm/austen.bin"), Path.Combine(root, "tools/train/lm/bytes259.bin"),
            "It is a truth universally acknowledged, that a single man — café");
    }

    [Stories260KFact]
    public void Stories260K_F32_DecodesAndTokenizesExactlyAsTheOriginal()
    {
        string dir = Stories260K.Folder()!;
        AssertSameModel(Path.Combine(dir, "stories260K.bin"), Path.Combine(dir, "tok512.bin"), "Once upon a time, Lily saw a dog 🐶.");
    }

    [Fact]
    public void HalfSplitWeights_ArePermutedToInterleaved_SoBothLayoutsDecodeAlike()
    {
        // The same model twice: Meta layout (interleaved), and Hugging Face layout (Q/K rows per head as [evens, odds]
        // with half-split RoPE). Written to GGUF, both must read back as the Meta model.
        using var cpu = new CpuBackend(threads: 1);
        var meta = HpcCore.Tests.Models.Lm.LmTestModels.Llama() with { VocabSize = 260 };
        using var w = HpcCore.Tests.Models.Lm.LmTestModels.Random(meta, cpu, 9);
        var hf = meta with { RopeLayout = RopeLayout.HalfSplit };
        var hfWeights = new LmWeights
        {
            TokenEmbedding = w.TokenEmbedding, FinalNorm = w.FinalNorm, Classifier = w.Classifier,
            Layers = w.Layers.Select(l => new LmLayerWeights
            {
                AttnNorm = l.AttnNorm, Wq = ToHalfSplit(l.Wq, meta.HeadDim, cpu), Wk = ToHalfSplit(l.Wk, meta.HeadDim, cpu), Wv = l.Wv, Wo = l.Wo,
                FfnNorm = l.FfnNorm, Gate = l.Gate, Up = l.Up, Down = l.Down,
            }).ToArray(),
        };
        var tok = HpcCore.Benchmarks.Quick.RandomLlamaModel.Vocabulary(260);
        string a = Path.Combine(_dir, "meta.gguf"), b = Path.Combine(_dir, "hf.gguf");
        GgufLlamaWriter.Write(a, meta, w, tok, GgufTensorType.F32);
        GgufLlamaWriter.Write(b, hf, hfWeights, tok, GgufTensorType.F32);
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
        // And the HF model itself decodes as the Meta one (so the permutation, not only the bytes, is right).
        using var d1 = new LmDecoder(meta, w, cpu);
        using var d2 = new LmDecoder(hf, hfWeights, cpu);
        int[] prompt = [1, 40, 7, 99, 200];
        var l1 = d1.Prefill(prompt).ToArray();
        var l2 = d2.Prefill(prompt).ToArray();
        for (int i = 0; i < l1.Length; i++) Assert.Equal(l1[i], l2[i], 3);
        foreach (var l in hfWeights.Layers) { l.Wq.Dispose(); l.Wk.Dispose(); } // the other tensors are w's
    }

    [Fact]
    public void MissingKeyAndTensor_AreNamed()
    {
        using var cpu = new CpuBackend(threads: 1);
        Assert.Contains(GgufLlamaKeys.RmsEpsilon, Assert.Throws<LmFormatException>(() => GgufLlamaReader.Load(Rewrite(GgufLlamaKeys.RmsEpsilon, null), cpu)).Message, StringComparison.Ordinal);
        Assert.Contains("blk.0.ffn_up.weight", Assert.Throws<LmFormatException>(() => GgufLlamaReader.Load(Rewrite(null, "blk.0.ffn_up.weight"), cpu)).Message, StringComparison.Ordinal);
    }

    // The random model rewritten without one key or one tensor.
    private string Rewrite(string? dropKey, string? dropTensor)
    {
        string path = Path.Combine(_dir, "m.gguf");
        var config = new LmConfig(LmArchitecture.Llama, 32, 40, 1, 4, 2, 260, 64);
        HpcCore.Benchmarks.Quick.RandomLlamaModel.WriteGguf(path, config, GgufTensorType.F32, 1);
        using var f = GgufFile.Open(path);
        var w = new GgufWriter();
        foreach (var (k, v) in f.Metadata) if (k != "general.alignment" && k != dropKey) w.Add(k, v);
        foreach (var t in f.Tensors) if (t.Name != dropTensor) w.AddTensor(t.Name, t.RowMajorShape, GgufTensorType.F32, f.ReadF32(t));
        string result = Path.Combine(_dir, $"drop-{dropKey ?? dropTensor}.gguf");
        w.Write(result);
        return result;
    }

    private static HpcCore.Tensors.Tensor ToHalfSplit(HpcCore.Tensors.Tensor t, int headDim, CpuBackend cpu)
    {
        var data = t.ToArray<float>();
        int rows = t.Shape[0], cols = t.Shape[1], half = headDim / 2;
        var result = new float[data.Length];
        for (int h = 0; h < rows / headDim; h++)
            for (int i = 0; i < half; i++)
            {
                Array.Copy(data, (h * headDim + 2 * i) * cols, result, (h * headDim + i) * cols, cols);
                Array.Copy(data, (h * headDim + 2 * i + 1) * cols, result, (h * headDim + half + i) * cols, cols);
            }
        return HpcCore.Tensors.Tensor.From<float>(result, t.Shape, cpu);
    }

    private void AssertSameModel(string model, string tokenizer, string text)
    {
        using var cpu = new CpuBackend(threads: 1);
        var (config, weights, tok) = LmModelFiles.Load(model, tokenizer, cpu);
        using var _ = weights;
        string path = Path.Combine(_dir, "m.gguf");
        GgufLlamaWriter.Write(path, config, weights, (LlamaCTokenizer)tok, GgufTensorType.F32);
        var (config2, weights2, tok2) = LmModelFiles.Load(path, null, cpu);
        using var __ = weights2;
        Assert.Equal(config, config2);
        Assert.Equal(tok.Encode(text, true), tok2.Encode(text, true));
        using var d1 = new LmDecoder(config, weights, cpu);
        using var d2 = new LmDecoder(config2, weights2, cpu);
        var g1 = LmGenerator.Generate(d1, tok, text, 48);
        var g2 = LmGenerator.Generate(d2, tok2, text, 48);
        Assert.Equal(g1.GeneratedTokens, g2.GeneratedTokens);
        Assert.Equal(g1.Text, g2.Text);
        Assert.Equal(d1.Logits.ToArray(), d2.Logits.ToArray());
    }
}
