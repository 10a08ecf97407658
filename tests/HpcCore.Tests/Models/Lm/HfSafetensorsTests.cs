// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.Lm;

using HpcCore.Cpu;
using HpcCore.Models.Lm;
using HpcCore.Models.Lm.Loading;
using HpcCore.Models.Weights;
using HpcCore.Tensors;
using HpcCore.Testing;
using HpcCore.Testing.Reference;
using Xunit;

/// <summary>Hugging Face tensor names: a model written under Llama / GPT-2 names loads back to the same forward.</summary>
public sealed class HfSafetensorsTests
{
    [Fact]
    public void Llama_RoundTrips()
    {
        using var cpu = new CpuBackend(threads: 1);
        var config = LmTestModels.Llama() with { RopeLayout = HpcCore.Kernels.RopeLayout.HalfSplit };
        using var w = LmTestModels.Random(config, cpu, seed: 21);
        AssertSameForward(config, w, LlamaNames(config, w), new Dictionary<string, string> { ["num_attention_heads"] = "6", ["max_position_embeddings"] = $"{config.MaxSeqLen}" }, cpu);
    }

    /// <summary><paramref name="w"/>'s tensors under LlamaForCausalLM's names.</summary>
    internal static Dictionary<string, Tensor> LlamaNames(LmConfig config, LmWeights w)
    {
        var named = new Dictionary<string, Tensor> { ["model.embed_tokens.weight"] = w.TokenEmbedding, ["model.norm.weight"] = w.FinalNorm, ["lm_head.weight"] = w.Classifier };
        for (int l = 0; l < config.Layers; l++)
        {
            var x = w.Layers[l];
            string p = $"model.layers.{l}.";
            named[p + "input_layernorm.weight"] = x.AttnNorm;
            named[p + "self_attn.q_proj.weight"] = x.Wq;
            named[p + "self_attn.k_proj.weight"] = x.Wk;
            named[p + "self_attn.v_proj.weight"] = x.Wv;
            named[p + "self_attn.o_proj.weight"] = x.Wo;
            named[p + "post_attention_layernorm.weight"] = x.FfnNorm;
            named[p + "mlp.gate_proj.weight"] = x.Gate!;
            named[p + "mlp.up_proj.weight"] = x.Up;
            named[p + "mlp.down_proj.weight"] = x.Down;
        }
        return named;
    }

    [Fact]
    public void Gpt2_RoundTrips_WithConv1DTransposes()
    {
        using var cpu = new CpuBackend(threads: 1);
        var config = LmTestModels.Gpt2();
        using var w = LmTestModels.Random(config, cpu, seed: 22);
        var owned = new List<Tensor>();
        Tensor T(Tensor x) { var t = x.Transpose(0, 1).Contiguous(); owned.Add(t); return t; }
        Tensor Cat(Tensor a, Tensor b, Tensor c, bool matrix)
        {
            var data = a.ToArray<float>().Concat(b.ToArray<float>()).Concat(c.ToArray<float>()).ToArray();
            var t = Tensor.From<float>(data, matrix ? new Shape(3 * config.Dim, config.Dim) : new Shape(3 * config.Dim), cpu);
            owned.Add(t);
            return matrix ? T(t) : t;
        }
        var named = new Dictionary<string, Tensor>
        {
            ["transformer.wte.weight"] = w.TokenEmbedding, ["transformer.wpe.weight"] = w.PositionEmbedding!,
            ["transformer.ln_f.weight"] = w.FinalNorm, ["transformer.ln_f.bias"] = w.FinalNormBias!,
        };
        for (int l = 0; l < config.Layers; l++)
        {
            var x = w.Layers[l];
            string p = $"transformer.h.{l}.";
            named[p + "ln_1.weight"] = x.AttnNorm;
            named[p + "ln_1.bias"] = x.AttnNormBias!;
            named[p + "attn.c_attn.weight"] = Cat(x.Wq, x.Wk, x.Wv, matrix: true);
            named[p + "attn.c_attn.bias"] = Cat(x.Bq!, x.Bk!, x.Bv!, matrix: false);
            named[p + "attn.c_proj.weight"] = T(x.Wo);
            named[p + "attn.c_proj.bias"] = x.Bo!;
            named[p + "ln_2.weight"] = x.FfnNorm;
            named[p + "ln_2.bias"] = x.FfnNormBias!;
            named[p + "mlp.c_fc.weight"] = T(x.Up);
            named[p + "mlp.c_fc.bias"] = x.UpBias!;
            named[p + "mlp.c_proj.weight"] = T(x.Down);
            named[p + "mlp.c_proj.bias"] = x.DownBias!;
        }
        AssertSameForward(config, w, named, new Dictionary<string, string> { ["num_attention_heads"] = $"{config.Heads}" }, cpu);
        foreach (var t in owned) t.Dispose();
    }

    [Fact]
    public void Llama_RopeThetaAndEpsilon_FromMetadata()
    {
        using var cpu = new CpuBackend(threads: 1);
        var config = LmTestModels.Llama() with { RopeLayout = HpcCore.Kernels.RopeLayout.HalfSplit, RopeTheta = 500000f, NormEpsilon = 1e-6f };
        using var w = LmTestModels.Random(config, cpu, seed: 24);
        AssertSameForward(config, w, LlamaNames(config, w), new Dictionary<string, string>
        {
            ["num_attention_heads"] = "6", ["max_position_embeddings"] = $"{config.MaxSeqLen}", ["rope_theta"] = "500000", ["rms_norm_eps"] = "1e-6",
        }, cpu);
        var ms = new MemoryStream();
        SafetensorsWriter.Write(ms, LlamaNames(config, w), new Dictionary<string, string> { ["num_attention_heads"] = "6", ["max_position_embeddings"] = "256", ["rope_theta"] = "-3" });
        using var reader = SafetensorsReader.FromBytes(ms.ToArray());
        Assert.Contains("rope_theta = \"-3\" is not a positive number", Assert.Throws<LmFormatException>(() => HfSafetensors.Load(reader, cpu)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingHeadCount_Throws()
    {
        using var cpu = new CpuBackend(threads: 1);
        using var e = Tensor.Zeros(new Shape(5, 4), DType.F32, cpu);
        var ms = new MemoryStream();
        SafetensorsWriter.Write(ms, new Dictionary<string, Tensor> { ["model.embed_tokens.weight"] = e });
        using var reader = SafetensorsReader.FromBytes(ms.ToArray());
        Assert.Contains("num_attention_heads", Assert.Throws<LmFormatException>(() => HfSafetensors.Load(reader, cpu)).Message, StringComparison.Ordinal);
    }

    private static void AssertSameForward(LmConfig config, LmWeights w, Dictionary<string, Tensor> named, Dictionary<string, string> meta, CpuBackend cpu)
    {
        var ms = new MemoryStream();
        SafetensorsWriter.Write(ms, named, meta);
        using var reader = SafetensorsReader.FromBytes(ms.ToArray());
        var (loadedConfig, loaded) = HfSafetensors.Load(reader, cpu);
        using var _ = loaded;
        Assert.Equal(config, loadedConfig);
        int[] tokens = TestData.Ints(11, 4, config.VocabSize);
        Assert.Equal(ReferenceLm.Forward(LmTestModels.Reference(config, w), tokens), ReferenceLm.Forward(LmTestModels.Reference(loadedConfig, loaded), tokens));
    }
}
