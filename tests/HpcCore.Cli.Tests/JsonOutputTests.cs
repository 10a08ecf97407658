// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Tests;

using System.Text.Json;
using HpcCore.Cli.Errors;
using Xunit;

/// <summary>
/// `lm generate --json` and `lm eval --json` on the zero-weight model: stdout is one JSON document, and its numbers
/// are the ones a zero model must give (uniform logits: perplexity = the vocabulary size).
/// </summary>
[Collection(nameof(ConsoleSwapping))]
public sealed class JsonOutputTests
{
    [Theory]
    [InlineData("f32")]
    [InlineData("bf16")]
    public void LmGenerate_Json(string weights)
    {
        using var lm = new TinyLm();
        var (code, stdout, _) = CliRun.Run("lm", "generate", "--model", lm.Model, "--tokenizer", lm.Tokenizer, "--prompt", "ab", "--steps", "3", "--json",
            "--weights", weights);
        Assert.Equal(ExitCodes.Ok, code);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal([1, 259, 'a' + 3, 'b' + 3], root.GetProperty("PromptTokens").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(3, root.GetProperty("GeneratedTokens").GetArrayLength());
        Assert.Equal("full", root.GetProperty("Policy").GetString());
    }

    [Fact]
    public void LmEval_Json_ThePolicyList_AndCompressionRatioAsBudget()
    {
        using var lm = new TinyLm();
        var (code, stdout, stderr) = CliRun.Run("lm", "eval", "--model", lm.Model, "--tokenizer", lm.Tokenizer, "--text", lm.Text,
            "--kv-policy", "full,h2o", "--compression-ratio", "0.75", "--windows", "1", "--passkey-trials", "1", "--json");
        Assert.Equal(ExitCodes.Ok, code);
        using var doc = JsonDocument.Parse(stdout);
        var results = doc.RootElement.EnumerateArray().ToArray();
        Assert.Equal(["full", "h2o"], results.Select(r => r.GetProperty("Policy").GetString()));
        Assert.All(results, r => Assert.Equal(0.25, r.GetProperty("Budget").GetDouble(), 12));
        Assert.All(results, r => Assert.Equal(260, r.GetProperty("Perplexity").GetDouble(), 3));
        Assert.Contains("[2/2] h2o at budget 0.25", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "--compression-ratio", "1" }, "--compression-ratio 1 is outside [0, 1)")]
    [InlineData(new[] { "--compression-ratio", "0.5", "--budget", "0.5" }, "--budget and --compression-ratio say the same thing")]
    public void LmEval_CompressionRatio_Bad_IsUsage(string[] options, string message)
    {
        var (code, _, stderr) = CliRun.Run(["lm", "eval", "--model", "m", "--tokenizer", "t", "--text", "x", .. options]);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains(message, Assert.Single(ExitCodeTests.Lines(stderr)), StringComparison.Ordinal);
    }

    [Fact]
    public void Demo_WithoutTheAssets_IsInputFile()
    {
        var (code, _, stderr) = CliRun.Run("demo", "--model", "no-such-vit.safetensors");
        Assert.Equal(ExitCodes.InputFile, code);
        Assert.Contains("no-such-vit.safetensors", Assert.Single(ExitCodeTests.Lines(stderr)), StringComparison.Ordinal);
    }
}
