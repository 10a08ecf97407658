// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// LmDecoder.PrefillEmbeddings (a prompt of input rows at explicit RoPE positions, as a VLM's pruned visual tokens)
// against the double-precision reference decoder, across chunks and through later decode steps.
namespace HpcCore.Tests.Models.Lm;

using HpcCore.Cpu;
using HpcCore.Models.KvCache;
using HpcCore.Models.Lm;
using HpcCore.Testing.Reference;
using Xunit;

public sealed class LmDecoderEmbeddingPromptTests
{
    private const double Tol = 2e-4;

    // Rows of the token embedding, so the reference (which embeds ids) sees the same inputs.
    private static float[] Rows(LmWeights w, int dim, int[] ids)
    {
        var table = w.TokenEmbedding.ToArray<float>();
        var rows = new float[ids.Length * dim];
        for (int i = 0; i < ids.Length; i++) table.AsSpan(ids[i] * dim, dim).CopyTo(rows.AsSpan(i * dim));
        return rows;
    }

    [Theory]
    [InlineData(13, 0)]   // one chunk, no gap
    [InlineData(29, 3)]   // chunks of 8 with a tail, gaps of 3
    [InlineData(20, 11)]  // wide gaps
    public void GappedPrompt_ThenDecode_MatchesReference(int length, int gap)
    {
        using var cpu = new CpuBackend(threads: 2);
        var config = LmTestModels.Llama(layers: 2);
        using var weights = LmTestModels.Random(config, cpu, seed: 3);
        var rng = new Random(length + gap);
        int[] prompt = [.. Enumerable.Range(0, length).Select(_ => rng.Next(config.VocabSize))];
        // Every third row after the first skips `gap` positions, as kept tokens between pruned ones.
        var positions = new int[length];
        for (int i = 1; i < length; i++) positions[i] = positions[i - 1] + 1 + (i % 3 == 0 ? gap : 0);
        using var decoder = new LmDecoder(config, weights, cpu, new LmDecoderOptions(PrefillChunk: 8));
        var logits = decoder.PrefillEmbeddings(Rows(weights, config.Dim, prompt), positions).ToArray();
        Assert.Equal(length, decoder.Position);
        Assert.Equal(positions[^1] + 1, decoder.RopePosition);

        int[] decoded = [4, 17, 9];
        var ids = prompt.Concat(decoded).ToArray();
        var allPositions = positions.Concat(Enumerable.Range(positions[^1] + 1, decoded.Length)).ToArray();
        var expected = ReferenceLm.Forward(LmTestModels.Reference(config, weights), ids, positions: allPositions);
        AssertRow(expected, length - 1, logits, "prompt");
        for (int s = 0; s < decoded.Length; s++)
            AssertRow(expected, length + s, decoder.Decode(decoded[s]).ToArray(), $"decode {s}");
    }

    [Fact]
    public void GappedPrompt_MatchesVlmLanguageModelPrefill()
    {
        using var cpu = new CpuBackend(threads: 1);
        var config = LmTestModels.Llama(layers: 3);
        using var weights = LmTestModels.Random(config, cpu, seed: 8);
        int[] ids = [1, 8, 3, 30, 2, 2, 19, 5, 11];
        int[] positions = [0, 2, 3, 7, 8, 12, 13, 14, 15];
        var lm = new HpcCore.Models.Vlm.VlmLanguageModel(config, weights);
        var rows = lm.Embed(ids);
        var expected = lm.Prefill(rows, positions, new bool[ids.Length]).Logits;
        using var decoder = new LmDecoder(config, weights, cpu);
        var ours = decoder.PrefillEmbeddings(rows, positions).ToArray();
        for (int v = 0; v < ours.Length; v++)
            Assert.True(Math.Abs(expected[v] - ours[v]) <= 1e-4 * (1 + Math.Abs(expected[v])), $"logit {v}: {ours[v]} vs VlmLanguageModel {expected[v]}");
    }

    [Fact]
    public void BadPrompts_AreRefusedByName_AndLeaveTheDecoderUsable()
    {
        using var cpu = new CpuBackend(threads: 1);
        var config = LmTestModels.Llama(layers: 1, seq: 40);
        using var weights = LmTestModels.Random(config, cpu, seed: 2);
        using var decoder = new LmDecoder(config, weights, cpu);
        var rows = Rows(weights, config.Dim, [1, 2, 3]);
        Assert.Contains("not ascending", Assert.Throws<ArgumentException>(() => decoder.PrefillEmbeddings(rows, [0, 5, 5])).Message, StringComparison.Ordinal);
        Assert.Contains("position 40 at row 2", Assert.Throws<ArgumentException>(() => decoder.PrefillEmbeddings(rows, [0, 5, 40])).Message, StringComparison.Ordinal);
        Assert.Contains("expected [T, 24]", Assert.Throws<ArgumentException>(() => decoder.PrefillEmbeddings(rows.AsSpan(1), [0, 1, 2])).Message, StringComparison.Ordinal);
        Assert.Equal(0, decoder.Position);
        Assert.Equal(0, decoder.Cache.TokensHeld());

        decoder.PrefillEmbeddings(rows, [0, 30, 31]);
        Assert.Equal(32, decoder.RopePosition);
        // A second prompt continues after the first: a position already used is refused.
        Assert.Throws<ArgumentException>(() => decoder.PrefillEmbeddings(rows.AsSpan(0, config.Dim), [31]));
        for (int i = 0; i < 8; i++) decoder.Decode(1);
        // RoPE position 40 would be past the 40 trained positions though only 11 tokens are cached.
        var e = Assert.Throws<KvCapacityException>(() => decoder.Decode(1));
        Assert.Contains("position 40", e.Message, StringComparison.Ordinal);
        Assert.Equal(11, decoder.Position);

        decoder.Reset();
        Assert.Equal(0, decoder.RopePosition);
    }

    [Fact]
    public void ExplicitPositions_NeedLlamaAndOriginalPositions()
    {
        using var cpu = new CpuBackend(threads: 1);
        var gpt = LmTestModels.Gpt2();
        using (var weights = LmTestModels.Random(gpt, cpu, seed: 4))
        using (var decoder = new LmDecoder(gpt, weights, cpu))
            Assert.Contains("Gpt2", Assert.Throws<ArgumentException>(() => decoder.PrefillEmbeddings(new float[gpt.Dim], [0])).Message, StringComparison.Ordinal);
        var llama = LmTestModels.Llama(layers: 1);
        using var lw = LmTestModels.Random(llama, cpu, seed: 4);
        using var renumbered = new LmDecoder(llama, lw, cpu, new LmDecoderOptions(Policy: new StreamingLlmKvPolicy(16, 2), Positions: KvPositionMode.Renumbered));
        Assert.Contains("original", Assert.Throws<ArgumentException>(() => renumbered.PrefillEmbeddings(new float[llama.Dim], [0])).Message, StringComparison.Ordinal);
    }

    private static void AssertRow(double[,] expected, int row, float[] got, string what)
    {
        for (int v = 0; v < got.Length; v++)
            Assert.True(Math.Abs(expected[row, v] - got[v]) <= Tol * (1 + Math.Abs(expected[row, v])), $"{what}, logit {v}: {got[v]} vs reference {expected[row, v]}");
    }
}
