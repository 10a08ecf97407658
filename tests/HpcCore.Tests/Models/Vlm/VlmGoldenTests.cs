// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The committed grid-scene VLM (assets/vlm, trained by tools/train/vlm) against PyTorch: logits after the question
// for the first held-out questions of each mode, the projector's output, and the accuracy over the whole set
// (golden.json, written by tools/train/vlm/export.py from the same weights and questions).
namespace HpcCore.Tests.Models.Vlm;

using System.Text.Json;
using HpcCore.Models.Vlm;
using HpcCore.Testing;
using HpcCore.Tests.Models.Vit;
using Xunit;

public sealed class VlmGoldenTests(VlmFixture f) : IClassFixture<VlmFixture>
{
    // Two F32 implementations (ViT 8 blocks, projector, decoder) with different summation orders and RoPE angle
    // arithmetic (PyTorch's float32 tables, the core kernel's double angles); logits are O(10).
    private static readonly Tolerance Logits = new("VlmGoldenLogits", 2e-3, 2e-3, 1e-9);

    private static JsonElement Golden()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(VitGoldenTests.RepoFile("assets/vlm/golden.json")));
        return doc.RootElement.Clone();
    }

    [Fact]
    public void Vocabulary_MatchesTraining()
    {
        var tokens = Golden().GetProperty("tokens").EnumerateArray().Select(t => t.GetString() ?? "").ToList();
        Assert.Equal(tokens, VlmVocabulary.Tokens.ToList());
    }

    [Theory]
    [InlineData("base")]
    [InlineData("high_res")]
    public void FullTokens_MatchPyTorchLogitsAndAnswers(string mode)
    {
        var g = Golden().GetProperty(mode);
        var expected = g.GetProperty("logits").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
        var answers = g.GetProperty("answers").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        var pipeline = mode == "base" ? f.Base : f.HighRes;
        var set = mode == "base" ? f.Set.Base : f.Set.HighRes;
        for (int i = 0; i < expected.Length; i++)
        {
            var a = pipeline.Ask(VlmEvalSet.Scene(set[i].Cells, f.Images), set[i].Question, f.Method("full"));
            TensorAssert.Close(expected[i], a.Logits, Logits, $"{mode} question {i} logits vs PyTorch");
            Assert.Equal(answers[i], a.Token);
        }
    }

    [Fact]
    public void Projector_MatchesPyTorch()
    {
        var expected = Golden().GetProperty("projected_first_scene").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var (vision, _) = f.Base.Encode(VlmEvalSet.Scene(f.Set.Base[0].Cells, f.Images));
        var kept = f.Base.Project(vision.Features.AsSpan(0, 3 * vision.Dim).ToArray(), 3);
        TensorAssert.Close(expected, kept, Logits, "projected visual tokens vs PyTorch");
    }

    [Theory]
    [InlineData("base")]
    [InlineData("high_res")]
    public void HeldOutAccuracy_MatchesPyTorch(string mode)
    {
        // The C# pipeline scores what PyTorch scores over the mode's whole held-out set, and the model is far above
        // chance: the blind baseline (golden.json "chance": each question answered with its most frequent training
        // answer, without the image) and guessing uniformly among the 19 answer tokens.
        var g = Golden().GetProperty(mode);
        double torchAccuracy = g.GetProperty("accuracy").GetDouble(), chance = g.GetProperty("chance").GetDouble();
        var r = mode == "base"
            ? new VlmEvaluator(f.Base, f.Set.Base, f.Images).Run(f.Method("full"), 1)
            : new VlmEvaluator(f.HighRes, f.Set.HighRes, f.Images).Run(f.Method("full"), 1);
        // Near-tied logits may flip an answer between two F32 implementations: allow one question in a hundred.
        Assert.InRange(r.Accuracy, torchAccuracy - 0.01, torchAccuracy + 0.01);
        Assert.True(r.Accuracy > 3.0 / 19, $"accuracy {r.Accuracy:P1} is not above uniform guessing among 19 answers");
        Assert.True(r.Accuracy > chance + 0.15, $"accuracy {r.Accuracy:P1} is not 15 points above the blind baseline {chance:P1}");
    }
}
