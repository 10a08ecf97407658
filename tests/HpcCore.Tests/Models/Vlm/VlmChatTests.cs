// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// VlmChat (visual pruning + a KV policy over a multi-turn conversation) on the committed model: its cached decode
// against one prefill of the whole conversation, its first answer against the single-question pipeline, and the KV
// policy's eviction.
namespace HpcCore.Tests.Models.Vlm;

using HpcCore.Models.KvCache;
using HpcCore.Models.Vlm;
using Xunit;

public sealed class VlmChatTests(VlmFixture f) : IClassFixture<VlmFixture>
{
    private List<int[]> Questions(bool highRes, int scene)
    {
        var set = highRes ? f.Set.HighRes : f.Set.Base;
        int per = f.Set.PerScene;
        return [.. set.Skip(scene * per).Take(per).Select(q => q.Question)];
    }

    [Theory]
    [InlineData(false, "full", 1.0)]
    [InlineData(false, "vtc", 0.25)]
    [InlineData(true, "mmtok", 0.5)]
    public void Conversation_MatchesOnePrefillOfTheWholeDialogue(bool highRes, string method, double fraction)
    {
        var pipeline = highRes ? f.HighRes : f.Base;
        using var chat = new VlmChat(pipeline, new FullKvPolicy());
        for (int scene = 0; scene < 2; scene++)
        {
            var questions = Questions(highRes, scene);
            var cells = (highRes ? f.Set.HighRes : f.Set.Base)[scene * f.Set.PerScene].Cells;
            var (vision, ms) = pipeline.Encode(VlmEvalSet.Scene(cells, f.Images));
            var r = chat.Run(vision, ms, questions, f.Method(method), fraction, seed: 1);

            // The first answer is the single-question pipeline's.
            Assert.Equal(pipeline.Answer(vision, ms, questions[0], f.Method(method), fraction, seed: 1).Token, r.Answers[0]);

            // The whole dialogue (<s> image q1 a1 q2 a2 ... qn, the chat's own answers) in one prefill gives the last logits.
            var prompt = pipeline.Prompt(vision, questions[0], f.Method(method), fraction, seed: 1);
            var rows = new List<float>(prompt.Embeddings);
            var positions = new List<int>(prompt.Positions);
            for (int turn = 1; turn < questions.Count; turn++)
                foreach (int token in questions[turn].Prepend(r.Answers[turn - 1]))
                {
                    rows.AddRange(pipeline.Language.Embed([token]));
                    positions.Add(positions[^1] + 1);
                }
            var once = pipeline.Language.Prefill([.. rows], [.. positions], new bool[positions.Count]).Logits;
            for (int v = 0; v < once.Length; v++)
                Assert.True(Math.Abs(once[v] - r.LastLogits[v]) <= 2e-4 * (1 + Math.Abs(once[v])), $"scene {scene}, logit {v}: {r.LastLogits[v]} vs one prefill {once[v]}");
            Assert.Equal(VlmPipeline.Argmax(once), r.Answers[^1]);
        }
    }

    [Fact]
    public void EvictingPolicy_CapsTheCache_AndPruningShrinksIt()
    {
        var config = f.Weights.LmConfig;
        long perToken = 2L * config.HeadDim * sizeof(float) * config.Layers * config.KvHeads;
        var questions = Questions(highRes: false, 0);
        var (vision, ms) = f.Base.Encode(VlmEvalSet.Scene(f.Set.Base[0].Cells, f.Images));
        using var full = new VlmChat(f.Base, new FullKvPolicy());
        using var streaming = new VlmChat(f.Base, new StreamingLlmKvPolicy(24, 4));
        var all = full.Run(vision, ms, questions, f.Method("full"));
        int turnsTokens = questions.Skip(1).Sum(q => q.Length + 1);
        // Everything stays: <s>, every visual token, the first question, then each later answer and question.
        Assert.Equal((1 + f.Base.VisualTokens + questions[0].Length + turnsTokens) * perToken, all.KvBytes);
        var capped = streaming.Run(vision, ms, questions, f.Method("full"));
        Assert.True(capped.KvBytes <= 24 * perToken, $"streaming holds {capped.KvBytes} bytes, budget {24 * perToken}");
        // Its peak is the first prompt, cached whole before the policy compresses it.
        Assert.Equal((1 + f.Base.VisualTokens + questions[0].Length) * perToken, capped.KvPeakBytes);
        var pruned = full.Run(vision, ms, questions, f.Method("vtc"), 0.25);
        Assert.Equal(all.KvBytes - (f.Base.VisualTokens - pruned.VisualKept) * perToken, pruned.KvBytes);
        Assert.All(capped.Answers, a => Assert.InRange(a, 0, config.VocabSize - 1));
    }

    [Fact]
    public void InLmMethods_AndBadQuestions_AreRefused()
    {
        using var chat = new VlmChat(f.Base, new FullKvPolicy());
        var (vision, ms) = f.Base.Encode(VlmEvalSet.Scene(f.Set.Base[0].Cells, f.Images));
        var e = Assert.Throws<ArgumentException>(() => chat.Run(vision, ms, Questions(false, 0), f.Method("fastv"), 0.5));
        Assert.Contains("'fastv' prunes inside the LM", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => chat.Run(vision, ms, [], f.Method("full")));
        Assert.Throws<ArgumentException>(() => chat.Run(vision, ms, [[VlmVocabulary.Bos]], f.Method("full")));
    }

    [Fact]
    public void PreLmList_IsExactlyTheMethodsWithoutAnInLmPart()
    {
        var expected = VlmMethod.Known.Where(n => f.Method(n).InLm is null);
        Assert.Equal(expected, VlmMethod.PreLm);
    }
}
