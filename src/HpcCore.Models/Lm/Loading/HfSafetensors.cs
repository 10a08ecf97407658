// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm.Loading;

using System.Globalization;
using HpcCore.Devices;
using HpcCore.Kernels;
using HpcCore.Models.Weights;
using HpcCore.Tensors;

/// <summary>
/// Decoder LMs from safetensors files with Hugging Face tensor names: LlamaForCausalLM (<c>model.layers.N.self_attn.q_proj.weight</c>
/// ..., rotate-half RoPE) and GPT2LMHeadModel (<c>transformer.h.N.attn.c_attn.weight</c> ..., Conv1D weights stored
/// [in, out], transposed here). Shapes come from the tensors; the head count (not recoverable from shapes) and the
/// context length come from the caller or the file's <c>__metadata__</c> (<c>num_attention_heads</c>, <c>max_position_embeddings</c>).
/// </summary>
public static class HfSafetensors
{
    /// <summary>Loads a Llama or GPT-2 checkpoint (detected from the tensor names) onto <paramref name="backend"/>.</summary>
    /// <exception cref="LmFormatException">A tensor is missing or has the wrong shape, or the sizes do not make a
    /// model (the message names the tensor or field). Nothing loaded before the failure is kept.</exception>
    public static (LmConfig Config, LmWeights Weights) Load(SafetensorsReader reader, IBackend backend, int heads = 0, int maxSeqLen = 0)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(backend);
        using var scope = reader.TrackLoads();
        try
        {
            var (config, weights) = LoadTracked(reader, backend, heads, maxSeqLen);
            LmWeightShapes.Check(config, weights, $"HfSafetensors: {reader.Source}");
            scope.Commit();
            return (config, weights);
        }
        catch (Exception e) when (e is KeyNotFoundException or ArgumentException or DivideByZeroException or OverflowException or InvalidOperationException)
        {
            // Disposing the scope releases every tensor loaded so far, and with them the file mapping.
            throw new LmFormatException($"HfSafetensors: {reader.Source}: {e.Message}", e);
        }
    }

    private static (LmConfig Config, LmWeights Weights) LoadTracked(SafetensorsReader reader, IBackend backend, int heads, int maxSeqLen)
    {
        heads = heads > 0 ? heads : Meta(reader, "num_attention_heads");
        if (reader.Contains("model.embed_tokens.weight")) return LoadLlama(reader, backend, heads, maxSeqLen > 0 ? maxSeqLen : Meta(reader, "max_position_embeddings"));
        string prefix = reader.Contains("transformer.wte.weight") ? "transformer." : reader.Contains("wte.weight") ? "" :
            throw new LmFormatException($"HfSafetensors: {reader.Source} has neither model.embed_tokens.weight (Llama) nor transformer.wte.weight (GPT-2).");
        return LoadGpt2(reader, backend, heads, prefix);
    }

    private static int Meta(SafetensorsReader reader, string key) =>
        reader.Metadata.TryGetValue(key, out var v) && int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n > 0 ? n
            : throw new LmFormatException($"HfSafetensors: {reader.Source} does not give {key} in its metadata; pass it explicitly.");

    private static int CountLayers(SafetensorsReader reader, string format)
    {
        int n = 0;
        while (reader.Contains(string.Format(CultureInfo.InvariantCulture, format, n))) n++;
        return n;
    }

    private static (LmConfig, LmWeights) LoadLlama(SafetensorsReader r, IBackend b, int heads, int maxSeqLen)
    {
        var emb = r.Load("model.embed_tokens.weight", b);
        int layers = CountLayers(r, "model.layers.{0}.input_layernorm.weight");
        var k0 = r.GetEntry("model.layers.0.self_attn.k_proj.weight");
        var up0 = r.GetEntry("model.layers.0.mlp.up_proj.weight");
        int dim = emb.Shape[1];
        if (heads > dim) throw new LmFormatException($"HfSafetensors: {r.Source}: num_attention_heads = {heads} is above the model width {dim}.");
        int headDim = dim / heads;
        var config = new LmConfig(LmArchitecture.Llama, dim, up0.Shape[0], layers, heads, k0.Shape[0] / headDim, emb.Shape[0], maxSeqLen,
            RopeLayout: RopeLayout.HalfSplit);
        config.Validate();
        var list = new LmLayerWeights[layers];
        for (int l = 0; l < layers; l++)
        {
            string p = $"model.layers.{l}.";
            list[l] = new LmLayerWeights
            {
                AttnNorm = r.Load(p + "input_layernorm.weight", b),
                Wq = r.Load(p + "self_attn.q_proj.weight", b),
                Wk = r.Load(p + "self_attn.k_proj.weight", b),
                Wv = r.Load(p + "self_attn.v_proj.weight", b),
                Wo = r.Load(p + "self_attn.o_proj.weight", b),
                FfnNorm = r.Load(p + "post_attention_layernorm.weight", b),
                Gate = r.Load(p + "mlp.gate_proj.weight", b),
                Up = r.Load(p + "mlp.up_proj.weight", b),
                Down = r.Load(p + "mlp.down_proj.weight", b),
            };
        }
        var weights = new LmWeights
        {
            TokenEmbedding = emb,
            Layers = list,
            FinalNorm = r.Load("model.norm.weight", b),
            Classifier = r.Contains("lm_head.weight") ? r.Load("lm_head.weight", b) : emb,
        };
        return (config, weights);
    }

    private static (LmConfig, LmWeights) LoadGpt2(SafetensorsReader r, IBackend b, int heads, string t)
    {
        var wte = r.Load(t + "wte.weight", b);
        var wpe = r.Load(t + "wpe.weight", b);
        int layers = CountLayers(r, t + "h.{0}.ln_1.weight");
        int dim = wte.Shape[1];
        int hidden = r.GetEntry(t + "h.0.mlp.c_fc.weight").Shape[1];
        var config = new LmConfig(LmArchitecture.Gpt2, dim, hidden, layers, heads, heads, wte.Shape[0], wpe.Shape[0]);
        config.Validate();
        // Conv1D keeps weights [in, out]; the decoder multiplies [out, in] transposed.
        Tensor Linear(string name) { using var w = r.Load(name, b); using var tr = w.Transpose(0, 1); return tr.Contiguous(); }
        Tensor Rows(Tensor all, int start, int length) { using var v = all.Narrow(0, start, length); return v.Contiguous(); }
        var list = new LmLayerWeights[layers];
        for (int l = 0; l < layers; l++)
        {
            string p = $"{t}h.{l}.";
            using var qkv = Linear(p + "attn.c_attn.weight");
            using var qkvBias = r.Load(p + "attn.c_attn.bias", b);
            list[l] = new LmLayerWeights
            {
                AttnNorm = r.Load(p + "ln_1.weight", b),
                AttnNormBias = r.Load(p + "ln_1.bias", b),
                Wq = Rows(qkv, 0, dim),
                Wk = Rows(qkv, dim, dim),
                Wv = Rows(qkv, 2 * dim, dim),
                Bq = Rows(qkvBias, 0, dim),
                Bk = Rows(qkvBias, dim, dim),
                Bv = Rows(qkvBias, 2 * dim, dim),
                Wo = Linear(p + "attn.c_proj.weight"),
                Bo = r.Load(p + "attn.c_proj.bias", b),
                FfnNorm = r.Load(p + "ln_2.weight", b),
                FfnNormBias = r.Load(p + "ln_2.bias", b),
                Up = Linear(p + "mlp.c_fc.weight"),
                UpBias = r.Load(p + "mlp.c_fc.bias", b),
                Down = Linear(p + "mlp.c_proj.weight"),
                DownBias = r.Load(p + "mlp.c_proj.bias", b),
            };
        }
        var weights = new LmWeights
        {
            TokenEmbedding = wte,
            PositionEmbedding = wpe,
            Layers = list,
            FinalNorm = r.Load(t + "ln_f.weight", b),
            FinalNormBias = r.Load(t + "ln_f.bias", b),
            Classifier = wte,
        };
        return (config, weights);
    }
}
