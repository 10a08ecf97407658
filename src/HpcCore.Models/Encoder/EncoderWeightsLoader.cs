// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Encoder;

using System.Runtime.InteropServices;
using HpcCore.Devices;
using HpcCore.Models.Weights;
using HpcCore.Tensors;

/// <summary>
/// Loads BertModel weights from a safetensors file with Hugging Face names (<c>embeddings.word_embeddings.weight</c>,
/// <c>encoder.layer.N.attention.self.query.weight</c>, ...; a <c>bert.</c> prefix is accepted). Every tensor's dtype
/// (F32) and shape are checked against the config before it is used.
/// </summary>
public static class EncoderWeightsLoader
{
    /// <summary>Loads every tensor the encoder needs onto <paramref name="backend"/>.</summary>
    public static EncoderWeights Load(SafetensorsReader reader, EncoderConfig config, IBackend backend)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(backend);
        config.Validate();
        string p = reader.Contains("bert.embeddings.word_embeddings.weight") ? "bert." : "";
        int d = config.Hidden, inter = config.Intermediate;
        var owned = new List<Tensor>();
        Tensor Up(float[] data, params int[] shape)
        {
            var t = Tensor.From<float>(data, new Shape(shape), backend);
            owned.Add(t);
            return t;
        }
        float[] Read(string name, params int[] shape) => Host(reader, p + name, shape);
        try
        {
            var word = Up(Read("embeddings.word_embeddings.weight", config.VocabSize, d), config.VocabSize, d);
            var pos = Read("embeddings.position_embeddings.weight", config.MaxPositions, d);
            var type = Read("embeddings.token_type_embeddings.weight", config.TypeVocabSize, d);
            for (int i = 0; i < pos.Length; i++) pos[i] += type[i % d];
            var weights = new EncoderWeights
            {
                Config = config,
                WordEmbeddings = word,
                PositionBias = Up(pos, config.MaxPositions, d),
                EmbeddingNormWeight = Up(Read("embeddings.LayerNorm.weight", d), d),
                EmbeddingNormBias = Up(Read("embeddings.LayerNorm.bias", d), d),
                Layers = new EncoderLayerWeights[config.Layers],
            };
            for (int l = 0; l < config.Layers; l++)
            {
                string n = $"encoder.layer.{l}.";
                weights.Layers[l] = new EncoderLayerWeights
                {
                    QkvWeight = Up([.. Read(n + "attention.self.query.weight", d, d), .. Read(n + "attention.self.key.weight", d, d),
                        .. Read(n + "attention.self.value.weight", d, d)], 3 * d, d),
                    QkvBias = Up([.. Read(n + "attention.self.query.bias", d), .. Read(n + "attention.self.key.bias", d),
                        .. Read(n + "attention.self.value.bias", d)], 3 * d),
                    OutWeight = Up(Read(n + "attention.output.dense.weight", d, d), d, d),
                    OutBias = Up(Read(n + "attention.output.dense.bias", d), d),
                    AttentionNormWeight = Up(Read(n + "attention.output.LayerNorm.weight", d), d),
                    AttentionNormBias = Up(Read(n + "attention.output.LayerNorm.bias", d), d),
                    UpWeight = Up(Read(n + "intermediate.dense.weight", inter, d), inter, d),
                    UpBias = Up(Read(n + "intermediate.dense.bias", inter), inter),
                    DownWeight = Up(Read(n + "output.dense.weight", d, inter), d, inter),
                    DownBias = Up(Read(n + "output.dense.bias", d), d),
                    OutputNormWeight = Up(Read(n + "output.LayerNorm.weight", d), d),
                    OutputNormBias = Up(Read(n + "output.LayerNorm.bias", d), d),
                };
            }
            return weights;
        }
        catch
        {
            foreach (var t in owned) t.Dispose();
            throw;
        }
    }

    private static float[] Host(SafetensorsReader reader, string name, int[] shape)
    {
        if (!reader.TryGetEntry(name, out var entry))
            throw new EncoderFormatException($"EncoderWeightsLoader: {reader.Source} has no tensor '{name}'.");
        var expected = new Shape(shape);
        if (entry.DType != DType.F32 || entry.Shape != expected)
            throw new EncoderFormatException($"EncoderWeightsLoader: '{name}' in {reader.Source} is {entry.DType} {entry.Shape}; " +
                $"the config needs F32 {expected}.");
        return MemoryMarshal.Cast<byte, float>(reader.GetBytes(name)).ToArray();
    }
}
