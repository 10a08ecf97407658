// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Token-reduction methods inside VitSession: token schedules, per-image independence within a batch (every method's
// logits for an image do not depend on the other images of the batch), ToMe's source tracking, and r = 0 = baseline.
namespace HpcCore.Tests.Models.Vit;

using HpcCore.Cpu;
using HpcCore.Models.Vit;
using HpcCore.Testing;
using Xunit;

public sealed class VitReducerTests
{
    private static readonly VitConfig Config = new(28, 2, 1, 16, 4, 4, 32, 10, 1e-6f, [0.5f], [0.25f]);

    [Theory]
    [InlineData("tome:r=16", new[] { 181, 165, 149, 133 })]
    [InlineData("evit:keep=0.7", new[] { 197, 140, 100, 72 })]
    [InlineData("evit:keep=0.5;layers=0", new[] { 100, 100, 100, 100 })]
    [InlineData("vtc:keep=0.5;layer=2", new[] { 197, 197, 99, 99 })]
    [InlineData("ztp:keep=0.5;layer=1", new[] { 197, 99, 99, 99 })]
    [InlineData("ztp:keep=0.3;layer=0", new[] { 60, 60, 60, 60 })]  // S-stage capped at half of what the I-stage leaves
    [InlineData("tome:r=16;layers=1,3", new[] { 197, 181, 181, 165 })]
    [InlineData("tome:r=80,32,0,0", new[] { 117, 85, 85, 85 })]
    [InlineData("tome:r=98,98,98,98", new[] { 99, 50, 26, 14 })] // each capped at half of the patches
    [InlineData("hiprune:keep=0.5", new[] { 197, 197, 99, 99 })]
    [InlineData("fopru:keep=0.25;layer=1;strategy=row", new[] { 197, 50, 50, 50 })]
    [InlineData("todre:keep=0.5;layers=1,2", new[] { 197, 99, 50, 50 })]
    [InlineData("mmtok:keep=0.3", new[] { 197, 197, 60, 60 })]
    [InlineData("aim", new[] { 197, 197, 131, 66 })]
    [InlineData("expedit:size=7", new[] { 197, 197, 50, 50 })]
    public void Schedule_MatchesTheMethodsFormula(string method, int[] expected)
    {
        using var cpu = new CpuBackend(threads: 1);
        using var w = VitWeightsLoader.Random(Config, cpu);
        var reducer = VitReducers.Create(VitMethodSpec.Parse(method), Config);
        try
        {
            using var session = new VitSession(w, 1, reducer);
            Assert.Equal(expected, session.TokensAfterReduction);
        }
        finally
        {
            reducer?.Dispose();
        }
    }

    [Theory]
    [InlineData("tome:r=16")]
    [InlineData("tome:r=48")]
    [InlineData("tome:r=48,32,16,0")]
    [InlineData("evit:keep=0.6")]
    [InlineData("vtc:keep=0.3;layer=1")]
    [InlineData("ztp:keep=0.5;layer=1")]
    [InlineData("ztp:keep=0.25;layer=0")]
    [InlineData("vtc:keep=0.4;layers=1,3;from=0")]
    [InlineData("hiprune:keep=0.5;layer=2;object=1")]
    [InlineData("fopru:keep=0.3;strategy=row")]
    [InlineData("todre:keep=0.4;layers=1")]
    [InlineData("mmtok:keep=0.3;layers=2")]
    [InlineData("aim:from=1;to=3")]
    [InlineData("expedit:size=5;layer=1")]
    public void Batch_EachImageIndependent(string method)
    {
        using var cpu = new CpuBackend(threads: 2);
        using var w = VitWeightsLoader.Random(Config, cpu, seed: 4);
        var spec = VitMethodSpec.Parse(method);
        var pixels = TestData.Uniform(3 * 784, seed: 9);
        var batched = Run(w, spec, 3, pixels);
        for (int i = 0; i < 3; i++)
        {
            var alone = Run(w, spec, 1, pixels[(i * 784)..((i + 1) * 784)]);
            TensorAssert.Close(alone, batched.AsSpan(i * 10, 10), VitTolerances.ForwardF32(16, 32), $"{method} image {i}");
        }
    }

    [Fact]
    public void ToMe_RZero_IsBaseline_AndSourcesCoverEveryToken()
    {
        using var cpu = new CpuBackend(threads: 2);
        using var w = VitWeightsLoader.Random(Config, cpu, seed: 5);
        var pixels = TestData.Uniform(2 * 784, seed: 3);
        TensorAssert.Close(Run(w, null, 2, pixels), Run(w, VitMethodSpec.Parse("tome:r=0"), 2, pixels), Tolerance.F32Elementwise, "r=0");

        using var reducer = (IDisposable)VitReducers.Create(VitMethodSpec.Parse("tome:r=24"), Config)!;
        using var session = new VitSession(w, 2, (IVitTokenReducer)reducer, trackSources: true);
        session.Forward(pixels);
        int final = session.TokensAfterReduction[^1];
        for (int b = 0; b < 2; b++)
        {
            var groups = session.Sources!.AsSpan(b * 196, 196).ToArray();
            Assert.All(groups, t => Assert.InRange(t, 1, final - 1));
            // Every output token but [CLS] holds at least one patch: merging never loses a token.
            Assert.Equal(final - 1, groups.Distinct().Count());
        }
    }

    [Fact]
    public void ToMeSchedule_EqualsTheSameMergesGivenAsLayers()
    {
        using var cpu = new CpuBackend(threads: 1);
        using var w = VitWeightsLoader.Random(Config, cpu, seed: 6);
        var pixels = TestData.Uniform(2 * 784, seed: 4);
        var layers = Run(w, VitMethodSpec.Parse("tome:r=16;layers=1,3"), 2, pixels);
        var schedule = Run(w, VitMethodSpec.Parse("tome:r=0,16,0,16"), 2, pixels);
        Assert.Equal(layers, schedule); // the same blocks run the same merges: bit for bit
        Assert.NotEqual(layers, Run(w, VitMethodSpec.Parse("tome:r=16,0,16,0"), 2, pixels));
        using var named = (IDisposable)VitReducers.Create(VitMethodSpec.Parse("tome:r=0,16,0,16"), Config)!;
        Assert.Equal("tome:r=16;layers=1,3", ((IVitTokenReducer)named).Name);
        using var listed = (IDisposable)VitReducers.Create(VitMethodSpec.Parse("tome:r=80,32,0,0"), Config)!;
        Assert.Equal("tome:r=80,32,0,0", ((IVitTokenReducer)listed).Name);
    }

    [Theory]
    [InlineData("tome:r=8,8", "2 r values for a 4-block model")]
    [InlineData("tome:r=8,8,8,8;layers=1", "no layers=")]
    [InlineData("tome:r=8,-1,0,0", "r per block must be >= 0")]
    public void ToMeSchedule_Bad_ThrowsNamingIt(string method, string message)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(() => VitReducers.Create(VitMethodSpec.Parse(method), Config));
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    // Every key is checked against the method's own list, and every value and block against the model, before a run.
    [Theory]
    [InlineData("tome:r=8;foo=1", "tome has no setting 'foo' in 'tome:r=8;foo=1'; it takes r, layers")]
    [InlineData("tome:keep=0.5", "tome has no setting 'keep'")]
    [InlineData("tome:r=8;layer=3", "tome has no setting 'layer'")]
    [InlineData("baseline:r=8", "baseline has no setting 'r'")]
    [InlineData("blur:keep=0.5", "unknown method 'blur'")]
    [InlineData("tome:r=8;layers=4", "layers must be in [0, 4)")]
    [InlineData("vtc:keep=0.5;layer=9", "must be non-empty and in [0, 4)")]
    [InlineData("evit:keep=1.5", "keep must be in (0, 1]")]
    [InlineData("tome:r=99999999999", "malformed value")]
    [InlineData("tome:r=eight", "malformed value")]
    [InlineData("expedit:size=15", "size=15 in 'expedit:size=15' is outside [1, 14]")]
    public void Create_BadSpec_ThrowsNamingIt(string method, string message)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(() => VitReducers.Create(VitMethodSpec.Parse(method), Config));
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckKeys_EveryKnownMethodHasItsKeys() =>
        Assert.Equal(VitReducers.Known.Order(), VitReducers.Keys.Keys.Order());

    private static float[] Run(VitWeights w, VitMethodSpec? spec, int batch, float[] pixels)
    {
        var reducer = spec is null ? null : VitReducers.Create(spec, w.Config);
        try
        {
            using var session = new VitSession(w, batch, reducer);
            return session.Forward(pixels).ToArray<float>();
        }
        finally
        {
            reducer?.Dispose();
        }
    }
}
