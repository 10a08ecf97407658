// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.Lm.Gguf;

using HpcCore.Cpu;
using HpcCore.Kernels;
using HpcCore.Models.Lm;
using HpcCore.Models.Lm.Loading;
using HpcCore.Models.Lm.Loading.Gguf;
using HpcCore.Models.Lm.Positional;
using HpcCore.Models.Lm.Tokenization;
using Xunit;

/// <summary>
/// A Llama 3 model through GGUF: the Hugging Face folder Golden/hf/llama3-tiny (BF16 shards, tokenizer.json, rope_theta
/// 500000, llama3 rope_scaling) written as F32 and as Q8_0 GGUF files that carry their own byte-level BPE tokenizer and
/// the rope frequency factors. Each file alone must give PyTorch's 32 greedy tokens (tools/golden/hf_llm.py), the
/// embedded tokenizer must encode and decode as tokenizer.json does, and malformed tokenizer or rope entries are
/// refused naming the key or tensor.
/// </summary>
public sealed class GgufLlama3Tests : IDisposable
{
    private static readonly string[] Texts =
    [
        "Once upon a time", "The café served crème brûlée — naïve, isn't it?", "日本語のテキスト 🐶🐱 emoji",
        "  two spaces,\n\nnewlines\tand tabs 1234567 I'LL we've", "<|begin_of_text|>special<|eot_id|> text", "",
    ];

    private readonly string _dir = Directory.CreateTempSubdirectory("gguf-llama3-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static string Folder => HfGoldenTests.Folder("llama3-tiny");

    /// <summary>Writes the llama3-tiny folder as a GGUF file of <paramref name="type"/> under <paramref name="dir"/>.</summary>
    internal static string WriteGguf(string dir, GgufTensorType type)
    {
        using var cpu = new CpuBackend(threads: 1);
        var model = LmModelFiles.Open(Folder, tokenizerPath: null, cpu);
        using var weights = model.Weights;
        string path = Path.Combine(dir, $"llama3-tiny-{type}.gguf");
        GgufLlamaWriter.Write(path, model.Config, weights, model.Tokenizer, type, "llama3-tiny");
        return path;
    }

    [Theory]
    [InlineData(GgufTensorType.F32)]
    [InlineData(GgufTensorType.Q8_0)]
    public void GgufFile_GivesTorchsGreedyTokens(GgufTensorType type)
    {
        string path = WriteGguf(_dir, type);
        using var cpu = new CpuBackend(threads: 1);
        var golden = HfGoldenTests.Golden.Read("llama3-tiny");
        var model = LmModelFiles.Open(path, tokenizerPath: null, cpu);
        using var weights = model.Weights;
        Assert.IsType<RopeFrequencyFactors>(model.Config.RopeScaling);
        Assert.Equal(RopeLayout.Interleaved, model.Config.RopeLayout);
        using (var file = GgufFile.Open(path))
            Assert.Contains(file.Tensors, t => t.Type == (type == GgufTensorType.F32 ? GgufTensorType.F32 : GgufTensorType.Q8_0) && t.Name == "blk.0.attn_q.weight");
        // The embedded tokenizer alone gives torch's prompt ids, BOS included.
        Assert.Equal(golden.Prompt, model.Tokenizer.Encode("Once upon a time", addBos: true));
        Assert.Equal(golden.EncodeIds, model.Tokenizer.Encode(golden.EncodeText, addBos: false));
        using var decoder = new LmDecoder(model.Config, weights, cpu);
        int p = golden.Prompt.Length, steps = golden.Sequence.Length - p;
        Assert.Equal(32, steps);
        // Teacher-forced: every one of the 32 argmaxes is torch's (and, for F32, every logit is within the HF folder's tolerance).
        var logits = decoder.Prefill(golden.Prompt);
        for (int step = 0; step < steps; step++)
        {
            if (type == GgufTensorType.F32) LmDecoderTests.AssertRow(golden.Logits, step, logits);
            Assert.True(LlamaCppArgMax(logits) == golden.Sequence[p + step], $"{type} step {step}: ours {LlamaCppArgMax(logits)}, torch {golden.Sequence[p + step]}");
            logits = decoder.Decode(golden.Sequence[p + step]);
        }
        // And free-running through the generator with the file's own tokenizer and stop ids.
        var result = LmGenerator.Generate(decoder, model.Tokenizer, "Once upon a time", steps, default, stopIds: model.StopIds);
        Assert.Equal(golden.Sequence[p..], result.GeneratedTokens);
    }

    [Fact]
    public void Q8_0_IsQuantised_SoItsLogitsDifferFromF32()
    {
        // Guards the Q8_0 check above against a writer that silently kept F32.
        using var cpu = new CpuBackend(threads: 1);
        var golden = HfGoldenTests.Golden.Read("llama3-tiny");
        float[] Logits(GgufTensorType type)
        {
            var model = LmModelFiles.Open(WriteGguf(_dir, type), tokenizerPath: null, cpu);
            using var weights = model.Weights;
            using var decoder = new LmDecoder(model.Config, weights, cpu);
            return decoder.Prefill(golden.Prompt).ToArray();
        }
        var f32 = Logits(GgufTensorType.F32);
        var q8 = Logits(GgufTensorType.Q8_0);
        double gap = f32.Zip(q8, (a, b) => Math.Abs(a - b)).Max();
        double mean = f32.Average(), std = Math.Sqrt(f32.Average(v => (v - mean) * (v - mean)));
        // Rounding, not a misread block: the change is small against the spread of the logits.
        Assert.True(gap > 1e-4 && gap < 0.1 * std, $"|Q8_0 - F32| = {gap}, logits' std {std}");
    }

    [Fact]
    public void EmbeddedTokenizer_EncodesAndDecodesAsTokenizerJson()
    {
        using var cpu = new CpuBackend(threads: 1);
        var hf = LmModelFiles.Open(Folder, tokenizerPath: null, cpu);
        hf.Weights.Dispose();
        var gguf = LmModelFiles.Open(WriteGguf(_dir, GgufTensorType.F32), tokenizerPath: null, cpu);
        gguf.Weights.Dispose();
        var a = hf.Tokenizer;
        var b = Assert.IsType<MlTextTokenizer>(gguf.Tokenizer);
        Assert.Equal((a.VocabSize, a.BosId, a.EosId, a.MaxTokenBytes), (b.VocabSize, b.BosId, b.EosId, b.MaxTokenBytes));
        Assert.Equal(352, b.BosId); // <|begin_of_text|>: the check compares something real
        foreach (string text in Texts)
            foreach (bool bos in new[] { false, true })
                Assert.Equal(a.Encode(text, bos), b.Encode(text, bos));
        Assert.True(b.Encode(Texts[2], false).Length > 3, "the non-ASCII text should take several byte-level tokens");
        var x = new byte[a.MaxTokenBytes];
        var y = new byte[b.MaxTokenBytes];
        for (int id = 0; id < a.VocabSize; id++)
            Assert.True(x.AsSpan(0, a.DecodeBytes(0, id, x)).SequenceEqual(y.AsSpan(0, b.DecodeBytes(0, id, y))), $"token {id} decodes differently");
        // Decoding the ids of a mixed text gives the text back.
        var ids = b.Encode(Texts[1], false);
        var bytes = new List<byte>();
        foreach (int id in ids) bytes.AddRange(y.AsSpan(0, b.DecodeBytes(0, id, y)).ToArray());
        Assert.Equal(Texts[1], System.Text.Encoding.UTF8.GetString([.. bytes]));
    }

    [Fact]
    public void GgufModel_WrittenAgain_IsTheSameFile()
    {
        // Read back (interleaved Q/K, RopeFrequencyFactors, the BPE definition rebuilt from GGUF) and written again:
        // every key, token, merge, factor and weight survives.
        string first = WriteGguf(_dir, GgufTensorType.F32);
        using var cpu = new CpuBackend(threads: 1);
        var model = LmModelFiles.Open(first, tokenizerPath: null, cpu);
        using var weights = model.Weights;
        string second = Path.Combine(_dir, "again.gguf");
        GgufLlamaWriter.Write(second, model.Config, weights, model.Tokenizer, GgufTensorType.F32, "llama3-tiny");
        Assert.Equal(File.ReadAllBytes(first), File.ReadAllBytes(second));
        var again = LmModelFiles.Open(second, tokenizerPath: null, cpu);
        again.Weights.Dispose();
        Assert.Equal(model.Config, again.Config);
    }

    [Fact]
    public void File_HoldsLlamaCppsKeys_AndTheFrequencyFactorsOfTheConfig()
    {
        string path = WriteGguf(_dir, GgufTensorType.F32);
        using var file = GgufFile.Open(path);
        Assert.Equal("gpt2", file.Get(GgufLlamaKeys.TokenizerModel)!.Value);
        Assert.Equal("llama-bpe", file.Get(GgufLlamaKeys.PreTokenizer)!.Value);
        Assert.Equal(96, file.Get(GgufLlamaKeys.Merges)!.ArrayItems.Count);
        var types = file.Get(GgufLlamaKeys.TokenType)!.ArrayItems.Select(v => v.AsInt64()).ToArray();
        Assert.Equal(357, types.Length);
        Assert.Equal([GgufLlamaKeys.TypeControl, GgufLlamaKeys.TypeControl, GgufLlamaKeys.TypeControl, GgufLlamaKeys.TypeUnused, GgufLlamaKeys.TypeUnused], types[352..].Select(t => (int)t!.Value));
        Assert.Equal("[PAD356]", file.Get(GgufLlamaKeys.Tokens)!.ArrayItems[356].Value);
        Assert.Equal(500000.0, file.Get(GgufLlamaKeys.RopeFreqBase)!.AsDouble());
        // rope_freqs: theta^(-2i/D) / factor_i is transformers' llama3 inverse frequency, computed here independently.
        var factors = file.ReadF32(file.Find(GgufLlamaKeys.RopeFreqs)!);
        Assert.Equal(8, factors.Length);
        double theta = 500000, factor = 8, low = 1, high = 4, original = 64;
        for (int i = 0; i < 8; i++)
        {
            double f = 1 / Math.Pow(theta, 2.0 * i / 16), wavelen = 2 * Math.PI / f;
            double expected = wavelen < original / high ? f : wavelen > original / low ? f / factor
                : (1 - (original / wavelen - low) / (high - low)) * f / factor + (original / wavelen - low) / (high - low) * f;
            Assert.True(Math.Abs(f / factors[i] - expected) <= 1e-6 * expected, $"pair {i}: {f / factors[i]} vs {expected}");
        }
        // One pair in each band (factor 1, 8 and between), as the golden model was built to have.
        Assert.Contains(1f, factors);
        Assert.Contains(8f, factors);
        Assert.Contains(factors, v => v > 1.01f && v < 7.99f);
    }

    [Fact]
    public void MalformedTokenizerAndRopeEntries_AreNamed()
    {
        string path = WriteGguf(_dir, GgufTensorType.F32);
        using var cpu = new CpuBackend(threads: 1);
        string Message(string rewritten) => Assert.Throws<LmFormatException>(() => GgufLlamaReader.Load(rewritten, cpu)).Message;
        var merges = GgufValue.Array(GgufValueType.Int32, [GgufValue.Scalar(GgufValueType.Int32, 1L)]);
        Assert.Contains(GgufLlamaKeys.Merges, Message(Rewrite(path, "merges-int", GgufLlamaKeys.Merges, merges)), StringComparison.Ordinal);
        var oneWord = GgufValue.Array(GgufValueType.String, [GgufValue.Of("nospace")]);
        Assert.Contains(GgufLlamaKeys.Merges, Message(Rewrite(path, "merges-word", GgufLlamaKeys.Merges, oneWord)), StringComparison.Ordinal);
        Assert.Contains(GgufLlamaKeys.Merges, Message(Rewrite(path, "merges-missing", GgufLlamaKeys.Merges, null)), StringComparison.Ordinal);
        // Both halves are tokens but their join is not (Microsoft.ML.Tokenizers would throw InvalidOperationException).
        var outside = GgufValue.Array(GgufValueType.String, [GgufValue.Of("\u0120t \u0120t")]);
        Assert.Contains("merge 0", Message(Rewrite(path, "merges-outside", GgufLlamaKeys.Merges, outside)), StringComparison.Ordinal);
        Assert.Contains(GgufLlamaKeys.PreTokenizer, Message(Rewrite(path, "pre-qwen", GgufLlamaKeys.PreTokenizer, GgufValue.Of("qwen2"))), StringComparison.Ordinal);
        Assert.Contains(GgufLlamaKeys.PreTokenizer, Message(Rewrite(path, "pre-missing", GgufLlamaKeys.PreTokenizer, null)), StringComparison.Ordinal);
        Assert.Contains(GgufLlamaKeys.TokenizerModel, Message(Rewrite(path, "model-bert", GgufLlamaKeys.TokenizerModel, GgufValue.Of("bert"))), StringComparison.Ordinal);
        var byteType = Enumerable.Repeat(GgufValue.Scalar(GgufValueType.Int32, (long)GgufLlamaKeys.TypeByte), 357).ToArray();
        Assert.Contains(GgufLlamaKeys.TokenType, Message(Rewrite(path, "type-byte", GgufLlamaKeys.TokenType, GgufValue.Array(GgufValueType.Int32, byteType))), StringComparison.Ordinal);
        Assert.Contains(GgufLlamaKeys.RopeFreqs, Message(Rewrite(path, "freqs-short", ropeFreqs: [1f, 2f, 3f])), StringComparison.Ordinal);
        Assert.Contains(GgufLlamaKeys.RopeFreqs, Message(Rewrite(path, "freqs-zero", ropeFreqs: new float[8])), StringComparison.Ordinal);
        // A token id outside the vocabulary.
        Assert.Contains(GgufLlamaKeys.BosId, Message(Rewrite(path, "bos", GgufLlamaKeys.BosId, GgufValue.Of(357u))), StringComparison.Ordinal);
    }

    [Fact]
    public void Writer_RefusesAPreTokenizerLlamaCppWouldSplitDifferently()
    {
        // GPT-2's tokenizer.json (ByteLevel pre-tokenizer, GPT-2's regex) is a byte-level BPE too, but not Llama 3's.
        var llama3 = HfTokenizerJson.Load(Path.Combine(Folder, "tokenizer.json"));
        var gpt2 = HfTokenizerJson.Load(Path.Combine(HfGoldenTests.Folder("gpt2-tiny"), "tokenizer.json"));
        Assert.NotNull(llama3.ByteLevelBpe);
        using var cpu = new CpuBackend(threads: 1);
        var config = new LmConfig(LmArchitecture.Llama, 32, 40, 1, 4, 2, gpt2.VocabSize, 64);
        using var weights = HpcCore.Tests.Models.Lm.LmTestModels.Random(config, cpu, 3);
        var e = Assert.Throws<ArgumentException>(() => GgufLlamaWriter.Build(config, weights, gpt2, GgufTensorType.F32, "x"));
        Assert.Contains("pre-tokenizer", e.Message, StringComparison.Ordinal);
    }

    // The file rewritten with one key replaced (null: removed) or rope_freqs replaced.
    private string Rewrite(string path, string name, string? key = null, GgufValue? value = null, float[]? ropeFreqs = null)
    {
        using var f = GgufFile.Open(path);
        var w = new GgufWriter();
        foreach (var (k, v) in f.Metadata)
            if (k == key) { if (value is not null) w.Add(k, value); }
            else if (k != "general.alignment") w.Add(k, v);
        foreach (var t in f.Tensors)
            if (t.Name == GgufLlamaKeys.RopeFreqs && ropeFreqs is not null) w.AddTensor(t.Name, [ropeFreqs.Length], GgufTensorType.F32, ropeFreqs);
            else w.AddTensor(t.Name, t.RowMajorShape, GgufTensorType.F32, f.ReadF32(t));
        string result = Path.Combine(_dir, name + ".gguf");
        w.Write(result);
        return result;
    }

    private static int LlamaCppArgMax(ReadOnlySpan<float> x) => HpcCore.Benchmarks.Quick.LlamaCppRunner.ArgMax(x);
}
