// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm.Loading;

using System.Text.Json;
using HpcCore.Kernels;
using HpcCore.Models.Lm.Positional;

/// <summary>
/// A Hugging Face <c>config.json</c> read strictly: the model type must be one this decoder runs (llama, mistral,
/// qwen2, gpt2, with a matching <c>architectures</c> entry when one is given), and every key the forward depends on
/// must be present: nothing the numerics depend on (rope_theta, rms_norm_eps, layer_norm_epsilon) is defaulted. The
/// keys Hugging Face itself defaults in a way that cannot change the numbers silently are taken as it does:
/// <c>num_key_value_heads</c> absent means multi-head attention, <c>tie_word_embeddings</c> absent means the
/// model class default (untied for Llama, tied for GPT-2).
/// </summary>
/// <param name="Config">The decoder shape and numerics.</param>
/// <param name="ModelType">config.json's <c>model_type</c>.</param>
/// <param name="TieWordEmbeddings">Whether the classifier is the token embedding.</param>
/// <param name="AttentionBias">Whether q/k/v projections carry biases (Qwen2; Llama with <c>attention_bias</c>).</param>
/// <param name="OutputBias">Whether o_proj carries a bias (Llama with <c>attention_bias</c>).</param>
public sealed record HfModelConfig(LmConfig Config, string ModelType, bool TieWordEmbeddings, bool AttentionBias, bool OutputBias)
{
    private static readonly Dictionary<string, string> Architectures = new(StringComparer.Ordinal)
    {
        ["llama"] = "LlamaForCausalLM",
        ["mistral"] = "MistralForCausalLM",
        ["qwen2"] = "Qwen2ForCausalLM",
        ["gpt2"] = "GPT2LMHeadModel",
    };

    /// <summary>The model types this loader reads.</summary>
    public static IReadOnlyCollection<string> ModelTypes => Architectures.Keys;

    /// <summary>Reads <paramref name="path"/> (a config.json).</summary>
    public static HfModelConfig Read(string path)
    {
        var json = HfJson.Open(path, 1 << 20, out var document);
        using (document) return Parse(json);
    }

    internal static HfModelConfig Parse(HfJson j)
    {
        string type = j.OptionalString("model_type") ?? throw j.Missing("model_type", $"expected one of {string.Join(", ", ModelTypes)}");
        if (!Architectures.TryGetValue(type, out string? architecture))
            throw new LmFormatException($"HfFolder.Load: '{j.Path}': model_type \"{type}\" is not supported; this decoder runs {string.Join(", ", ModelTypes)}.");
        if (j.Has("architectures"))
        {
            var list = j.Root.GetProperty("architectures");
            if (list.ValueKind != JsonValueKind.Array || !list.EnumerateArray().Any(a => a.ValueKind == JsonValueKind.String && a.GetString() == architecture))
                throw j.Bad("architectures", $"does not name {architecture}, the causal-LM class of model_type \"{type}\"");
        }
        return type == "gpt2" ? Gpt2(j) : LlamaFamily(j, type);
    }

    private static HfModelConfig LlamaFamily(HfJson j, string type)
    {
        if (j.OptionalString("hidden_act") is { } act && act != "silu")
            throw j.Bad("hidden_act", "is not supported; the SwiGLU feed-forward here uses silu");
        if (j.OptionalBool("mlp_bias") == true) throw j.Bad("mlp_bias", "is not supported (no feed-forward biases in this decoder)");
        if (j.OptionalNumber("partial_rotary_factor", 0, 1) is { } partial && partial != 1)
            throw j.Bad("partial_rotary_factor", "is not supported; every head dim rotates here");
        int dim = j.PositiveInt("hidden_size"), heads = j.PositiveInt("num_attention_heads");
        int kvHeads = j.OptionalPositiveInt("num_key_value_heads") ?? heads;
        if (dim % heads != 0) throw j.Bad("hidden_size", $"is not divisible by num_attention_heads = {heads}");
        if (j.OptionalPositiveInt("head_dim") is { } headDim && headDim != dim / heads)
            throw j.Bad("head_dim", $"differs from hidden_size / num_attention_heads = {dim / heads}; only that head dim is supported");
        int context = j.PositiveInt("max_position_embeddings");
        // Mistral's sliding window: within it, full attention is the same computation; past it, it is not, so the
        // decoder's context is capped at the window and longer sequences are refused rather than decoded differently.
        if (type != "llama" && j.OptionalBool("use_sliding_window") != false && j.OptionalPositiveInt("sliding_window") is { } window)
            context = Math.Min(context, window);
        bool bias = type == "qwen2" || j.OptionalBool("attention_bias") == true;
        var config = new LmConfig(LmArchitecture.Llama, dim, j.PositiveInt("intermediate_size"), j.PositiveInt("num_hidden_layers"), heads, kvHeads,
            j.PositiveInt("vocab_size"), context, (float)j.PositiveNumber("rms_norm_eps"), (float)j.PositiveNumber("rope_theta"),
            RopeLayout.HalfSplit, RopeScaling(j));
        Validate(j, config);
        return new HfModelConfig(config, type, j.OptionalBool("tie_word_embeddings") ?? false, bias, OutputBias: type != "qwen2" && bias);
    }

    private static HfModelConfig Gpt2(HfJson j)
    {
        if (j.OptionalString("activation_function") is { } act && act != "gelu_new")
            throw j.Bad("activation_function", "is not supported; GPT-2's MLP here is gelu_new (tanh GELU)");
        int dim = j.PositiveInt("n_embd");
        int hidden = j.OptionalPositiveInt("n_inner") ?? checked(4 * dim);
        int heads = j.PositiveInt("n_head");
        var config = new LmConfig(LmArchitecture.Gpt2, dim, hidden, j.PositiveInt("n_layer"), heads, heads, j.PositiveInt("vocab_size"),
            j.PositiveInt("n_positions"), (float)j.PositiveNumber("layer_norm_epsilon"));
        Validate(j, config);
        if (j.OptionalBool("tie_word_embeddings") == false) throw j.Bad("tie_word_embeddings", "is not supported for GPT-2 (its head is the token embedding)");
        return new HfModelConfig(config, "gpt2", true, true, true);
    }

    private static Llama3RopeScaling? RopeScaling(HfJson j)
    {
        if (!j.Has("rope_scaling")) return null;
        var element = j.Root.GetProperty("rope_scaling");
        if (element.ValueKind != JsonValueKind.Object) throw j.Bad("rope_scaling", "is not an object or null");
        var s = HfJson.Of(j.Path + " rope_scaling", element);
        string kind = s.OptionalString("rope_type") ?? s.OptionalString("type") ?? throw s.Missing("rope_type");
        if (kind == "default") return null;
        if (kind != "llama3")
            throw new LmFormatException($"HfFolder.Load: '{j.Path}': rope_scaling.rope_type \"{kind}\" is not supported; only llama3 scaling is implemented.");
        var scaling = new Llama3RopeScaling(s.PositiveNumber("factor"), s.PositiveNumber("low_freq_factor"), s.PositiveNumber("high_freq_factor"),
            s.PositiveInt("original_max_position_embeddings"));
        try
        {
            scaling.Validate();
        }
        catch (ArgumentException e)
        {
            throw new LmFormatException($"HfFolder.Load: '{j.Path}': {e.Message}", e);
        }
        return scaling;
    }

    private static void Validate(HfJson j, LmConfig config)
    {
        try
        {
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new LmFormatException($"HfFolder.Load: '{j.Path}' describes an inconsistent model: {e.Message}", e);
        }
    }
}
