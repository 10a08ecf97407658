// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.Lm;

using HpcCore.Cpu;
using HpcCore.Kernels;
using HpcCore.Models.Lm.Loading;
using HpcCore.Models.Weights;
using HpcCore.Testing;
using HpcCore.Testing.Reference;
using Xunit;

/// <summary>A Hugging Face folder: config.json gives what the tensors cannot (heads, context, RoPE base, epsilon).</summary>
public sealed class HfFolderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hpccore-hf-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void LlamaFolder_TakesItsSettingsFromConfigJson()
    {
        using var cpu = new CpuBackend(threads: 1);
        var config = LmTestModels.Llama() with { RopeLayout = RopeLayout.HalfSplit, RopeTheta = 500000f, NormEpsilon = 1e-6f };
        using var w = LmTestModels.Random(config, cpu, seed: 23);
        using (var file = File.Create(Path.Combine(_dir, "model.safetensors"))) SafetensorsWriter.Write(file, HfSafetensorsTests.LlamaNames(config, w));
        File.WriteAllText(Path.Combine(_dir, "config.json"),
            $$"""{"architectures": ["LlamaForCausalLM"], "num_attention_heads": {{config.Heads}}, "max_position_embeddings": {{config.MaxSeqLen}}, "rope_theta": 500000.0, "rms_norm_eps": 1e-06}""");
        var (loadedConfig, loaded) = HfFolder.Load(_dir, cpu);
        using (loaded)
        {
            Assert.Equal(config, loadedConfig);
            int[] tokens = TestData.Ints(9, 5, config.VocabSize);
            Assert.Equal(ReferenceLm.Forward(LmTestModels.Reference(config, w), tokens), ReferenceLm.Forward(LmTestModels.Reference(loadedConfig, loaded), tokens));
        }
    }

    [Theory]
    [InlineData("""{"max_position_embeddings": 64}""", "none of num_attention_heads, n_head")]
    [InlineData("""{"num_attention_heads": "six", "max_position_embeddings": 64}""", "num_attention_heads = \"six\" is not a positive integer")]
    [InlineData("""{"num_attention_heads": 6, "max_position_embeddings": 64, "rope_theta": -1}""", "rope_theta = -1 is not a positive number")]
    [InlineData("""[6]""", "is not a JSON object")]
    public void BadConfig_ThrowsFormatError_NamingTheKey(string json, string message)
    {
        File.WriteAllBytes(Path.Combine(_dir, "model.safetensors"), []);
        File.WriteAllText(Path.Combine(_dir, "config.json"), json);
        using var cpu = new CpuBackend(threads: 1);
        Assert.Contains(message, Assert.Throws<LmFormatException>(() => HfFolder.Load(_dir, cpu)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ShardedOrIncomplete_IsRefusedByName()
    {
        using var cpu = new CpuBackend(threads: 1);
        Assert.Contains("no config.json", Assert.Throws<FileNotFoundException>(() => HfFolder.Load(_dir, cpu)).Message, StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(_dir, "config.json"), "{}");
        Assert.Contains("no model.safetensors", Assert.Throws<FileNotFoundException>(() => HfFolder.Load(_dir, cpu)).Message, StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(_dir, "model.safetensors.index.json"), "{}");
        Assert.Contains("sharded checkpoint", Assert.Throws<LmFormatException>(() => HfFolder.Load(_dir, cpu)).Message, StringComparison.Ordinal);
    }
}
