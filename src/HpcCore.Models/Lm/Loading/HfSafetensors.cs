// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm.Loading;

using System.Globalization;
using HpcCore.Devices;
using HpcCore.Kernels;
using HpcCore.Models.Weights;
using HpcCore.Tensors;

/// <summary>
/// Decoder LMs from safetensors with Hugging Face tensor names: the Llama family (LlamaForCausalLM, Mistral, Qwen2:
/// <c>model.layers.N.self_attn.q_proj.weight</c> ..., rotate-half RoPE, q/k/v biases where the config says) and
/// GPT2LMHeadModel (<c>transformer.h.N.attn.c_attn.weight</c> ..., Conv1D weights stored [in, out], transposed
/// here). With a config (<see cref="HfFolder"/>) every tensor's shape is checked against it; a bare file takes its
/// shapes from the tensors and the head count and context from its <c>__metadata__</c>, with <c>rope_theta</c>,
/// <c>rms_norm_eps</c> / <c>layer_norm_epsilon</c> from there too when given (else 10000 and 1e-5: load the folder
/// with its config.json to have them checked).
/// </summary>
public static class HfSafetensors
{
    /// <summary>Loads a bare Llama or GPT-2 safetensors file (detected from the tensor names) onto <paramref name="backend"/>.</summary>
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
        HfModelConfig hf;
        if (reader.Contains("model.embed_tokens.weight"))
        {
            var emb = reader.GetEntry("model.embed_tokens.weight").Shape;
            int dim = emb[1];
            if (heads > dim) throw new LmFormatException($"HfSafetensors: {reader.Source}: num_attention_heads = {heads} is above the model width {dim}.");
            int headDim = dim / heads;
            var config = new LmConfig(LmArchitecture.Llama, dim, reader.GetEntry("model.layers.0.mlp.up_proj.weight").Shape[0],
                CountLayers(reader, "model.layers.{0}.input_layernorm.weight"), heads,
                reader.GetEntry("model.layers.0.self_attn.k_proj.weight").Shape[0] / headDim, emb[0],
                maxSeqLen > 0 ? maxSeqLen : Meta(reader, "max_position_embeddings"), RopeLayout: RopeLayout.HalfSplit);
            config = config with
            {
                RopeTheta = MetaNumber(reader, "rope_theta") ?? config.RopeTheta,
                NormEpsilon = MetaNumber(reader, "rms_norm_eps") ?? config.NormEpsilon,
            };
            hf = new HfModelConfig(config, "llama", !reader.Contains("lm_head.weight"), false, false);
        }
        else
        {
            string t = Gpt2Prefix(reader.Contains) ?? throw new LmFormatException(
                $"HfSafetensors: {reader.Source} has neither model.embed_tokens.weight (Llama) nor transformer.wte.weight (GPT-2).");
            var wte = reader.GetEntry(t + "wte.weight").Shape;
            var config = new LmConfig(LmArchitecture.Gpt2, wte[1], reader.GetEntry(t + "h.0.mlp.c_fc.weight").Shape[1],
                CountLayers(reader, t + "h.{0}.ln_1.weight"), heads, heads, wte[0], reader.GetEntry(t + "wpe.weight").Shape[0]);
            config = config with { NormEpsilon = MetaNumber(reader, "layer_norm_epsilon") ?? config.NormEpsilon };
            hf = new HfModelConfig(config, "gpt2", true, true, true);
        }
        hf.Config.Validate();
        // The caller keeps the reader: wrap it in a view that does not dispose it.
        var files = HfTensorFiles.Wrap(reader);
        return (hf.Config, LoadWeights(files, hf, backend));
    }

    /// <summary>
    /// Loads the weights <paramref name="hf"/> describes from <paramref name="files"/>; on any failure every tensor
    /// loaded so far is disposed. The files may be closed afterwards (zero-copy tensors keep their mapping alive).
    /// </summary>
    public static LmWeights LoadWeights(HfTensorFiles files, HfModelConfig hf, IBackend backend)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(hf);
        try
        {
            return hf.Config.Architecture == LmArchitecture.Llama ? LoadLlama(files, hf, backend) : LoadGpt2(files, hf.Config, backend);
        }
        catch
        {
            files.Release();
            throw;
        }
    }

    private static string? Gpt2Prefix(Func<string, bool> contains) =>
        contains("transformer.wte.weight") ? "transformer." : contains("wte.weight") ? "" : null;

    private static int Meta(SafetensorsReader reader, string key) =>
        reader.Metadata.TryGetValue(key, out var v) && int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n > 0 ? n
            : throw new LmFormatException($"HfSafetensors: {reader.Source} does not give {key} in its metadata; pass it explicitly, or load the Hugging Face folder with its config.json.");

    // An optional positive number in __metadata__ (rope_theta, epsilons); absent: the decoder's Llama 2 / GPT-2 default.
    private static float? MetaNumber(SafetensorsReader reader, string key) =>
        !reader.Metadata.TryGetValue(key, out var v) ? null
            : float.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out float x) && x > 0 && float.IsFinite(x) ? x
            : throw new LmFormatException($"HfSafetensors: {reader.Source}: __metadata__ {key} = \"{v}\" is not a positive number.");

    private static int CountLayers(SafetensorsReader reader, string format)
    {
        int n = 0;
        while (reader.Contains(string.Format(CultureInfo.InvariantCulture, format, n))) n++;
        return n;
    }

    private static LmWeights LoadLlama(HfTensorFiles r, HfModelConfig hf, IBackend b)
    {
        var c = hf.Config;
        Shape vec = new(c.Dim), kv = new(c.KvDim), square = new(c.Dim, c.Dim), kvProj = new(c.KvDim, c.Dim), up = new(c.HiddenDim, c.Dim);
        var emb = r.Load("model.embed_tokens.weight", b, new Shape(c.VocabSize, c.Dim));
        var list = new LmLayerWeights[c.Layers];
        for (int l = 0; l < c.Layers; l++)
        {
            string p = $"model.layers.{l}.";
            list[l] = new LmLayerWeights
            {
                AttnNorm = r.Load(p + "input_layernorm.weight", b, vec),
                Wq = r.LoadLinear(p + "self_attn.q_proj.weight", b, square),
                Wk = r.LoadLinear(p + "self_attn.k_proj.weight", b, kvProj),
                Wv = r.LoadLinear(p + "self_attn.v_proj.weight", b, kvProj),
                Wo = r.LoadLinear(p + "self_attn.o_proj.weight", b, square),
                Bq = hf.AttentionBias ? r.Load(p + "self_attn.q_proj.bias", b, vec) : null,
                Bk = hf.AttentionBias ? r.Load(p + "self_attn.k_proj.bias", b, kv) : null,
                Bv = hf.AttentionBias ? r.Load(p + "self_attn.v_proj.bias", b, kv) : null,
                Bo = hf.OutputBias ? r.Load(p + "self_attn.o_proj.bias", b, vec) : null,
                FfnNorm = r.Load(p + "post_attention_layernorm.weight", b, vec),
                Gate = r.LoadLinear(p + "mlp.gate_proj.weight", b, up),
                Up = r.LoadLinear(p + "mlp.up_proj.weight", b, up),
                Down = r.LoadLinear(p + "mlp.down_proj.weight", b, new Shape(c.Dim, c.HiddenDim)),
            };
        }
        return new LmWeights
        {
            TokenEmbedding = emb,
            Layers = list,
            FinalNorm = r.Load("model.norm.weight", b, vec),
            Classifier = hf.TieWordEmbeddings ? emb : r.LoadLinear("lm_head.weight", b, new Shape(c.VocabSize, c.Dim)),
        };
    }

    private static LmWeights LoadGpt2(HfTensorFiles r, LmConfig c, IBackend b)
    {
        string t = Gpt2Prefix(r.Contains) ?? throw new LmFormatException($"HfFolder.Load: {r.Source} has no transformer.wte.weight, which a GPT-2 config needs.");
        int dim = c.Dim;
        Shape vec = new(dim);
        var wte = r.Load(t + "wte.weight", b, new Shape(c.VocabSize, dim));
        var wpe = r.Load(t + "wpe.weight", b, new Shape(c.MaxSeqLen, dim));
        // Conv1D keeps weights [in, out]; the decoder multiplies [out, in] transposed.
        Tensor Linear(string name, int inputs, int outputs)
        {
            using var w = r.LoadLinear(name, b, new Shape(inputs, outputs));
            using var tr = w.Transpose(0, 1);
            return r.Track(tr.Contiguous());
        }
        Tensor Rows(Tensor all, int start, int length) { using var v = all.Narrow(0, start, length); return r.Track(v.Contiguous()); }
        var list = new LmLayerWeights[c.Layers];
        for (int l = 0; l < c.Layers; l++)
        {
            string p = $"{t}h.{l}.";
            using var qkv = Linear(p + "attn.c_attn.weight", dim, 3 * dim);
            using var qkvBias = r.Load(p + "attn.c_attn.bias", b, new Shape(3 * dim));
            list[l] = new LmLayerWeights
            {
                AttnNorm = r.Load(p + "ln_1.weight", b, vec),
                AttnNormBias = r.Load(p + "ln_1.bias", b, vec),
                Wq = Rows(qkv, 0, dim),
                Wk = Rows(qkv, dim, dim),
                Wv = Rows(qkv, 2 * dim, dim),
                Bq = Rows(qkvBias, 0, dim),
                Bk = Rows(qkvBias, dim, dim),
                Bv = Rows(qkvBias, 2 * dim, dim),
                Wo = Linear(p + "attn.c_proj.weight", dim, dim),
                Bo = r.Load(p + "attn.c_proj.bias", b, vec),
                FfnNorm = r.Load(p + "ln_2.weight", b, vec),
                FfnNormBias = r.Load(p + "ln_2.bias", b, vec),
                Up = Linear(p + "mlp.c_fc.weight", dim, c.HiddenDim),
                UpBias = r.Load(p + "mlp.c_fc.bias", b, new Shape(c.HiddenDim)),
                Down = Linear(p + "mlp.c_proj.weight", c.HiddenDim, dim),
                DownBias = r.Load(p + "mlp.c_proj.bias", b, vec),
            };
        }
        return new LmWeights
        {
            TokenEmbedding = wte,
            PositionEmbedding = wpe,
            Layers = list,
            FinalNorm = r.Load(t + "ln_f.weight", b, vec),
            FinalNormBias = r.Load(t + "ln_f.bias", b, vec),
            Classifier = wte,
        };
    }
}
