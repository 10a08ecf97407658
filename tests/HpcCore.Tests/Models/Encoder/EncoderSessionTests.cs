// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.Encoder;

using HpcCore.Cpu;
using HpcCore.Models.Encoder;
using HpcCore.Testing;
using Xunit;

/// <summary>
/// EncoderSession (through an HF folder written and read back) against the plain double reference: mixed-length
/// batches, both poolings, both GELUs; a steady-state call allocates nothing; bad input is refused by name.
/// </summary>
[Collection(SteadyStateGroup.Name)]
public sealed class EncoderSessionTests : IDisposable
{
    // Two post-LN blocks in F32 against double: LayerNorm renormalises each block, so errors stay near F32 GEMM level.
    private const double HiddenTolerance = 2e-5;

    private readonly string _dir = Directory.CreateTempSubdirectory("hpccore-encoder-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<EncoderPooling, bool, int[]> Cases() => new()
    {
        { EncoderPooling.Mean, false, [7] },
        { EncoderPooling.Mean, false, [1, 9, 33, 2, 17] },
        { EncoderPooling.Cls, false, [12, 40, 3] },
        { EncoderPooling.Mean, true, [5, 8, 40] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Encode_MixedLengths_MatchesDoubleReference(EncoderPooling pooling, bool tanhGelu, int[] lengths)
    {
        var config = EncoderTestModels.Small(pooling, tanhGelu);
        var host = EncoderTestModels.WriteFolder(_dir, config, seed: 17);
        using var cpu = new CpuBackend(2);
        using var model = EncoderModel.Load(_dir, cpu);
        Assert.Equal(config, model.Weights.Config);
        using var session = new EncoderSession(model.Weights, maxBatch: 8, maxTokens: config.MaxPositions);
        var texts = lengths.Select((n, i) => TestData.Ints(n, 100 + i, config.VocabSize)).ToArray();
        var ids = texts.SelectMany(t => t).ToArray();
        var embeddings = new float[lengths.Length * config.Hidden];
        // Poison: every element must be written.
        Array.Fill(embeddings, float.NaN);

        session.Encode(ids, lengths, embeddings);

        var hidden = session.LastHiddenState.ToArray<float>();
        int tp = session.LastHiddenState.Shape[1], d = config.Hidden;
        for (int b = 0; b < texts.Length; b++)
        {
            var expected = EncoderReference.Forward(config, host, texts[b]);
            for (int i = 0; i < texts[b].Length; i++)
                for (int j = 0; j < d; j++)
                    Assert.True(Math.Abs(hidden[(b * tp + i) * d + j] - expected[i][j]) <= HiddenTolerance,
                        $"text {b} token {i} dim {j}: {hidden[(b * tp + i) * d + j]} vs {expected[i][j]}");
            var pooled = EncoderReference.Pool(expected, Enumerable.Repeat(1.0, expected.Length).ToArray(), pooling);
            for (int j = 0; j < d; j++)
                Assert.True(Math.Abs(embeddings[b * d + j] - pooled[j]) <= HiddenTolerance, $"text {b} embedding dim {j}: {embeddings[b * d + j]} vs {pooled[j]}");
        }
    }

    [Fact]
    public void Encode_SameTextAlone_AndInABatch_Agree()
    {
        var config = EncoderTestModels.Small();
        EncoderTestModels.WriteFolder(_dir, config, seed: 3);
        using var cpu = new CpuBackend(1);
        using var model = EncoderModel.Load(_dir, cpu);
        using var session = new EncoderSession(model.Weights, 4, 40);
        var text = TestData.Ints(6, 9, config.VocabSize);
        var alone = new float[config.Hidden];
        session.Encode(text, [6], alone);
        var other = TestData.Ints(37, 10, config.VocabSize);
        var batch = new float[2 * config.Hidden];
        session.Encode([.. other, .. text], [37, 6], batch);
        // Padding to 40 keys must not leak into the short text: only masked keys differ.
        for (int j = 0; j < config.Hidden; j++) Assert.Equal(alone[j], batch[config.Hidden + j], 5e-6f);
    }

    [Fact]
    public void LastBlockFlops_CountsThePaddedRows_AndFallsUnderReduction()
    {
        var config = EncoderTestModels.Small();
        EncoderTestModels.WriteFolder(_dir, config, seed: 5);
        using var cpu = new CpuBackend(1);
        using var model = EncoderModel.Load(_dir, cpu);
        using var full = new EncoderSession(model.Weights, 2, 40);
        var ids = TestData.Ints(30, 4, config.VocabSize);
        var output = new float[2 * config.Hidden];
        full.Encode(ids, [7, 23], output);
        // Padded to T = 24: per block 2 x 24 rows of QKV + output projection (4 D^2), both attention products (4 T D)
        // and the MLP (4 D I), 2 FLOPs per multiply-add.
        double rows = 2 * 24, d = 16, perBlock = 2 * rows * d * 4 * d + 4 * rows * 24 * d + 4 * rows * d * 24;
        Assert.Equal(2 * perBlock, full.LastBlockFlops, 6);
        using var reduced = new EncoderSession(model.Weights, 2, 40, new HpcCore.Models.Encoder.Reduction.TextToMe(4));
        reduced.Encode(ids, [7, 23], output);
        Assert.InRange(reduced.LastBlockFlops, 0.5 * full.LastBlockFlops, 0.95 * full.LastBlockFlops);
    }

    [Fact]
    public void Encode_SteadyState_AllocatesNothing()
    {
        var config = EncoderTestModels.Small();
        EncoderTestModels.WriteFolder(_dir, config, seed: 5);
        using var cpu = new CpuBackend(2);
        using var model = EncoderModel.Load(_dir, cpu);
        using var session = new EncoderSession(model.Weights, 4, 40);
        int[] lengths = [11, 3, 29];
        var ids = TestData.Ints(lengths.Sum(), 1, config.VocabSize);
        var output = new float[3 * config.Hidden];
        SteadyState.AssertAllocatesNothing(cpu, () => session.Encode(ids, lengths, output));
    }

    [Fact]
    public void Encode_BadInput_NamesTheArgument()
    {
        var config = EncoderTestModels.Small();
        EncoderTestModels.WriteFolder(_dir, config, seed: 5);
        using var cpu = new CpuBackend(1);
        using var model = EncoderModel.Load(_dir, cpu);
        using var session = new EncoderSession(model.Weights, 2, 16);
        var output = new float[2 * config.Hidden];
        var e1 = Assert.Throws<ArgumentException>(() => session.Encode(new int[17], [17], output.AsSpan(0, config.Hidden)));
        Assert.Contains("lengths[0] = 17", e1.Message, StringComparison.Ordinal);
        var e2 = Assert.Throws<ArgumentException>(() => session.Encode(new int[3], [1, 1, 1], new float[3 * config.Hidden]));
        Assert.Contains("1..2", e2.Message, StringComparison.Ordinal);
        var e3 = Assert.Throws<ArgumentException>(() => session.Encode(new int[4], [2, 3], output));
        Assert.Contains("lengths add up to 5", e3.Message, StringComparison.Ordinal);
        var e4 = Assert.Throws<ArgumentOutOfRangeException>(() => session.Encode([2, 50], [2], output.AsSpan(0, config.Hidden)));
        Assert.Contains("ids[1] = 50", e4.Message, StringComparison.Ordinal);
        var e5 = Assert.Throws<ArgumentException>(() => session.Encode([2, 3], [2], output));
        Assert.Contains("[B=1, D=16]", e5.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new EncoderSession(model.Weights, 1, 41));
    }

    [Fact]
    public void Tokenizer_FramesAndTruncates()
    {
        var config = EncoderTestModels.Small();
        EncoderTestModels.WriteFolder(_dir, config, seed: 5);
        using var cpu = new CpuBackend(1);
        using var model = EncoderModel.Load(_dir, cpu);
        var tok = model.Tokenizer;
        var ids = tok.Encode("The cats sat", 64);
        // [CLS] the cat ##s sat [SEP] (lower-cased WordPiece).
        Assert.Equal([2, 33, 34, 38, 35, 3], ids);
        Assert.Equal([2, 33, 34, 3], tok.Encode("The cats sat", 4));
    }
}
