// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.Encoder;

using HpcCore.Models.Encoder;
using Xunit;

/// <summary>
/// The two pretrained encoders, imported from their NuGet packages and run by EncoderSession, against ONNX Runtime
/// running the same ONNX file: last_hidden_state within 1e-4 on every real token, pooled embeddings at cosine
/// >= 0.99999 (issue #17), for a short text, a long one truncated at 256 tokens and a batch of mixed lengths.
/// </summary>
public sealed class SentenceEncoderOracleTests(SentenceEncoderFixture fixture) : IClassFixture<SentenceEncoderFixture>
{
    private const double HiddenTolerance = 1e-4;
    private const double MinCosine = 0.99999;

    private static readonly string Long = string.Join(' ', Enumerable.Repeat(
        "In the beginning God created the heaven and the earth. And the earth was without form, and void; and darkness was " +
        "upon the face of the deep. And the Spirit of God moved upon the face of the waters.", 8));

    public static TheoryData<string, string[]> Cases() => new()
    {
        { "minilm", ["A man is playing a guitar."] },
        { "arctic-xs", ["A man is playing a guitar."] },
        { "minilm", [Long] },
        { "arctic-xs", [Long] },
        { "minilm", ["Hello!", Long, "The quick brown fox jumps over the lazy dog.", "naïve café résumé, DON'T shout", "x"] },
        { "arctic-xs", ["Hello!", Long, "The quick brown fox jumps over the lazy dog.", "naïve café résumé, DON'T shout", "x"] },
    };

    [SentenceEncoderTheory]
    [MemberData(nameof(Cases))]
    public void Encode_MatchesOnnxRuntime(string key, string[] texts)
    {
        var loaded = fixture.Get(key);
        var model = loaded.Model;
        int d = model.Weights.Config.Hidden;
        var tokens = texts.Select(t => model.Tokenizer.Encode(t, 256)).ToArray();
        using var session = new EncoderSession(model.Weights, texts.Length, 256);
        var ours = new float[texts.Length * d];
        session.Encode(tokens.SelectMany(t => t).ToArray(), tokens.Select(t => t.Length).ToArray(), ours);
        var hidden = session.LastHiddenState.ToArray<float>();
        int tp = session.LastHiddenState.Shape[1];

        var theirs = SentenceEncoderFixture.RunOrt(loaded.Ort, tokens, out int to);
        for (int b = 0; b < texts.Length; b++)
        {
            double worst = 0;
            var pooled = new double[d];
            int n = tokens[b].Length;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < d; j++)
                {
                    double r = theirs[(b * to + i) * d + j];
                    worst = Math.Max(worst, Math.Abs(hidden[(b * tp + i) * d + j] - r));
                    if (model.Weights.Config.Pooling == EncoderPooling.Mean) pooled[j] += r / n;
                    else if (i == 0) pooled[j] = r;
                }
            Assert.True(worst <= HiddenTolerance, $"{key} text {b} ({n} tokens): max |last_hidden_state - ORT| = {worst:G3}");
            double dot = 0, norm = 0;
            for (int j = 0; j < d; j++)
            {
                dot += ours[b * d + j] * pooled[j];
                norm += pooled[j] * pooled[j];
            }
            double cosine = dot / Math.Sqrt(norm);
            Assert.True(cosine >= MinCosine, $"{key} text {b}: cosine to ORT's pooled embedding {cosine:F7}");
        }
        if (texts.Contains(Long)) Assert.Contains(tokens, t => t.Length == 256);
    }

    [SentenceEncoderTheory]
    [InlineData("minilm")]
    [InlineData("arctic-xs")]
    public void Import_FindsEveryTensor_AndTheWordPieceIdsAreBerts(string key)
    {
        var model = fixture.Get(key).Model;
        var c = model.Weights.Config;
        Assert.Equal(new EncoderConfig(384, 6, 12, 1536, 30522, 512, 2, 1e-12f, false, c.Pooling), c);
        Assert.Equal(key == "minilm" ? EncoderPooling.Mean : EncoderPooling.Cls, c.Pooling);
        // bert-base-uncased's ids for this sentence ([CLS] a man is playing a guitar . [SEP]).
        Assert.Equal([101, 1037, 2158, 2003, 2652, 1037, 2858, 1012, 102], model.Tokenizer.Encode("A man is playing a guitar.", 256));
    }
}
