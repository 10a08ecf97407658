// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.Encoder;

using HpcCore.Cpu;
using HpcCore.Models.Encoder;
using HpcCore.Models.Encoder.Reduction;
using HpcCore.Testing;
using Xunit;

/// <summary>
/// Token reduction on text (ToMe with proportional attention and size-weighted pooling; EViT with fusion) in
/// EncoderSession against the double reference doing the same reduction per text; padding must not change a text's
/// embedding; a steady-state reduced call allocates nothing.
/// </summary>
[Collection(SteadyStateGroup.Name)]
public sealed class EncoderReductionTests : IDisposable
{
    // Reduced blocks add a scatter and proportional-attention bias to the plain path's F32 error budget.
    private const double Tolerance = 5e-5;

    private readonly string _dir = Directory.CreateTempSubdirectory("hpccore-encoder-red-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string, EncoderPooling, int[]> Cases() => new()
    {
        { "tome", EncoderPooling.Mean, [9, 33, 4, 40] },
        { "tome", EncoderPooling.Cls, [21, 2, 17] },
        { "tome-ratio", EncoderPooling.Mean, [9, 33, 4, 40] },
        { "evit", EncoderPooling.Mean, [9, 33, 4, 40] },
        { "evit", EncoderPooling.Cls, [21, 1, 17] },
    };

    private static (EncoderTokenReducer Ours, EncoderReference.Reduction Reference) Method(string name) => name switch
    {
        "tome" => (new TextToMe(4), new EncoderReference.Reduction(ToMeR: 4)),
        "tome-ratio" => (new TextToMe(0.25), new EncoderReference.Reduction(ToMeRatio: 0.25)),
        _ => (new TextEvit(0.6, [0, 1]), new EncoderReference.Reduction(EvitKeep: 0.6, EvitLayers: [0, 1])),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Encode_Reduced_MatchesDoubleReference(string method, EncoderPooling pooling, int[] lengths)
    {
        var config = EncoderTestModels.Small(pooling);
        var host = EncoderTestModels.WriteFolder(_dir, config, seed: 23);
        using var cpu = new CpuBackend(2);
        using var model = EncoderModel.Load(_dir, cpu);
        var (reducer, reference) = Method(method);
        using var session = new EncoderSession(model.Weights, 8, config.MaxPositions, reducer);
        var texts = lengths.Select((n, i) => TestData.Ints(n, 300 + i, config.VocabSize)).ToArray();
        var embeddings = new float[lengths.Length * config.Hidden];
        Array.Fill(embeddings, float.NaN);

        session.Encode(texts.SelectMany(t => t).ToArray(), lengths, embeddings);

        var hidden = session.LastHiddenState.ToArray<float>();
        int tp = session.LastHiddenState.Shape[1], d = config.Hidden;
        for (int b = 0; b < texts.Length; b++)
        {
            var expected = EncoderReference.Forward(config, host, texts[b], reference, out var sizes);
            Assert.Equal(expected.Length, session.FinalLengths[b]);
            for (int i = 0; i < expected.Length; i++)
                for (int j = 0; j < d; j++)
                    Assert.True(Math.Abs(hidden[(b * tp + i) * d + j] - expected[i][j]) <= Tolerance,
                        $"{method} text {b} token {i} dim {j}: {hidden[(b * tp + i) * d + j]} vs {expected[i][j]}");
            var pooled = EncoderReference.Pool(expected, sizes, pooling);
            for (int j = 0; j < d; j++)
                Assert.True(Math.Abs(embeddings[b * d + j] - pooled[j]) <= Tolerance, $"{method} text {b} dim {j}");
        }
        // The long texts really were reduced.
        Assert.True(session.FinalLengths[^1] < lengths[^1]);
    }

    [Theory]
    [InlineData("tome")]
    [InlineData("evit")]
    public void Encode_Reduced_TextAloneAndPaddedInABatch_Agree(string method)
    {
        var config = EncoderTestModels.Small();
        EncoderTestModels.WriteFolder(_dir, config, seed: 8);
        using var cpu = new CpuBackend(1);
        using var model = EncoderModel.Load(_dir, cpu);
        using var session = new EncoderSession(model.Weights, 4, 40, Method(method).Ours);
        var text = TestData.Ints(13, 1, config.VocabSize);
        var alone = new float[config.Hidden];
        session.Encode(text, [13], alone);
        var other = TestData.Ints(39, 2, config.VocabSize);
        var batch = new float[2 * config.Hidden];
        session.Encode([.. other, .. text], [39, 13], batch);
        for (int j = 0; j < config.Hidden; j++) Assert.Equal(alone[j], batch[config.Hidden + j], 5e-6f);
    }

    [Theory]
    [InlineData("tome")]
    [InlineData("evit")]
    public void Encode_Reduced_SteadyState_AllocatesNothing(string method)
    {
        var config = EncoderTestModels.Small();
        EncoderTestModels.WriteFolder(_dir, config, seed: 5);
        using var cpu = new CpuBackend(2);
        using var model = EncoderModel.Load(_dir, cpu);
        using var session = new EncoderSession(model.Weights, 4, 40, Method(method).Ours);
        int[] lengths = [31, 3, 29];
        var ids = TestData.Ints(lengths.Sum(), 1, config.VocabSize);
        var output = new float[3 * config.Hidden];
        SteadyState.AssertAllocatesNothing(cpu, () => session.Encode(ids, lengths, output));
    }

    [Theory]
    [InlineData("none", null)]
    [InlineData("tome:r=12", "tome:r=12")]
    [InlineData("tome:ratio=0.1", "tome:ratio=0.1")]
    [InlineData("evit:keep=0.7", "evit:keep=0.7;layers=1,3,4")]
    [InlineData("evit:keep=0.5;layers=2", "evit:keep=0.5;layers=2")]
    public void Parse_KnownSpecs(string spec, string? name) => Assert.Equal(name, EncoderReducers.Parse(spec, 6)?.Name);

    [Theory]
    [InlineData("tome:q=3", "unknown settings: q")]
    [InlineData("evit:layers=6", "outside 0..5")]
    [InlineData("merge", "unknown method 'merge'")]
    [InlineData("tome:r", "is not key=value")]
    public void Parse_BadSpecs_AreNamed(string spec, string message) =>
        Assert.Contains(message, Assert.Throws<FormatException>(() => EncoderReducers.Parse(spec, 6)).Message, StringComparison.Ordinal);

    [Fact]
    public void RetrievalMetrics_RankAgainstEveryDocument()
    {
        float[][] docs = [[1, 0], [0, 1], [0.6f, 0.8f]];
        // Query 0 ranks its answer first; query 1's answer (doc 1) is beaten by doc 2; query 2 ties doc 1 (a miss).
        float[][] queries = [[1, 0], [0.8f, 0.6f], [0, 1]];
        var (r1, mrr) = RetrievalMetrics.Score(queries, docs);
        Assert.Equal(1 / 3.0, r1, 12);
        Assert.Equal((1 + 1 / 3.0 + 1 / 2.0) / 3, mrr, 12);
    }
}
