// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Tests;

using System.Text.Json;
using System.Text.Json.Nodes;
using HpcCore.Cli.Errors;
using HpcCore.Cpu;
using HpcCore.Models.Weights;
using Xunit;

/// <summary>
/// `lm generate` on a Hugging Face folder (the tiny Llama 3 of tools/golden/hf_llm.py: its own tokenizer.json and
/// generation_config.json) and `--context`, the StreamingLLM context shift.
/// </summary>
[Collection(nameof(ConsoleSwapping))]
public sealed class LmGenerateHfTests
{
    private static string Llama3 => Path.Combine(AppContext.BaseDirectory, "Golden", "hf", "llama3-tiny");

    private static JsonElement Json(string stdout) => JsonDocument.Parse(stdout).RootElement.Clone();

    [Fact]
    public void HfFolder_Greedy_IsTorchsTokens()
    {
        var (code, stdout, stderr) = CliRun.Run("lm", "generate", "--model", Llama3, "--steps", "32", "--temperature", "0", "--json");
        Assert.True(code == ExitCodes.Ok, stderr);
        var root = Json(stdout);
        int[] sequence;
        using (var cpu = new CpuBackend(threads: 1))
        using (var golden = SafetensorsReader.Open(Path.Combine(Llama3, "golden.safetensors")))
        using (var t = golden.Load("sequence", cpu))
            sequence = t.ToArray<int>();
        int[] prompt = [.. root.GetProperty("PromptTokens").EnumerateArray().Select(e => e.GetInt32())];
        Assert.Equal(sequence[..prompt.Length], prompt);
        Assert.Equal(sequence[prompt.Length..], root.GetProperty("GeneratedTokens").EnumerateArray().Select(e => e.GetInt32()));
    }

    [Fact]
    public void HfFolder_SamplingDefaults_ComeFromGenerationConfig_UnlessGiven()
    {
        var (code, stdout, stderr) = CliRun.Run("lm", "generate", "--model", Llama3, "--steps", "4", "--json");
        Assert.True(code == ExitCodes.Ok, stderr);
        var root = Json(stdout);
        Assert.Equal(0.6f, root.GetProperty("Temperature").GetSingle());
        Assert.Equal(50, root.GetProperty("TopK").GetInt32());
        Assert.Equal(0.9f, root.GetProperty("TopP").GetSingle());
        (code, stdout, stderr) = CliRun.Run("lm", "generate", "--model", Llama3, "--steps", "4", "--top-k", "3", "--json");
        Assert.True(code == ExitCodes.Ok, stderr);
        Assert.Equal(3, Json(stdout).GetProperty("TopK").GetInt32());
    }

    [Fact]
    public void Verbose_LogsDeviceConversionAndLoadTime_OnStderrOnly()
    {
        var (code, stdout, stderr) = CliRun.Run("lm", "generate", "--model", Llama3, "--steps", "2", "--json", "--verbose");
        Assert.True(code == ExitCodes.Ok, stderr);
        Assert.Contains("[hpccore] device: ", stderr, StringComparison.Ordinal);
        // Every tensor of the tiny Llama is BF16, in two shards.
        Assert.Contains("[hpccore] 21 F16/BF16 tensors converted to F32 at load (2 weight files)", stderr, StringComparison.Ordinal);
        Assert.Contains("[hpccore] loaded ", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("[hpccore]", stdout, StringComparison.Ordinal);
        (code, _, stderr) = CliRun.Run("lm", "generate", "--model", Llama3, "--steps", "2", "--json");
        Assert.True(code == ExitCodes.Ok, stderr);
        Assert.DoesNotContain("[hpccore]", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void HfFolder_MissingConfigKey_IsFormatError_NamingTheKey()
    {
        string dir = Directory.CreateTempSubdirectory("hpccore-cli-hf-").FullName;
        try
        {
            foreach (var f in Directory.GetFiles(Llama3)) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
            var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!.AsObject();
            config.Remove("rope_theta");
            File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString());
            var (code, _, stderr) = CliRun.Run("lm", "generate", "--model", dir, "--steps", "2");
            Assert.Equal(ExitCodes.Format, code);
            Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains("has no rope_theta", stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Context_ShiftsPastTheModelsContext_HoldingTheWindow()
    {
        using var lm = new TinyLm();
        // Without --context generation stops at the model's 256 positions: the last token sampled sits at position 256.
        var (code, stdout, stderr) = CliRun.Run("lm", "generate", "--model", lm.Model, "--tokenizer", lm.Tokenizer, "--prompt", "ab", "--steps", "400", "--json");
        Assert.True(code == ExitCodes.Ok, stderr);
        var full = Json(stdout);
        Assert.Equal(TinyLm.Context - full.GetProperty("PromptTokens").GetArrayLength() + 1, full.GetProperty("GeneratedTokens").GetArrayLength());
        (code, stdout, stderr) = CliRun.Run("lm", "generate", "--model", lm.Model, "--tokenizer", lm.Tokenizer, "--prompt", "ab", "--steps", "400", "--context", "16", "--json");
        Assert.True(code == ExitCodes.Ok, stderr);
        var root = Json(stdout);
        Assert.Equal(400, root.GetProperty("GeneratedTokens").GetArrayLength());
        Assert.Equal("streaming", root.GetProperty("Policy").GetString());
        Assert.Equal("renumbered", root.GetProperty("Positions").GetString());
        Assert.Equal(16, root.GetProperty("Context").GetInt32());
        // The cache never held more than the window plus the token appended before each eviction (pages round it up).
        Assert.True(root.GetProperty("KvPeakBytesHeld").GetInt64() * 4 < full.GetProperty("KvPeakBytesHeld").GetInt64(),
            $"peak KV {root.GetProperty("KvPeakBytesHeld")} bytes with --context 16, {full.GetProperty("KvPeakBytesHeld")} without");
    }

    [Theory]
    [InlineData(new[] { "--context", "256" }, "--context 256 is outside [5, 255]")]
    [InlineData(new[] { "--context", "16", "--kv-policy", "h2o" }, "drop --kv-policy")]
    [InlineData(new[] { "--context", "4" }, "--context 4 is outside [5, ...)")]
    public void Context_Bad_IsUsage(string[] options, string message)
    {
        using var lm = new TinyLm();
        var (code, _, stderr) = CliRun.Run(["lm", "generate", "--model", lm.Model, "--tokenizer", lm.Tokenizer, "--steps", "2", .. options]);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Context_OnARopeScaledModel_IsUsage_SayingWhy()
    {
        var (code, _, stderr) = CliRun.Run("lm", "generate", "--model", Llama3, "--steps", "2", "--context", "16");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("llama3 rope_scaling", stderr, StringComparison.Ordinal);
    }
}
