// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// VlmLanguageModel (the VLM's prefill with in-LM pruning) against the double-precision reference decoder and the
// project's LmDecoder, on small random Llama weights.
namespace HpcCore.Tests.Models.Vlm;

using HpcCore.Cpu;
using HpcCore.Models.Lm;
using HpcCore.Models.Vlm;
using HpcCore.Testing.Reference;
using HpcCore.Tests.Models.Lm;
using Xunit;

public sealed class VlmLanguageModelTests
{
    private const double Tol = 2e-4;

    // Drops a fixed set of visual tokens after one layer (what FastV / ToDRE / AIM do with their own scores).
    private sealed class FixedDrop(int layer, int[] drop) : IVlmLayerReducer
    {
        public string Name => "fixed";

        public VlmLayerExports Exports(int l) => l == layer ? VlmLayerExports.TextRows : VlmLayerExports.None;

        public int[]? Keep(in VlmLayerStep step) => [.. Enumerable.Range(0, step.IsVisual.Length).Where(i => !drop.Contains(i))];
    }

    [Theory]
    [InlineData(19, -1)]
    [InlineData(23, 0)]
    [InlineData(31, 1)]
    public void Prefill_MatchesReference_WithAndWithoutPruning(int length, int pruneAfter)
    {
        using var cpu = new CpuBackend(threads: 2);
        var config = LmTestModels.Llama(layers: 3);
        using var weights = LmTestModels.Random(config, cpu, seed: 5);
        var rng = new Random(length);
        int[] ids = [.. Enumerable.Range(0, length).Select(_ => rng.Next(config.VocabSize))];
        var lm = new VlmLanguageModel(config, weights);
        var isVisual = Enumerable.Range(0, length).Select(i => i >= 1 && i < length - 4).ToArray();
        int[] drop = pruneAfter < 0 ? [] : [.. Enumerable.Range(1, length - 5).Where(i => i % 3 != 0)];
        var result = lm.Prefill(lm.Embed(ids), [.. Enumerable.Range(0, length)], isVisual,
            pruneAfter < 0 ? null : new FixedDrop(pruneAfter, drop));

        // The reference: a query in a layer after the pruning layer sees no dropped key. The last token's logits are then
        // exactly those of a decoder whose later layers never had the dropped tokens.
        var expected = ReferenceLm.Forward(LmTestModels.Reference(config, weights), ids,
            (l, _, _, j) => pruneAfter < 0 || l <= pruneAfter || !drop.Contains(j));
        for (int v = 0; v < config.VocabSize; v++)
            Assert.True(Math.Abs(expected[length - 1, v] - result.Logits[v]) <= Tol * (1 + Math.Abs(expected[length - 1, v])),
                $"logit {v}: {result.Logits[v]} vs reference {expected[length - 1, v]}");
        int visual = isVisual.Count(b => b);
        for (int l = 0; l < config.Layers; l++)
            Assert.Equal(pruneAfter >= 0 && l > pruneAfter ? visual - drop.Length : visual, result.VisualPerLayer[l]);
        Assert.Equal(result.TokensPerLayer.Sum() * 2L * config.KvDim * sizeof(float), result.KvBytes);
    }

    [Fact]
    public void FullPrefill_MatchesLmDecoder()
    {
        using var cpu = new CpuBackend(threads: 2);
        var config = LmTestModels.Llama(layers: 2);
        using var weights = LmTestModels.Random(config, cpu, seed: 9);
        int[] ids = [1, 5, 9, 2, 33, 7, 7, 0, 12, 30, 4];
        var lm = new VlmLanguageModel(config, weights);
        var ours = lm.Prefill(lm.Embed(ids), [.. Enumerable.Range(0, ids.Length)], new bool[ids.Length]).Logits;
        using var decoder = new LmDecoder(config, weights, cpu);
        var theirs = decoder.Prefill(ids).ToArray();
        for (int v = 0; v < theirs.Length; v++)
            Assert.True(Math.Abs(theirs[v] - ours[v]) <= 1e-4 * (1 + Math.Abs(theirs[v])), $"logit {v}: {ours[v]} vs LmDecoder {theirs[v]}");
    }

    [Fact]
    public void Prefill_RefusesBadPositionsAndDroppedText()
    {
        using var cpu = new CpuBackend(threads: 1);
        var config = LmTestModels.Llama(layers: 2);
        using var weights = LmTestModels.Random(config, cpu, seed: 1);
        var lm = new VlmLanguageModel(config, weights);
        var emb = lm.Embed([1, 2, 3]);
        var flags = new[] { false, true, false };
        var e = Assert.Throws<ArgumentException>(() => lm.Prefill(emb, [0, 2, 2], flags));
        Assert.Contains("ascending", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => lm.Prefill(emb, [0, 1], flags));
        var bad = Assert.Throws<InvalidOperationException>(() => lm.Prefill(emb, [0, 1, 2], flags, new FixedDrop(0, [2])));
        Assert.Contains("dropped a text token", bad.Message, StringComparison.Ordinal);
    }
}
