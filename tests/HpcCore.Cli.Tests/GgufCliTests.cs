// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Tests;

using System.Text.Json;
using HpcCore.Cli.Errors;
using Xunit;

/// <summary>`lm convert --to gguf` (a llama2.c model, a Hugging Face Llama 3 folder) and a .gguf model in `lm generate`: same tokens without --tokenizer, usage and format errors.</summary>
public sealed class GgufCliTests
{
    [Theory]
    [InlineData("f32")]
    [InlineData("q8_0")]
    public void Convert_ThenGenerateFromGguf_GivesTheSameTokensWithoutTokenizer(string type)
    {
        using var lm = new TinyLm();
        string gguf = Path.Combine(lm.Folder, $"tiny-{type}.gguf");
        var (code, _, err) = CliRun.Run("lm", "convert", "--model", lm.Model, "--tokenizer", lm.Tokenizer, "--type", type, "--out", gguf);
        Assert.True(code == 0, err);
        var (c1, o1, e1) = CliRun.Run("lm", "generate", "--model", lm.Model, "--tokenizer", lm.Tokenizer, "--prompt", "the cat", "--steps", "6", "--json");
        var (c2, o2, e2) = CliRun.Run("lm", "generate", "--model", gguf, "--prompt", "the cat", "--steps", "6", "--json");
        Assert.True(c1 == 0 && c2 == 0, e1 + e2);
        static int[] Ids(string json, string key) => JsonDocument.Parse(json).RootElement.GetProperty(key).EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.Equal(Ids(o1, "PromptTokens"), Ids(o2, "PromptTokens"));
        Assert.Equal(Ids(o1, "GeneratedTokens"), Ids(o2, "GeneratedTokens"));
    }

    [Theory]
    [InlineData("f32")]
    [InlineData("q8_0")]
    public void Convert_Llama3HfFolder_GgufGeneratesTorchsGreedyTokens(string type)
    {
        // The BF16, sharded Llama 3 folder with tokenizer.json and llama3 rope_scaling: the .gguf alone (embedded BPE
        // tokenizer, rope_freqs) must give the PyTorch reference's 32 greedy tokens, as the folder does.
        string folder = Path.Combine(AppContext.BaseDirectory, "Golden", "hf", "llama3-tiny");
        string dir = Directory.CreateTempSubdirectory("gguf-cli-llama3-").FullName;
        try
        {
            string gguf = Path.Combine(dir, $"llama3-{type}.gguf");
            var (code, _, err) = CliRun.Run("lm", "convert", "--model", folder, "--type", type, "--out", gguf);
            Assert.True(code == 0, err);
            var (c2, o2, e2) = CliRun.Run("lm", "generate", "--model", gguf, "--steps", "32", "--temperature", "0", "--json");
            Assert.True(c2 == 0, e2);
            int[] sequence;
            using (var cpu = new HpcCore.Cpu.CpuBackend(threads: 1))
            using (var golden = HpcCore.Models.Weights.SafetensorsReader.Open(Path.Combine(folder, "golden.safetensors")))
            using (var t = golden.Load("sequence", cpu))
                sequence = t.ToArray<int>();
            var root = JsonDocument.Parse(o2).RootElement;
            int[] prompt = [.. root.GetProperty("PromptTokens").EnumerateArray().Select(e => e.GetInt32())];
            Assert.Equal(sequence[..prompt.Length], prompt);
            Assert.Equal(sequence[prompt.Length..], root.GetProperty("GeneratedTokens").EnumerateArray().Select(e => e.GetInt32()));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("gpt2-tiny", "Gpt2")]
    [InlineData("qwen2-tiny", "biases")]
    public void Convert_AFolderGgufsLlamaCannotHold_IsUsage(string name, string reason)
    {
        // GPT-2 is another architecture; Qwen2 has q/k/v biases, which GGUF's llama has no tensors for.
        string folder = Path.Combine(AppContext.BaseDirectory, "Golden", "hf", name);
        string dir = Directory.CreateTempSubdirectory("gguf-cli-refused-").FullName;
        try
        {
            var (code, _, err) = CliRun.Run("lm", "convert", "--model", folder, "--out", Path.Combine(dir, "x.gguf"));
            Assert.Equal(ExitCodes.Usage, code);
            Assert.Contains(reason, Assert.Single(ExitCodeTests.Lines(err)), StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(dir, "x.gguf")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void MissingTokenizer_ForANonGgufModel_IsUsage()
    {
        using var lm = new TinyLm();
        var (code, _, err) = CliRun.Run("lm", "generate", "--model", lm.Model);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("--tokenizer", Assert.Single(ExitCodeTests.Lines(err)), StringComparison.Ordinal);
    }

    [Fact]
    public void TruncatedGguf_IsFormat_NamingTheFile()
    {
        using var lm = new TinyLm();
        string gguf = Path.Combine(lm.Folder, "cut.gguf");
        Assert.Equal(0, CliRun.Run("lm", "convert", "--model", lm.Model, "--tokenizer", lm.Tokenizer, "--out", gguf).Code);
        var bytes = File.ReadAllBytes(gguf);
        File.WriteAllBytes(gguf, bytes[..(bytes.Length / 3)]);
        var (code, _, err) = CliRun.Run("lm", "generate", "--model", gguf);
        Assert.Equal(ExitCodes.Format, code);
        Assert.Contains("cut.gguf", Assert.Single(ExitCodeTests.Lines(err)), StringComparison.Ordinal);
    }
}
