// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Model loaders on bad files (issue #21): only their documented exception types, nothing left mapped after a failed
// load, out-of-range parameters refused at load, and the opt-in check naming non-finite weights.
namespace HpcCore.Tests.Models;

using System.Runtime.InteropServices;
using Google.Protobuf;
using HpcCore.Cpu;
using HpcCore.Models.Lm.Loading;
using HpcCore.Models.Vit;
using HpcCore.Models.Weights;
using HpcCore.Tensors;
using HpcCore.Tests.Models.Lm;
using HpcCore.Tests.Models.Vit;
using Xunit;

[Collection("MappingCount")]
public sealed class LoaderHardeningTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hpccore-hardening-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WriteLlama(CpuBackend cpu, string drop, IReadOnlyDictionary<string, string>? meta = null)
    {
        var config = LmTestModels.Llama();
        using var w = LmTestModels.Random(config, cpu, seed: 3);
        var named = HfSafetensorsTests.LlamaNames(config, w);
        named.Remove(drop);
        string path = Path.Combine(_dir, $"llama-{Guid.NewGuid():N}.safetensors");
        SafetensorsWriter.Write(path, named, meta ?? new Dictionary<string, string> { ["num_attention_heads"] = $"{config.Heads}", ["max_position_embeddings"] = $"{config.MaxSeqLen}" });
        return path;
    }

    [Fact]
    public void HfLoad_MissingTensor_IsAFormatErrorAndReleasesTheMapping()
    {
        using var cpu = new CpuBackend(threads: 1);
        string path = WriteLlama(cpu, drop: "model.layers.1.mlp.down_proj.weight");
        long before = MappedWeightsFile.LiveCount;
        for (int i = 0; i < 20; i++)
        {
            using var reader = SafetensorsReader.Open(path);
            var ex = Assert.Throws<LmFormatException>(() => HfSafetensors.Load(reader, cpu));
            Assert.Contains("model.layers.1.mlp.down_proj.weight", ex.Message);
        }
        // Each failed load used to keep its whole file mapping alive (the embedding and early layers held leases).
        Assert.Equal(before, MappedWeightsFile.LiveCount);
    }

    [Fact]
    public void HfLoad_MoreHeadsThanWidth_IsAFormatErrorNamingTheKey()
    {
        using var cpu = new CpuBackend(threads: 1);
        var config = LmTestModels.Llama();
        string path = WriteLlama(cpu, drop: "", new Dictionary<string, string> { ["num_attention_heads"] = $"{config.Dim * 2}", ["max_position_embeddings"] = "64" });
        long before = MappedWeightsFile.LiveCount;
        using (var reader = SafetensorsReader.Open(path))
        {
            string message = Assert.Throws<LmFormatException>(() => HfSafetensors.Load(reader, cpu)).Message;
            Assert.True(message.Contains("num_attention_heads", StringComparison.Ordinal), message);
        }
        Assert.Equal(before, MappedWeightsFile.LiveCount);
    }

    [Fact]
    public void HfLoad_WrongTensorShape_IsRefusedAtLoad()
    {
        using var cpu = new CpuBackend(threads: 1);
        var config = LmTestModels.Llama();
        using var w = LmTestModels.Random(config, cpu, seed: 3);
        var named = HfSafetensorsTests.LlamaNames(config, w);
        using var wrong = Tensor.From<float>(new float[config.Dim * 3], new Shape(3, config.Dim), cpu);
        named["model.layers.0.self_attn.o_proj.weight"] = wrong;
        string path = Path.Combine(_dir, "shape.safetensors");
        SafetensorsWriter.Write(path, named, new Dictionary<string, string> { ["num_attention_heads"] = $"{config.Heads}", ["max_position_embeddings"] = "64" });
        using var reader = SafetensorsReader.Open(path);
        string message = Assert.Throws<LmFormatException>(() => HfSafetensors.Load(reader, cpu)).Message;
        Assert.True(message.Contains("model.layers.0.self_attn.o_proj.weight", StringComparison.Ordinal), message);
    }

    [Theory]
    [InlineData("heads", "three", "metadata heads = 'three' is not an integer")]
    [InlineData("layer_norm_eps", "1e-6x", "metadata layer_norm_eps")]
    [InlineData("layer_norm_eps", "NaN", "metadata layer_norm_eps = 'NaN' is not a finite number")]
    [InlineData("layer_norm_eps", "-1", "LayerNormEpsilon")]
    [InlineData("std", "0", "Std")]
    [InlineData("mean", "0.5,zz", "metadata mean")]
    public void VitLoad_BadMetadata_IsASafetensorsFormatError(string key, string value, string message)
    {
        using var cpu = new CpuBackend(threads: 1);
        string path = Path.Combine(_dir, "vit.safetensors");
        using (var src = SafetensorsReader.Open(VitGoldenTests.RepoFile("assets/vit/vit-fmnist.safetensors")))
        {
            var meta = new Dictionary<string, string>(src.Metadata) { [key] = value };
            var tensors = src.Entries.Select(e => new KeyValuePair<string, Tensor>(e.Name, src.Load(e.Name, cpu))).ToList();
            SafetensorsWriter.Write(path, tensors, meta);
            foreach (var (_, t) in tensors) t.Dispose();
        }
        // FormatException escaped for malformed numbers; eps -1 / NaN and std 0 were accepted and gave NaN logits.
        var ex = Assert.Throws<SafetensorsFormatException>(() => VitWeightsLoader.Load(path, cpu));
        Assert.Contains(message, ex.Message);
    }

    [Fact]
    public void WeightsCheck_NamesNonFiniteTensors_AndTheLoaderRefusesThemWhenAsked()
    {
        using var cpu = new CpuBackend(threads: 1);
        string path = Path.Combine(_dir, "nan.safetensors");
        using (var src = SafetensorsReader.Open(VitGoldenTests.RepoFile("assets/vit/vit-fmnist.safetensors")))
        {
            var tensors = new List<KeyValuePair<string, Tensor>>();
            foreach (var e in src.Entries)
            {
                var values = MemoryMarshal.Cast<byte, float>(src.GetBytes(e.Name)).ToArray();
                if (e.Name == "blocks.0.attn.proj.bias") { values[1] = float.NaN; values[2] = float.PositiveInfinity; }
                tensors.Add(new(e.Name, Tensor.From<float>(values, e.Shape, cpu)));
            }
            SafetensorsWriter.Write(path, tensors, src.Metadata.ToDictionary());
            foreach (var (_, t) in tensors) t.Dispose();
        }
        var found = Assert.Single(WeightsCheck.FindNonFinite(path));
        Assert.Equal(("blocks.0.attn.proj.bias", 2L), (found.Name, found.NonFinite));
        using (VitWeightsLoader.Load(path, cpu)) { } // off by default
        var ex = Assert.Throws<SafetensorsFormatException>(() => VitWeightsLoader.Load(path, cpu, checkWeights: true));
        Assert.Contains("blocks.0.attn.proj.bias (2 non-finite)", ex.Message);
        Assert.Empty(WeightsCheck.FindNonFinite(VitGoldenTests.RepoFile("assets/vit/vit-fmnist.safetensors")));
    }

    [Theory]
    [InlineData("{\"model\": {\"type\": \"\\ud800\", \"vocab\": {}}}")]
    [InlineData("{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"\\udc00x\": 0}}}")]
    public void TokenizerJson_BadStrings_AreEncoderFormatErrors(string json)
    {
        // A lone surrogate in the model type escaped as InvalidOperationException (found by ./build.sh fuzz).
        string path = Path.Combine(_dir, "tokenizer.json");
        File.WriteAllText(path, json);
        Assert.Throws<HpcCore.Models.Encoder.EncoderFormatException>(() => HpcCore.Models.Encoder.EncoderTokenizer.FromTokenizerJson(path, lowerCase: true));
    }

    [Fact]
    public void HfFolder_KeyWithALoneSurrogate_IsAFormatError()
    {
        // Found by ./build.sh fuzz: the key lookup threw InvalidOperationException.
        File.WriteAllBytes(Path.Combine(_dir, "model.safetensors"), []);
        File.WriteAllText(Path.Combine(_dir, "config.json"), "{\"num_attention_heads\": 2, \"max_position_embeddings\": 32, \"\\ud922x\": 0}");
        using var cpu = new CpuBackend(threads: 1);
        string message = Assert.Throws<LmFormatException>(() => HfFolder.Load(_dir, cpu)).Message;
        Assert.True(message.Contains("not valid Unicode", StringComparison.Ordinal), message);
    }

    // Found by the coverage-guided fuzzer's run once the hf-folder-config.json target had a complete seed: strings
    // System.Text.Json cannot unescape or transcode (a lone surrogate escape, invalid UTF-8) in a value, or in a name of
    // a nested object, threw InvalidOperationException where they were first read.
    [Theory]
    [InlineData("{\"model_type\": \"\\ud800\"}")]
    [InlineData("{\"model_type\": \"llama\", \"architectures\": [\"\\udc00\"]}")]
    [InlineData("{\"model_type\": \"llama\", \"rope_scaling\": {\"\\ud800x\": 1}}")]
    [InlineData("{\"model_type\": \"llama\", \"architectures\": [\"Llama\u00FF\"]}")] // \u00FF stands for the raw byte 0xFF
    public void HfFolder_StringsThatAreNotUnicode_AreFormatErrors(string json)
    {
        File.WriteAllBytes(Path.Combine(_dir, "model.safetensors"), []);
        // Latin-1 keeps \u00FF a single byte 0xFF: not UTF-8.
        File.WriteAllBytes(Path.Combine(_dir, "config.json"), System.Text.Encoding.Latin1.GetBytes(json));
        using var cpu = new CpuBackend(threads: 1);
        string message = Assert.Throws<LmFormatException>(() => HfFolder.Load(_dir, cpu)).Message;
        Assert.True(message.Contains("not valid Unicode", StringComparison.Ordinal), message);
        Assert.Throws<LmFormatException>(() => HfFolder.Generation(WithGenerationConfig(json)));
    }

    private string WithGenerationConfig(string json)
    {
        string folder = Path.Combine(_dir, "generation");
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, "generation_config.json"), System.Text.Encoding.Latin1.GetBytes(json.Replace("model_type", "eos_token_id", StringComparison.Ordinal)));
        return folder;
    }

    [Fact]
    public void OnnxImport_InitializerOfRankNine_IsAnOnnxFormatError()
    {
        // Found by ./build.sh fuzz: Shape's ArgumentException escaped the importer.
        var t = new HpcCore.Models.Onnx.Protos.TensorProto { Name = "embeddings.LayerNorm.weight", DataType = 1, RawData = Google.Protobuf.ByteString.CopyFrom(new byte[4]) };
        t.Dims.AddRange(Enumerable.Repeat(1L, 9));
        var model = new HpcCore.Models.Onnx.Protos.ModelProto { Graph = new HpcCore.Models.Onnx.Protos.GraphProto { Initializer = { t } } };
        using var cpu = new CpuBackend(threads: 1);
        var e = Assert.Throws<HpcCore.Models.Onnx.OnnxFormatException>(() =>
            HpcCore.Models.Onnx.BertOnnxImporter.Import(HpcCore.Models.Onnx.OnnxModelFile.Parse(model.ToByteArray(), "rank9"), 2, HpcCore.Models.Encoder.EncoderPooling.Mean, cpu));
        Assert.Contains("rank 9", e.Message);
    }

    [Fact]
    public void LmConfig_RefusesBadEpsilonAndHugeContext()
    {
        var ok = LmTestModels.Llama();
        Assert.Throws<ArgumentException>(() => (ok with { NormEpsilon = float.NaN }).Validate());
        Assert.Throws<ArgumentException>(() => (ok with { NormEpsilon = -1f }).Validate());
        Assert.Throws<ArgumentException>(() => (ok with { MaxSeqLen = int.MaxValue }).Validate());
        ok.Validate();
    }
}

/// <summary>Tests that read the process-wide count of file mappings run alone.</summary>
[CollectionDefinition("MappingCount", DisableParallelization = true)]
public sealed class MappingCountGroup;
