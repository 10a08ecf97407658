// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Encoder;

using System.Text.Json;

/// <summary>
/// A BERT-family encoder's shape (Hugging Face <c>BertConfig</c> names): post-LayerNorm blocks of self-attention and
/// a GELU MLP over learned absolute positions (Devlin et al. 2019, "BERT", section 3), plus the sentence-transformers
/// pooling that turns tokens into one embedding (Reimers &amp; Gurevych 2019, "Sentence-BERT", section 3).
/// </summary>
/// <param name="Hidden">Model width D (<c>hidden_size</c>).</param>
/// <param name="Layers">Blocks (<c>num_hidden_layers</c>).</param>
/// <param name="Heads">Attention heads H (<c>num_attention_heads</c>); D / H is the head size.</param>
/// <param name="Intermediate">MLP width (<c>intermediate_size</c>).</param>
/// <param name="VocabSize">Token embedding rows (<c>vocab_size</c>).</param>
/// <param name="MaxPositions">Position embedding rows, the longest input (<c>max_position_embeddings</c>).</param>
/// <param name="TypeVocabSize">Segment embedding rows (<c>type_vocab_size</c>); every token here is segment 0.</param>
/// <param name="LayerNormEpsilon">LayerNorm epsilon (<c>layer_norm_eps</c>; BERT uses 1e-12).</param>
/// <param name="TanhGelu">GELU by its tanh approximation (<c>hidden_act</c> "gelu_new"/"gelu_pytorch_tanh")
/// rather than by erf ("gelu", BERT's own).</param>
/// <param name="Pooling">Sentence pooling.</param>
public sealed record EncoderConfig(
    int Hidden,
    int Layers,
    int Heads,
    int Intermediate,
    int VocabSize,
    int MaxPositions,
    int TypeVocabSize = 2,
    float LayerNormEpsilon = 1e-12f,
    bool TanhGelu = false,
    EncoderPooling Pooling = EncoderPooling.Mean)
{
    // Upper bounds for an untrusted config.json: far above any released BERT-family encoder, low enough that
    // nothing derived from them (weights, activations) overflows an int or asks for absurd memory.
    private const int MaxHidden = 1 << 14, MaxLayers = 256, MaxIntermediate = 1 << 16, MaxVocab = 1 << 22, MaxPositionRows = 1 << 16;

    /// <summary>Head size D / H.</summary>
    public int HeadDim => Hidden / Heads;

    /// <summary>Throws <see cref="EncoderFormatException"/> naming the first field out of range.</summary>
    public void Validate(string source = "EncoderConfig")
    {
        Check(source, "hidden_size", Hidden, MaxHidden);
        Check(source, "num_hidden_layers", Layers, MaxLayers);
        Check(source, "num_attention_heads", Heads, Hidden);
        Check(source, "intermediate_size", Intermediate, MaxIntermediate);
        Check(source, "vocab_size", VocabSize, MaxVocab);
        Check(source, "max_position_embeddings", MaxPositions, MaxPositionRows);
        Check(source, "type_vocab_size", TypeVocabSize, 1024);
        if (Hidden % Heads != 0)
            throw new EncoderFormatException($"{source}: hidden_size {Hidden} is not a multiple of num_attention_heads {Heads}.");
        if (!(LayerNormEpsilon > 0f && LayerNormEpsilon < 1f))
            throw new EncoderFormatException($"{source}: layer_norm_eps {LayerNormEpsilon} is outside (0, 1).");
    }

    private static void Check(string source, string key, int value, int max)
    {
        if (value < 1 || value > max)
            throw new EncoderFormatException($"{source}: {key} = {value} is outside 1..{max}.");
    }

    /// <summary>
    /// Reads a Hugging Face <c>config.json</c> (untrusted: sizes are range-checked, unknown activations refused).
    /// <paramref name="pooling"/> comes from sentence-transformers' <c>1_Pooling/config.json</c>, not from this file.
    /// </summary>
    public static EncoderConfig FromJson(ReadOnlySpan<byte> json, EncoderPooling pooling = EncoderPooling.Mean, string source = "config.json")
    {
        JsonDocument doc;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 16 });
            doc = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException e)
        {
            throw new EncoderFormatException($"{source}: not valid JSON ({e.Message}).", e);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new EncoderFormatException($"{source}: the top level is not a JSON object.");
            try
            {
                UntrustedJson.ReadEveryString(root);
            }
            catch (InvalidOperationException e)
            {
                throw new EncoderFormatException($"{source}: a name or string is not valid Unicode ({e.Message}).", e);
            }
            string type = String(root, "model_type", "bert", source);
            // RoBERTa's positions start after its padding id and DistilBERT has no segments: only BERT's layout is read.
            if (type != "bert")
                throw new EncoderFormatException($"{source}: model_type '{type}' is not supported (bert).");
            string act = String(root, "hidden_act", "gelu", source);
            bool tanh = act switch
            {
                "gelu" => false,
                "gelu_new" or "gelu_pytorch_tanh" => true,
                _ => throw new EncoderFormatException($"{source}: hidden_act '{act}' is not supported (gelu, gelu_new, gelu_pytorch_tanh)."),
            };
            var config = new EncoderConfig(
                Int(root, "hidden_size", source), Int(root, "num_hidden_layers", source), Int(root, "num_attention_heads", source),
                Int(root, "intermediate_size", source), Int(root, "vocab_size", source), Int(root, "max_position_embeddings", source),
                root.TryGetProperty("type_vocab_size", out _) ? Int(root, "type_vocab_size", source) : 2,
                (float)Number(root, "layer_norm_eps", 1e-12, source), tanh, pooling);
            config.Validate(source);
            return config;
        }
    }

    private static string String(JsonElement root, string key, string fallback, string source)
    {
        if (!root.TryGetProperty(key, out var v)) return fallback;
        if (v.ValueKind != JsonValueKind.String)
            throw new EncoderFormatException($"{source}: {key} is not a string ({v.GetRawText()}).");
        return v.GetString()!; // decodable: FromJson read every string once (UntrustedJson)
    }

    /// <summary>This configuration as a Hugging Face <c>config.json</c> (BertModel).</summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartArray("architectures");
            w.WriteStringValue("BertModel");
            w.WriteEndArray();
            w.WriteString("model_type", "bert");
            w.WriteNumber("hidden_size", Hidden);
            w.WriteNumber("num_hidden_layers", Layers);
            w.WriteNumber("num_attention_heads", Heads);
            w.WriteNumber("intermediate_size", Intermediate);
            w.WriteNumber("vocab_size", VocabSize);
            w.WriteNumber("max_position_embeddings", MaxPositions);
            w.WriteNumber("type_vocab_size", TypeVocabSize);
            w.WriteNumber("layer_norm_eps", (double)LayerNormEpsilon);
            w.WriteString("hidden_act", TanhGelu ? "gelu_pytorch_tanh" : "gelu");
            w.WriteString("position_embedding_type", "absolute");
            w.WriteString("torch_dtype", "float32");
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static int Int(JsonElement root, string key, string source)
    {
        if (!root.TryGetProperty(key, out var v)) throw new EncoderFormatException($"{source}: {key} is missing.");
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int n))
            throw new EncoderFormatException($"{source}: {key} is not a 32-bit integer ({v.GetRawText()}).");
        return n;
    }

    private static double Number(JsonElement root, string key, double fallback, string source)
    {
        if (!root.TryGetProperty(key, out var v)) return fallback;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double d))
            throw new EncoderFormatException($"{source}: {key} is not a number ({v.GetRawText()}).");
        return d;
    }
}
