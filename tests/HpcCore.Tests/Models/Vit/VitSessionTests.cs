// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// VitSession against the double-precision reference on random small models (odd sizes), with and without a
// reduction hook, plus its zero-allocation steady state.
namespace HpcCore.Tests.Models.Vit;

using HpcCore.Cpu;
using HpcCore.Models.Vit;
using HpcCore.Testing;
using Xunit;

[Collection(SteadyStateGroup.Name)]
public sealed class VitSessionTests
{
    internal static VitConfig Small(int image, int patch, int channels, int dim, int depth, int heads, int hidden, int classes) =>
        new(image, patch, channels, dim, depth, heads, hidden, classes, 1e-6f,
            Enumerable.Repeat(0.5f, channels).ToArray(), Enumerable.Repeat(0.25f, channels).ToArray());

    public static TheoryData<int, int, int, int, int, int, int> Shapes => new()
    {
        // image, patch, channels, dim, heads, hidden, batch
        { 2, 2, 1, 8, 2, 16, 1 },     // one patch: 2 tokens
        { 6, 2, 1, 12, 3, 20, 3 },    // 10 tokens
        { 14, 2, 3, 16, 4, 33, 2 },   // 50 tokens, RGB, odd hidden
        { 28, 2, 1, 8, 1, 7, 1 },     // 197 tokens (the trained model's count), one head
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Forward_MatchesReference(int image, int patch, int channels, int dim, int heads, int hidden, int batch)
    {
        using var cpu = new CpuBackend(threads: 2);
        var config = Small(image, patch, channels, dim, 2, heads, hidden, 5);
        using var w = ScaledRandom(config, cpu, seed: image + dim);
        var pixels = TestData.Uniform(batch * channels * image * image, seed: 7);
        using var session = new VitSession(w, batch);
        var actual = session.Forward(pixels).ToArray<float>();
        var expected = VitReference.Logits(w, pixels, batch).SelectMany(r => r).ToArray();
        TensorAssert.Close(expected, actual, VitTolerances.ForwardF32(dim, hidden), $"ViT {config}");
    }

    [Fact]
    public void Forward_WithReducer_MatchesTruncatedReference()
    {
        using var cpu = new CpuBackend(threads: 2);
        var config = Small(10, 2, 1, 12, 3, 3, 24, 4);
        using var w = ScaledRandom(config, cpu, seed: 3);
        int[] keep = [26, 26, 9];
        var reducer = new TruncatingReducer(keep);
        var pixels = TestData.Uniform(2 * 100, seed: 11);
        using var session = new VitSession(w, 2, reducer, trackSources: true);
        Assert.Equal([26, 26, 26], session.TokensPerLayer);
        Assert.Equal([26, 26, 9], session.TokensAfterReduction);
        var actual = session.Forward(pixels).ToArray<float>();
        Assert.Equal(1, reducer.Calls);
        var expected = VitReference.Logits(w, pixels, 2, [26, 26, 9]).SelectMany(r => r).ToArray();
        TensorAssert.Close(expected, actual, VitTolerances.ForwardF32(12, 24), "ViT with truncation");
        // Patches 0..7 are tokens 1..8 and survive; the rest were dropped.
        var expectedSources = Enumerable.Range(0, 2 * 25).Select(i => i % 25 < 8 ? i % 25 + 1 : -1).ToArray();
        Assert.Equal(expectedSources, session.Sources);
        Assert.True(session.FlopsPerImage < config.Flops(session.TokensPerLayer, session.TokensPerLayer));
    }

    [Fact]
    public void Forward_SteadyState_AllocatesNothing()
    {
        using var cpu = new CpuBackend(threads: 2);
        var config = Small(28, 2, 1, 16, 2, 4, 32, 10);
        using var w = VitWeightsLoader.Random(config, cpu, seed: 1);
        var pixels = TestData.Uniform(2 * 28 * 28, seed: 2);
        using var session = new VitSession(w, 2);
        SteadyState.AssertAllocatesNothing(cpu, () => session.Forward(pixels), warmup: 30, steps: 5);
    }

    [Fact]
    public void Forward_WrongPixelCount_Throws()
    {
        using var cpu = new CpuBackend(threads: 1);
        using var w = VitWeightsLoader.Random(Small(4, 2, 1, 8, 1, 2, 8, 3), cpu);
        using var session = new VitSession(w, 2);
        var ex = Assert.Throws<ArgumentException>(() => session.Forward(new float[31]));
        Assert.Contains("VitSession.Forward", ex.Message);
        Assert.Contains("32", ex.Message);
    }

    [Fact]
    public void Presets_HaveTimmSizes()
    {
        Assert.Equal((192, 3), (VitConfig.Tiny.Dim, VitConfig.Tiny.Heads));
        Assert.Equal((384, 6), (VitConfig.Preset("s").Dim, VitConfig.Preset("S").Heads));
        Assert.Equal((768, 12, 197), (VitConfig.Base.Dim, VitConfig.Base.Depth, VitConfig.Base.Tokens));
        Assert.Equal((1024, 24, 4096), (VitConfig.Large.Dim, VitConfig.Large.Depth, VitConfig.Large.MlpHidden));
        // ViT-B/16 at 224: 17.6 GFLOPs (timm / fvcore count multiply-adds as 17.6 "GFLOPs"; ours counts 2 per MAC).
        var b = VitConfig.Base;
        var t = Enumerable.Repeat(197, 12).ToArray();
        Assert.InRange(b.Flops(t, t) / 2e9, 17.4, 17.7);
        Assert.Throws<ArgumentException>(() => VitConfig.Preset("xl"));
    }

    // Random weights at a scale that makes attention non-uniform (timm's 0.02 init would leave it almost flat).
    internal static VitWeights ScaledRandom(VitConfig config, CpuBackend cpu, int seed)
    {
        var w = VitWeightsLoader.Random(config, cpu, seed);
        int k = 0;
        foreach (var (name, t) in w.Named())
        {
            var v = TestData.Uniform((int)t.ElementCount, seed * 1000 + k++, -0.5f, 0.5f);
            if (name.EndsWith("norm1.weight", StringComparison.Ordinal) || name.EndsWith("norm2.weight", StringComparison.Ordinal) || name == "norm.weight")
                for (int i = 0; i < v.Length; i++) v[i] += 1;
            t.CopyFrom<float>(v);
        }
        return w;
    }
}
