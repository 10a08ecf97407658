// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Issue #21: generation refuses what cannot fit before doing work proportional to the input, and a context that is
// not a multiple of the page or tile sizes runs to its last position.
namespace HpcCore.Tests.Hardening;

using HpcCore.Cpu;
using HpcCore.Models.KvCache;
using HpcCore.Models.Lm;
using HpcCore.Testing;
using HpcCore.Tests.Models.Lm;
using Xunit;

public sealed class GenerationLimitsTests
{
    [Fact]
    public void PromptLongerThanTheContextCanHold_IsRefusedBeforeEncoding()
    {
        using var cpu = new CpuBackend(threads: 1);
        var config = LmTestModels.Llama(seq: 32);
        using var weights = LmTestModels.Random(config, cpu, seed: 4);
        using var decoder = new LmDecoder(config, weights, cpu);
        var tokenizer = new CountingTokenizer(config.VocabSize, maxTokenBytes: 4);
        // 32 tokens of at most 4 bytes: 129 bytes cannot fit whatever the merges. 16 kB used to be encoded (17 s with
        // llama2.c's tokenizer) before the context check.
        var e = Assert.Throws<KvCapacityException>(() => LmGenerator.Generate(decoder, tokenizer, new string('a', 16_000), 4));
        Assert.Contains("LmGenerator.Generate", e.Message, StringComparison.Ordinal);
        Assert.Contains("16000 UTF-8 bytes", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, tokenizer.EncodeCalls);
        Assert.Throws<KvCapacityException>(() => LmGenerator.Generate(decoder, tokenizer, new string('a', 129), 4));
        Assert.Equal(0, tokenizer.EncodeCalls);
        // Multi-byte characters count as their UTF-8 bytes: 43 x 3 bytes = 129.
        Assert.Throws<KvCapacityException>(() => LmGenerator.Generate(decoder, tokenizer, new string('\u20AC', 43), 4));
        Assert.Equal(0, tokenizer.EncodeCalls);
        // 128 bytes may fit, so they are encoded; one token per byte is 129 with BOS: refused after encoding, before
        // any forward pass, with a message that gives the token count.
        var late = Assert.Throws<KvCapacityException>(() => LmGenerator.Generate(decoder, tokenizer, new string('a', 128), 4));
        Assert.Equal(1, tokenizer.EncodeCalls);
        Assert.Contains("129 tokens", late.Message, StringComparison.Ordinal);
        Assert.Equal(0, decoder.Position);
        // A prompt that fits runs.
        var ok = LmGenerator.Generate(decoder, tokenizer, new string('a', 20), 4);
        Assert.Equal(21, ok.PromptTokens.Length);
    }

    public static TheoryData<int, string> Contexts => new()
    {
        { 37, "full" }, { 17, "full" }, { 70, "full" },
        { 37, "h2o" }, { 37, "snapkv" }, { 37, "tokenselect" }, { 37, "recycled" }, { 37, "ems" }, { 37, "streaming" },
        { 45, "h2o" }, { 45, "tokenselect" }, { 37, "razor" }, { 37, "gpt2" },
    };

    [Theory]
    [MemberData(nameof(Contexts))]
    public void ContextNotAMultipleOf16_GeneratesToItsLastPosition(int context, string policy)
    {
        // Issue #21: such a model failed mid-generation with an internal scratch-size error.
        using var cpu = new CpuBackend(threads: 1);
        var config = policy == "gpt2" ? LmTestModels.Gpt2(seq: context) : LmTestModels.Llama(seq: context);
        using var weights = LmTestModels.Random(config, cpu, seed: context);
        var settings = new KvPolicySettings
        {
            Budget = 12,
            RetrievalHeads = policy == "razor" ? LmRetrievalHeads.Detect(config, weights, cpu, period: Math.Max(2, context / 4)) : null,
        };
        using var decoder = new LmDecoder(config, weights, cpu, new LmDecoderOptions(Policy: KvPolicyRegistry.Create(policy == "gpt2" ? "full" : policy, settings)));
        int prompt = context / 2;
        decoder.Prefill(TestData.Ints(prompt, 3, config.VocabSize));
        for (int t = prompt; t < context; t++) Assert.Equal(config.VocabSize, decoder.Decode(t % config.VocabSize).Length);
        Assert.Equal(context, decoder.Position);
        Assert.Throws<KvCapacityException>(() => decoder.Decode(1));
    }

    [Theory]
    [InlineData(37, "streaming")]
    [InlineData(37, "h2o")]
    [InlineData(45, "streaming")]
    [InlineData(45, "ems")]
    public void ContextNotAMultipleOf16_RenumberedEviction_GeneratesPastTheContext(int context, string policy)
    {
        using var cpu = new CpuBackend(threads: 1);
        var config = LmTestModels.Llama(seq: context);
        using var weights = LmTestModels.Random(config, cpu, seed: context + 1);
        var settings = new KvPolicySettings { Budget = 12, Positions = KvPositionMode.Renumbered };
        using var decoder = new LmDecoder(config, weights, cpu, new LmDecoderOptions(Policy: KvPolicyRegistry.Create(policy, settings)));
        decoder.Prefill(TestData.Ints(10, 5, config.VocabSize));
        for (int t = 10; t < 3 * context; t++) Assert.Equal(config.VocabSize, decoder.Decode(t % config.VocabSize).Length);
        Assert.Equal(3 * context, decoder.Position);
    }

    // One token per UTF-8 byte (the worst case of a byte-fallback vocabulary), counting Encode calls.
    private sealed class CountingTokenizer(int vocab, int maxTokenBytes) : ITextTokenizer
    {
        public int EncodeCalls { get; private set; }
        public int VocabSize => vocab;
        public int BosId => 1;
        public int EosId => 2;
        public int MaxTokenBytes => maxTokenBytes;

        public int[] Encode(string text, bool addBos)
        {
            EncodeCalls++;
            var bytes = System.Text.Encoding.UTF8.GetBytes(text);
            return [.. (addBos ? new[] { BosId } : []), .. bytes.Select(b => 3 + b % (vocab - 3))];
        }

        public int DecodeBytes(int previous, int token, Span<byte> output)
        {
            output[0] = (byte)'a';
            return 1;
        }
    }
}
