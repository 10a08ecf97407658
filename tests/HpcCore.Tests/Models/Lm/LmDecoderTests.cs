// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.Lm;

using HpcCore.Cpu;
using HpcCore.Models.Lm;
using HpcCore.Testing;
using HpcCore.Testing.Reference;
using Xunit;

/// <summary>LmDecoder against the double-precision reference forward, for both architectures, chunked and stepwise.</summary>
public sealed class LmDecoderTests
{
    private const double Tol = 2e-4;

    public static TheoryData<string, int, int> Cases => new()
    {
        { "llama", 1, 13 },
        { "llama", 7, 31 },
        { "llama", 64, 33 },
        { "gpt2", 5, 29 },
        { "gpt2", 1, 7 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void PrefillThenDecode_MatchesReference(string arch, int chunk, int length)
    {
        using var cpu = new CpuBackend(threads: 2);
        var config = arch == "llama" ? LmTestModels.Llama() : LmTestModels.Gpt2();
        using var weights = LmTestModels.Random(config, cpu, seed: length);
        var reference = LmTestModels.Reference(config, weights);
        int[] tokens = TestData.Ints(length, length + 1, config.VocabSize);
        var expected = ReferenceLm.Forward(reference, tokens);
        using var decoder = new LmDecoder(config, weights, cpu, new LmDecoderOptions(PrefillChunk: chunk, PageTokens: 4));
        int prompt = length / 2 + 1;
        AssertRow(expected, prompt - 1, decoder.Prefill(tokens.AsSpan(0, prompt)));
        for (int t = prompt; t < length; t++)
            AssertRow(expected, t, decoder.Decode(tokens[t]));
        Assert.Equal(length, decoder.Position);
    }

    [Fact]
    public void Reset_StartsANewSequence()
    {
        using var cpu = new CpuBackend(threads: 1);
        var config = LmTestModels.Llama();
        using var weights = LmTestModels.Random(config, cpu, seed: 3);
        using var decoder = new LmDecoder(config, weights, cpu);
        int[] tokens = [1, 5, 9, 2];
        float[] first = decoder.Prefill(tokens).ToArray();
        decoder.Decode(7);
        decoder.Reset();
        Assert.Equal(0, decoder.Cache.TokensHeld());
        Assert.Equal(first, decoder.Prefill(tokens).ToArray());
    }

    [Fact]
    public void OutOfVocabularyToken_Throws_NamingTheToken()
    {
        using var cpu = new CpuBackend(threads: 1);
        var config = LmTestModels.Llama();
        using var weights = LmTestModels.Random(config, cpu, seed: 4);
        using var decoder = new LmDecoder(config, weights, cpu);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => decoder.Decode(config.VocabSize));
        Assert.Contains($"token {config.VocabSize}", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, decoder.Position);
    }

    internal static void AssertRow(double[,] expected, int row, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.GetLength(1), actual.Length);
        for (int i = 0; i < actual.Length; i++)
        {
            double e = expected[row, i];
            if (Math.Abs(e - actual[i]) > Tol * (1 + Math.Abs(e)))
                Assert.Fail($"row {row} logit {i}: expected {e}, got {actual[i]}");
        }
    }
}
