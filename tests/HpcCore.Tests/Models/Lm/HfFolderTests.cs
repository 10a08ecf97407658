// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.Lm;

using System.Text.Json.Nodes;
using HpcCore.Cpu;
using HpcCore.Kernels;
using HpcCore.Models.Lm.Loading;
using HpcCore.Models.Weights;
using HpcCore.Tensors;
using HpcCore.Testing;
using HpcCore.Testing.Reference;
using Xunit;

/// <summary>
/// A Hugging Face folder: config.json gives what the tensors cannot (heads, context, RoPE base, epsilon) and is read
/// strictly; shard indexes are checked shard by shard; every refusal names the key, file or tensor.
/// </summary>
public sealed class HfFolderTests : IDisposable
{
    private const string LlamaConfig = """
        {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 24, "intermediate_size": 31, "num_hidden_layers": 2,
         "num_attention_heads": 6, "num_key_value_heads": 2, "vocab_size": 37, "max_position_embeddings": 256,
         "rope_theta": 500000.0, "rms_norm_eps": 1e-06, "tie_word_embeddings": false}
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("hpccore-hf-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void LlamaFolder_TakesItsSettingsFromConfigJson()
    {
        using var cpu = new CpuBackend(threads: 1);
        var config = LmTestModels.Llama() with { RopeLayout = RopeLayout.HalfSplit, RopeTheta = 500000f, NormEpsilon = 1e-6f };
        using var w = LmTestModels.Random(config, cpu, seed: 23);
        using (var file = File.Create(Path.Combine(_dir, "model.safetensors"))) SafetensorsWriter.Write(file, HfSafetensorsTests.LlamaNames(config, w));
        File.WriteAllText(Path.Combine(_dir, "config.json"), LlamaConfig);
        var (loadedConfig, loaded) = HfFolder.Load(_dir, cpu);
        using (loaded)
        {
            Assert.Equal(config, loadedConfig);
            int[] tokens = TestData.Ints(9, 5, config.VocabSize);
            Assert.Equal(ReferenceLm.Forward(LmTestModels.Reference(config, w), tokens), ReferenceLm.Forward(LmTestModels.Reference(loadedConfig, loaded), tokens));
        }
    }

    [Theory]
    [InlineData("{}", "has no model_type")]
    [InlineData("""{"model_type": "falcon"}""", "model_type \"falcon\" is not supported")]
    [InlineData("""{"model_type": "llama", "architectures": ["FalconForCausalLM"]}""", "does not name LlamaForCausalLM")]
    [InlineData("-rope_theta", "has no rope_theta")]
    [InlineData("-rms_norm_eps", "has no rms_norm_eps")]
    [InlineData("-hidden_size", "has no hidden_size")]
    [InlineData("-max_position_embeddings", "has no max_position_embeddings")]
    [InlineData("num_attention_heads=\"six\"", "num_attention_heads = \"six\" is not a positive integer")]
    [InlineData("rope_theta=-1", "rope_theta = -1 is not a positive number")]
    [InlineData("num_key_value_heads=4", "Heads = 6 is not divisible by KvHeads = 4")]
    [InlineData("head_dim=8", "head_dim = 8 differs from hidden_size / num_attention_heads = 4")]
    [InlineData("hidden_act=\"gelu\"", "hidden_act = \"gelu\" is not supported")]
    [InlineData("rope_scaling={\"rope_type\": \"yarn\", \"factor\": 4}", "rope_scaling.rope_type \"yarn\" is not supported")]
    [InlineData("rope_scaling={\"rope_type\": \"llama3\", \"low_freq_factor\": 1, \"high_freq_factor\": 4, \"original_max_position_embeddings\": 64}", "has no factor")]
    [InlineData("rope_scaling={\"rope_type\": \"llama3\", \"factor\": 8, \"low_freq_factor\": 4, \"high_freq_factor\": 4, \"original_max_position_embeddings\": 64}", "high_freq_factor = 4 must be finite and above low_freq_factor")]
    [InlineData("[6]", "is not a JSON object")]
    public void BadConfig_ThrowsFormatError_NamingTheKey(string edit, string message)
    {
        File.WriteAllBytes(Path.Combine(_dir, "model.safetensors"), []);
        File.WriteAllText(Path.Combine(_dir, "config.json"), Edited(LlamaConfig, edit));
        using var cpu = new CpuBackend(threads: 1);
        Assert.Contains(message, Assert.Throws<LmFormatException>(() => HfFolder.Load(_dir, cpu)).Message, StringComparison.Ordinal);
    }

    // "-key" drops a key, "key=json" sets one, anything else is the whole file.
    private static string Edited(string json, string edit)
    {
        if (edit.StartsWith('-'))
        {
            var o = JsonNode.Parse(json)!.AsObject();
            o.Remove(edit[1..]);
            return o.ToJsonString();
        }
        int eq = edit.IndexOf('=', StringComparison.Ordinal);
        if (eq > 0 && !edit.StartsWith('{'))
        {
            var o = JsonNode.Parse(json)!.AsObject();
            o[edit[..eq]] = JsonNode.Parse(edit[(eq + 1)..]);
            return o.ToJsonString();
        }
        return edit;
    }

    [Fact]
    public void MissingPieces_AreRefusedByName()
    {
        using var cpu = new CpuBackend(threads: 1);
        Assert.Contains("no config.json", Assert.Throws<FileNotFoundException>(() => HfFolder.Load(_dir, cpu)).Message, StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(_dir, "config.json"), LlamaConfig);
        Assert.Contains("neither model.safetensors nor model.safetensors.index.json", Assert.Throws<FileNotFoundException>(() => HfFolder.Load(_dir, cpu)).Message, StringComparison.Ordinal);
    }

    private string CopyGolden(string name)
    {
        foreach (var f in Directory.GetFiles(HfGoldenTests.Folder(name))) File.Copy(f, Path.Combine(_dir, Path.GetFileName(f)));
        return _dir;
    }

    private void EditIndex(Action<JsonObject> edit)
    {
        string path = Path.Combine(_dir, "model.safetensors.index.json");
        var o = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(o["weight_map"]!.AsObject());
        File.WriteAllText(path, o.ToJsonString());
    }

    private string LoadError<T>() where T : Exception
    {
        using var cpu = new CpuBackend(threads: 1);
        return Assert.Throws<T>(() => HfFolder.Load(_dir, cpu)).Message;
    }

    [Theory]
    [InlineData("llama3-tiny")]  // BF16 shards: the projections are the file's own bits, never widened
    [InlineData("gpt2-tiny")]    // F16 Conv1D weights, transposed and split after the load: rounded to BF16
    public void Bf16Option_StoresTheLinearWeightsInBf16_AndTheRestAsBefore(string name)
    {
        CopyGolden(name);
        using var cpu = new CpuBackend(threads: 1);
        var (_, f32) = HfFolder.Load(_dir, cpu);
        using var __ = f32;
        var (_, bf16) = HfFolder.Load(_dir, cpu, null, new LmLoadOptions(DType.BF16));
        using var ___ = bf16;
        static void Same(Tensor wide, Tensor narrow, string what)
        {
            Assert.True(narrow.DType == DType.BF16, $"{what} is {narrow.DType}");
            Assert.Equal(wide.ToArray<float>().Select(ReferenceConvert.ToBf16).ToArray(), narrow.ToArray<ushort>());
        }
        foreach (var (w, b) in f32.Layers.Zip(bf16.Layers))
        {
            Same(w.Wq, b.Wq, "Wq");
            Same(w.Wk, b.Wk, "Wk");
            Same(w.Wv, b.Wv, "Wv");
            Same(w.Wo, b.Wo, "Wo");
            Same(w.Up, b.Up, "Up");
            Same(w.Down, b.Down, "Down");
            if (w.Gate is not null) Same(w.Gate, b.Gate!, "Gate");
            Assert.Equal(DType.F32, b.AttnNorm.DType);
            Assert.Equal(w.AttnNorm.ToArray<float>(), b.AttnNorm.ToArray<float>());
        }
        Assert.Equal(DType.F32, bf16.TokenEmbedding.DType);
        if (ReferenceEquals(bf16.Classifier, bf16.TokenEmbedding)) Assert.True(ReferenceEquals(f32.Classifier, f32.TokenEmbedding));
        else Same(f32.Classifier, bf16.Classifier, "Classifier");
    }

    [Fact]
    public void Shards_MissingShard_IsNamed()
    {
        CopyGolden("llama3-tiny");
        File.Delete(Path.Combine(_dir, "model-00002-of-00002.safetensors"));
        Assert.Contains("names shard 'model-00002-of-00002.safetensors'", LoadError<FileNotFoundException>(), StringComparison.Ordinal);
    }

    [Fact]
    public void Shards_PathOutsideTheFolder_IsRefused()
    {
        CopyGolden("llama3-tiny");
        EditIndex(m => m["model.norm.weight"] = "../model-00001-of-00002.safetensors");
        Assert.Contains("is not a file name beside the index", LoadError<LmFormatException>(), StringComparison.Ordinal);
    }

    [Fact]
    public void Shards_TensorInTheWrongShard_IsNamed()
    {
        CopyGolden("llama3-tiny");
        EditIndex(m => m["model.norm.weight"] = m["model.norm.weight"]!.GetValue<string>().Contains("00001", StringComparison.Ordinal)
            ? "model-00002-of-00002.safetensors" : "model-00001-of-00002.safetensors");
        Assert.Contains("model.norm.weight in 'model-0000", LoadError<LmFormatException>(), StringComparison.Ordinal);
    }

    [Fact]
    public void Shards_TensorMissingFromTheMap_IsNamed()
    {
        CopyGolden("llama3-tiny");
        EditIndex(m => m.Remove("model.layers.1.mlp.up_proj.weight"));
        Assert.Contains("has no tensor model.layers.1.mlp.up_proj.weight", LoadError<LmFormatException>(), StringComparison.Ordinal);
    }

    [Fact]
    public void Shards_TruncatedShard_IsAFormatError()
    {
        CopyGolden("llama3-tiny");
        string shard = Path.Combine(_dir, "model-00002-of-00002.safetensors");
        var bytes = File.ReadAllBytes(shard);
        File.WriteAllBytes(shard, bytes[..(bytes.Length - 100)]);
        Assert.Contains("model-00002-of-00002.safetensors", LoadError<SafetensorsFormatException>(), StringComparison.Ordinal);
    }

    [Fact]
    public void ShapeDifferingFromTheConfig_NamesTheTensor()
    {
        CopyGolden("llama3-tiny");
        string path = Path.Combine(_dir, "config.json");
        var o = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        o["intermediate_size"] = 161;
        File.WriteAllText(path, o.ToJsonString());
        Assert.Contains("model.layers.0.mlp.gate_proj.weight has shape [160, 64]; the model config needs [161, 64]", LoadError<LmFormatException>(), StringComparison.Ordinal);
    }
}
