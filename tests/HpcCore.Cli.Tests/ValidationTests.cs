// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Tests;

using HpcCore.Cli.Errors;
using Xunit;

/// <summary>
/// Bad specs and out-of-range options are refused before any work, with the valid range or keys in the message.
/// The model paths in the parse-time cases do not exist: a usage error must come before the missing file.
/// </summary>
[Collection(nameof(ConsoleSwapping))]
public sealed class ValidationTests
{
    private static readonly string VitModel = Path.Combine(CliRun.RepoRoot, "assets", "vit", "vit-fmnist.safetensors");
    private static readonly string VitData = Path.Combine(CliRun.RepoRoot, "assets", "data", "fashion-mnist");

    [Theory]
    [InlineData("tome:r=8;foo=1", "tome has no setting 'foo'")]
    [InlineData("baseline,tome:keep=0.5", "tome has no setting 'keep'")]
    [InlineData("baseline,tome:r=8;layer=3", "tome has no setting 'layer' in 'tome:r=8;layer=3'; it takes r, layers")]
    [InlineData("blur", "unknown method 'blur'")]
    [InlineData("tome:r", "'r' in 'tome:r' is not key=value")]
    public void VitMethods_BadNameOrKey_IsUsage_BeforeTheModelIsRead(string methods, string message)
    {
        var (code, _, stderr) = CliRun.Run("vit", "eval", "--model", "missing.safetensors", "--data", "missing", "--methods", methods);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains(message, Assert.Single(ExitCodeTests.Lines(stderr)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("baseline,tome:r=8;layers=40", "layers must be in [0, ")]
    [InlineData("evit:keep=1.5", "keep must be in (0, 1]")]
    [InlineData("expedit:size=99", "size=99 in 'expedit:size=99' is outside [1, ")]
    public void VitMethods_BadValueForTheModel_IsUsage(string methods, string message)
    {
        var (code, stdout, stderr) = CliRun.Run("vit", "eval", "--model", VitModel, "--data", VitData, "--methods", methods, "--json");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains(message, Assert.Single(ExitCodeTests.Lines(stderr)), StringComparison.Ordinal);
        Assert.Equal("", stdout);
    }

    [Theory]
    [InlineData("--limit", "0", "--limit 0 is outside [1, ...)")]
    [InlineData("--batch", "-1", "--batch -1 is outside [1, ...)")]
    [InlineData("--rounds", "0", "--rounds 0 is outside [1, ...)")]
    [InlineData("--weights", "int8", "'int8'")]
    public void VitOptions_OutOfRange_IsUsage(string option, string value, string message)
    {
        var (code, _, stderr) = CliRun.Run("vit", "eval", "--model", "m", "--data", "d", option, value);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains(message, Assert.Single(ExitCodeTests.Lines(stderr)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--top-p", "2", "--top-p 2 is outside [0, 1]")]
    [InlineData("--top-k", "-1", "--top-k -1 is outside [0, ...)")]
    [InlineData("--temperature", "NaN", "--temperature NaN is outside [0, ...)")]
    [InlineData("--kv-budget", "0", "--kv-budget 0 is outside [1, ...)")]
    [InlineData("--kv-policy", "snapkv:pool=median", "pool = 'median' must be avg or max")]
    [InlineData("--kv-policy", "h2o:sinks=4", "h2o has no setting 'sinks'")]
    [InlineData("--kv-policy", "lru", "unknown policy 'lru'")]
    [InlineData("--kv-dtype", "f8", "'f8'")]
    [InlineData("--weights", "f16", "'f16'")]
    public void LmGenerateOptions_Bad_IsUsage(string option, string value, string message)
    {
        var (code, _, stderr) = CliRun.Run("lm", "generate", "--model", "m", "--tokenizer", "t", option, value);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains(message, Assert.Single(ExitCodeTests.Lines(stderr)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--windows", "0", "--windows 0 is outside [1, ...)")]
    [InlineData("--budget", "0", "--budget 0 is outside (0, 1]")]
    [InlineData("--budget", "1.5", "--budget 1.5 is outside (0, 1]")]
    [InlineData("--kv-policy", "full,h2o,snapkv:window=0", "window = '0' must be an integer >= 1")]
    [InlineData("--kv-policy", ",", "names no policy")]
    [InlineData("--weights", "q8_0", "'q8_0'")]
    public void LmEvalOptions_Bad_IsUsage(string option, string value, string message)
    {
        var (code, _, stderr) = CliRun.Run("lm", "eval", "--model", "m", "--tokenizer", "t", "--text", "x", option, value);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains(message, Assert.Single(ExitCodeTests.Lines(stderr)), StringComparison.Ordinal);
    }

    [Fact]
    public void LmEvalContext_BeyondTheModel_IsUsage_NamingItsContext()
    {
        using var lm = new TinyLm();
        var (code, _, stderr) = CliRun.Run("lm", "eval", "--model", lm.Model, "--tokenizer", lm.Tokenizer, "--text", lm.Text, "--context", "4096");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains($"--context 4096 is outside [0, {TinyLm.Context}]", ErrorLine(stderr), StringComparison.Ordinal);
    }

    [Fact]
    public void LmGeneratePrompt_LongerThanTheContext_IsUsage_WithAdvice()
    {
        using var lm = new TinyLm();
        var (code, stdout, stderr) = CliRun.Run("lm", "generate", "--model", lm.Model, "--tokenizer", lm.Tokenizer, "--prompt", new string('a', 300));
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains($"--prompt is 302 tokens (with BOS) but the model's context is {TinyLm.Context}: shorten the prompt", ErrorLine(stderr), StringComparison.Ordinal);
        Assert.Equal("", stdout);
    }

    [Fact]
    public void LmEval_TextShorterThanAWindow_IsUsage()
    {
        using var lm = new TinyLm();
        File.WriteAllText(lm.Text, "too short");
        var (code, _, stderr) = CliRun.Run("lm", "eval", "--model", lm.Model, "--tokenizer", lm.Tokenizer, "--text", lm.Text);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("give a longer text or a smaller --context", ErrorLine(stderr), StringComparison.Ordinal);
    }

    [Fact]
    public void VitHelp_ListsTheMethodsAndTheirKeys()
    {
        var (code, stdout, _) = CliRun.Run("vit", "eval", "--help");
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("tome (r, layers)", stdout.ReplaceLineEndings(" "), StringComparison.Ordinal);
    }

    // Progress lines ([device], [text: N tokens]) come before the error, which is the last line.
    private static string ErrorLine(string stderr)
    {
        var lines = ExitCodeTests.Lines(stderr);
        Assert.Single(lines, l => l.StartsWith("hpccore: error:", StringComparison.Ordinal));
        return lines[^1];
    }
}
