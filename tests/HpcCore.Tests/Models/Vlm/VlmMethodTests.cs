// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Every VLM method on the committed model: it keeps the visual-token budget, runs deterministically, and the
// pre-LM selections are valid (ascending positions, no duplicates).
namespace HpcCore.Tests.Models.Vlm;

using HpcCore.Models.Vlm;
using Xunit;

public sealed class VlmMethodTests(VlmFixture f) : IClassFixture<VlmFixture>
{
    public static TheoryData<string, bool> Methods()
    {
        var d = new TheoryData<string, bool>();
        foreach (var m in VlmMethod.Known.Where(m => m != "full"))
        {
            d.Add(m, false);
            d.Add(m, true);
        }
        return d;
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void Method_KeepsBudget_AndIsDeterministic(string name, bool highRes)
    {
        var pipeline = highRes ? f.HighRes : f.Base;
        var q = (highRes ? f.Set.HighRes : f.Set.Base)[0];
        var scene = VlmEvalSet.Scene(q.Cells, f.Images);
        foreach (double fraction in new[] { 0.5, 0.25, 0.11 })
        {
            int budget = pipeline.Budget(fraction);
            var a = pipeline.Ask(scene, q.Question, f.Method(name), fraction, seed: 3);
            var b = pipeline.Ask(scene, q.Question, f.Method(name), fraction, seed: 3);
            Assert.Equal(a.Logits, b.Logits);
            int inLm = a.VisualKept;
            // FastV prunes inside the LM: every visual token enters it, the budget holds from its layer on.
            if (name != "fastv")
                Assert.True(inLm <= budget, $"{name} at {fraction}: {inLm} visual tokens enter the LM, budget {budget}");
            // Selections fill the budget exactly; pooling and HiRED's integer split may land a little under it.
            if (name is not ("pool" or "hired" or "fastv"))
                Assert.Equal(budget, inLm);
            if (name == "hired") Assert.InRange(inLm, budget - 4, budget);
            var perLayer = a.Prefill.VisualPerLayer;
            if (name == "fastv")
            {
                Assert.Equal(pipeline.VisualTokens, inLm);
                Assert.Equal(pipeline.VisualTokens, perLayer[0]);
                Assert.All(perLayer.Skip(1), v => Assert.Equal(budget, v));
            }
            else
            {
                Assert.Equal(inLm, perLayer[0]);
                Assert.All(perLayer, v => Assert.True(v <= inLm));
            }
        }
    }

    [Fact]
    public void RandomBaseline_DependsOnSeedOnly()
    {
        var q = f.Set.Base[0];
        var scene = VlmEvalSet.Scene(q.Cells, f.Images);
        var a = f.Base.Ask(scene, q.Question, f.Method("random"), 0.11, seed: 1);
        var b = f.Base.Ask(scene, q.Question, f.Method("random"), 0.11, seed: 1);
        var c = f.Base.Ask(scene, q.Question, f.Method("random"), 0.11, seed: 2);
        Assert.Equal(a.Logits, b.Logits);
        Assert.NotEqual(a.Logits, c.Logits);
    }

    [Fact]
    public void Method_RejectsUnknownName()
    {
        var e = Assert.Throws<ArgumentException>(() => VlmMethod.Create("fastvv", 3, 8));
        Assert.Contains("unknown method 'fastvv'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Question_ParsesTheThreeForms()
    {
        Assert.Equal([VlmVocabulary.What, VlmVocabulary.Row1 + 1, VlmVocabulary.Col1, VlmVocabulary.Question],
            VlmVocabulary.ParseQuestion("What is at row 2 column 1?"));
        Assert.Equal([VlmVocabulary.HowMany, VlmVocabulary.Class0 + 6, VlmVocabulary.Question], VlmVocabulary.ParseQuestion("how many shirts"));
        Assert.Equal([VlmVocabulary.IsThere, VlmVocabulary.Class0 + 8, VlmVocabulary.Question], VlmVocabulary.ParseQuestion("is there a bag?"));
        Assert.Throws<FormatException>(() => VlmVocabulary.ParseQuestion("what is at row 3 column 1"));
        Assert.Throws<FormatException>(() => VlmVocabulary.ParseQuestion("how many hats"));
    }
}
