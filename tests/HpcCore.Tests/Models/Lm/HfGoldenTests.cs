// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.Lm;

using System.Text;
using HpcCore.Cpu;
using HpcCore.Models.Lm;
using HpcCore.Models.Lm.Loading;
using HpcCore.Models.Weights;
using Xunit;

/// <summary>
/// Tiny Hugging Face folders written by tools/golden/hf_llm.py with Debian's PyTorch (Golden/hf/NAME): the folder
/// loads with its own tokenizer, encodes like the script's BPE, and the decoder's logits after the prompt and after
/// each of 32 greedy tokens match the script's float64 forward of the same stored weights, with the same greedy
/// tokens. llama3-tiny: BF16, two shards, GQA, rope_theta 500000 with llama3 rope_scaling; qwen2-tiny: q/k/v biases,
/// tied embeddings; gpt2-tiny: F16, Conv1D weights.
/// </summary>
public sealed class HfGoldenTests
{
    internal const string Script = "tools/golden/hf_llm.py";

    internal static string Folder(string name) => Path.Combine(AppContext.BaseDirectory, "Golden", "hf", name);

    public static TheoryData<string> Models => ["llama3-tiny", "qwen2-tiny", "gpt2-tiny"];

    [Theory]
    [MemberData(nameof(Models))]
    public void Folder_MatchesTorch_LogitsAndGreedyTokens(string name)
    {
        using var cpu = new CpuBackend(threads: 1);
        var golden = Golden.Read(name);
        var model = LmModelFiles.Open(Folder(name), tokenizerPath: null, cpu);
        using var weights = model.Weights;
        Assert.Equal(golden.Prompt, model.Tokenizer.Encode("Once upon a time", addBos: model.Tokenizer.BosId >= 0));
        Assert.Equal(golden.EncodeIds, model.Tokenizer.Encode(golden.EncodeText, addBos: false));
        using var decoder = new LmDecoder(model.Config, weights, cpu);
        var logits = decoder.Prefill(golden.Prompt);
        int p = golden.Prompt.Length;
        for (int step = 0; step <= golden.Sequence.Length - p; step++)
        {
            LmDecoderTests.AssertRow(golden.Logits, step, logits);
            if (step == golden.Sequence.Length - p) break;
            Assert.True(Argmax(logits) == golden.Sequence[p + step], $"{name}: greedy step {step}: ours {Argmax(logits)}, torch {golden.Sequence[p + step]}");
            logits = decoder.Decode(golden.Sequence[p + step]);
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Generator_ProducesTorchsGreedyTokens(string name)
    {
        using var cpu = new CpuBackend(threads: 1);
        var golden = Golden.Read(name);
        var model = LmModelFiles.Open(Folder(name), tokenizerPath: null, cpu);
        using var weights = model.Weights;
        using var decoder = new LmDecoder(model.Config, weights, cpu);
        int p = golden.Prompt.Length;
        var result = LmGenerator.Generate(decoder, model.Tokenizer, "Once upon a time", golden.Sequence.Length - p, default, stopIds: model.StopIds);
        Assert.Equal(golden.Sequence[p..], result.GeneratedTokens);
    }

    [Fact]
    public void Llama3_RopeScalingChangesTheLogits()
    {
        // The golden can fail: without the llama3 frequency scaling the same weights give other logits.
        using var cpu = new CpuBackend(threads: 1);
        var golden = Golden.Read("llama3-tiny");
        var model = LmModelFiles.Open(Folder("llama3-tiny"), tokenizerPath: null, cpu);
        using var weights = model.Weights;
        Assert.NotNull(model.Config.RopeScaling);
        using var decoder = new LmDecoder(model.Config with { RopeScaling = null }, weights, cpu);
        var logits = decoder.Prefill(golden.Prompt);
        double worst = 0;
        for (int i = 0; i < logits.Length; i++) worst = Math.Max(worst, Math.Abs(logits[i] - golden.Logits[0, i]));
        Assert.True(worst > 1e-2, $"unscaled RoPE moved the logits by only {worst}");
    }

    [Fact]
    public void Llama3_GenerationConfigAndStopIds()
    {
        using var cpu = new CpuBackend(threads: 1);
        var model = LmModelFiles.Open(Folder("llama3-tiny"), tokenizerPath: null, cpu);
        using var weights = model.Weights;
        int bos = model.Tokenizer.BosId;
        Assert.Equal(bos, model.Generation.BosId);
        Assert.Equal([bos + 1, bos + 2], model.Generation.EosIds);
        Assert.Equal(new HashSet<int> { bos, bos + 1, bos + 2 }, model.StopIds);
        // do_sample true with temperature 0.6, top_p 0.9 and no top_k: transformers' top_k default 50 applies.
        Assert.Equal(new HpcCore.Models.Lm.Sampling.SamplerOptions(0.6f, 50, 0.9f, 7), model.Generation.Sampler(null, null, null, 7));
        Assert.Equal(new HpcCore.Models.Lm.Sampling.SamplerOptions(0f, 50, 0.9f, 7), model.Generation.Sampler(0f, null, null, 7));
        Assert.Equal(BitConverter.SingleToInt32Bits(0.6f), BitConverter.SingleToInt32Bits(model.Generation.Temperature!.Value));
    }

    [Fact]
    public void IdsPastTheTokenizer_ButInTheModel_DecodeToNothing()
    {
        // config.json has 2 more embedding rows than tokenizer.json has tokens (padding, as Qwen2's real checkpoints).
        using var cpu = new CpuBackend(threads: 1);
        var model = LmModelFiles.Open(Folder("llama3-tiny"), tokenizerPath: null, cpu);
        using var weights = model.Weights;
        Assert.Equal(model.Config.VocabSize, model.Tokenizer.VocabSize);
        Assert.Equal(0, model.Tokenizer.DecodeBytes(0, model.Config.VocabSize - 1, new byte[model.Tokenizer.MaxTokenBytes]));
        Assert.Equal("A"u8.ToArray(), Decode(model.Tokenizer, 'A'));
    }

    private static byte[] Decode(ITextTokenizer tokenizer, int id)
    {
        var buffer = new byte[tokenizer.MaxTokenBytes];
        return buffer[..tokenizer.DecodeBytes(0, id, buffer)];
    }

    private static int Argmax(ReadOnlySpan<float> x)
    {
        int best = 0;
        for (int i = 1; i < x.Length; i++) if (x[i] > x[best]) best = i;
        return best;
    }

    internal sealed record Golden(int[] Prompt, int[] Sequence, double[,] Logits, string EncodeText, int[] EncodeIds)
    {
        public static Golden Read(string name)
        {
            string path = Path.Combine(Folder(name), "golden.safetensors");
            Assert.True(File.Exists(path), $"missing {path}; regenerate with /usr/bin/python3 {Script} tests/HpcCore.Tests/Golden/hf");
            using var file = SafetensorsReader.Open(path);
            Assert.Equal(Script, file.Metadata["generator"]);
            using var cpu = new CpuBackend(threads: 1);
            int[] Ints(string n) { using var t = file.Load(n, cpu); return t.ToArray<int>(); }
            using var logits = file.Load("logits", cpu);
            var flat = logits.ToArray<float>();
            int rows = logits.Shape[0], cols = logits.Shape[1];
            var table = new double[rows, cols];
            for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) table[r, c] = flat[r * cols + c];
            return new Golden(Ints("prompt"), Ints("sequence"), table, Encoding.UTF8.GetString([.. Ints("encode_text").Select(b => (byte)b)]), Ints("encode_ids"));
        }
    }
}
