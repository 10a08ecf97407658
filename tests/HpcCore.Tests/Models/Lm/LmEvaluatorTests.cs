// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.Lm;

using System.Text;
using HpcCore.Cpu;
using HpcCore.Models.Lm;
using HpcCore.Models.Lm.Loading;
using Xunit;

/// <summary>The evaluation harness on a small random byte-level model: it runs, and compression shows in the bytes held.</summary>
public sealed class LmEvaluatorTests
{
    [Fact]
    public void Evaluate_ReportsFiniteQuality_AndFewerBytesUnderBudget()
    {
        using var cpu = new CpuBackend(threads: 1);
        var config = LmTestModels.Llama(vocab: 259, seq: 96);
        using var weights = LmTestModels.Random(config, cpu, seed: 31);
        var tok = LlamaCTokenizer.Parse(LlamaCTokenizerTests.Build(), 259);
        string text = string.Concat(Enumerable.Repeat("It is a truth universally acknowledged, that a single man in possession of a good fortune. ", 8));
        var options = new LmEvalOptions(Windows: 2, Context: 96);
        var full = LmEvaluator.Run(config, weights, cpu, tok, text, "full", 1.0, options);
        var h2o = LmEvaluator.Run(config, weights, cpu, tok, text, "h2o", 0.2, options);
        Assert.True(double.IsFinite(full.Perplexity) && full.Perplexity > 1);
        Assert.True(double.IsFinite(h2o.Perplexity) && h2o.Perplexity > 1);
        // Three lengths (context/4, /2, and context - 8: the answer's 8 tokens stay in the trained positions) x five
        // depths x two trials, reported cell by cell.
        Assert.Equal(30, full.PasskeyTrials);
        Assert.Equal(15, full.Passkey.Count);
        Assert.Equal([24, 48, 88], full.Passkey.Select(c => c.Length).Distinct().Order().ToArray());
        Assert.All(full.Passkey, c => Assert.Equal(2, c.Trials));
        Assert.Equal(full.PasskeyCorrect, full.Passkey.Sum(c => c.Correct));
        Assert.True(h2o.MeanKvBytes < full.MeanKvBytes / 2, $"{h2o.MeanKvBytes} vs {full.MeanKvBytes}");
    }

    [Fact]
    public void PasskeyPrompt_PlacesTheKeyAtTheDepth()
    {
        var tok = LlamaCTokenizer.Parse(LlamaCTokenizerTests.Build(), 259);
        int[] filler = tok.Encode(new string('x', 500), addBos: false);
        int[] prompt = LmEvaluator.PasskeyPrompt(tok, filler, "12345", 200, 0.5, new Random(1));
        int needle = tok.Encode("The pass key is 12345. Remember it. 12345 is the pass key.", addBos: false).Length;
        int question = tok.Encode("What is the pass key? The pass key is", addBos: false).Length;
        int body = 200 - 1 - needle - question;
        Assert.Equal(200, prompt.Length);
        var bytes = prompt.Skip(1).Select(t => (byte)(t - 3)).ToArray();
        string s = Encoding.ASCII.GetString(bytes);
        int at = s.IndexOf("The pass key is 12345", StringComparison.Ordinal);
        Assert.Equal(body / 2, at); // this vocabulary has no " " piece, so no dummy prefix
        Assert.EndsWith("What is the pass key? The pass key is", s, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(" 1234", false)] // a byte-level answer's leading space is not a digit: one more step is needed
    [InlineData(" 12345", true)]
    [InlineData("12345", true)]
    [InlineData("\n\t 123", false)]
    [InlineData("123456", true)]
    public void AnswerComplete_IgnoresLeadingWhiteSpace(string decoded, bool complete) =>
        Assert.Equal(complete, LmEvaluator.AnswerComplete(decoded, "12345"));

    [Theory]
    [InlineData(" 12345.", true)]
    [InlineData("12345", true)]
    [InlineData(" 1234", false)]
    [InlineData(" 12346", false)]
    [InlineData("x12345", false)]
    public void AnswerMatches_NeedsTheWholeKeyFirst(string decoded, bool hit) =>
        Assert.Equal(hit, LmEvaluator.AnswerMatches(decoded, "12345"));
}
