// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.Encoder;

using HpcCore.Cpu;
using HpcCore.Models.Encoder;
using HpcCore.Tensors;
using HpcCore.Testing;

/// <summary>Seeded random small BERTs as Hugging Face tensors (host arrays keyed by HF name) and folders.</summary>
internal static class EncoderTestModels
{
    public static EncoderConfig Small(EncoderPooling pooling = EncoderPooling.Mean, bool tanhGelu = false) =>
        new(Hidden: 16, Layers: 2, Heads: 4, Intermediate: 24, VocabSize: 50, MaxPositions: 40, TypeVocabSize: 2,
            LayerNormEpsilon: 1e-12f, TanhGelu: tanhGelu, Pooling: pooling);

    /// <summary>HF BertModel tensors ([out, in] linear weights) with O(1) activations.</summary>
    public static Dictionary<string, (float[] Data, int[] Shape)> RandomTensors(EncoderConfig c, int seed)
    {
        int s = seed;
        var t = new Dictionary<string, (float[], int[])>(StringComparer.Ordinal);
        void Add(string name, float scale, params int[] shape)
        {
            int n = shape.Aggregate(1, (a, b) => a * b);
            t[name] = (TestData.Uniform(n, s++).Select(x => x * scale).ToArray(), shape);
        }
        void Gamma(string name, int n) => t[name] = (TestData.Uniform(n, s++).Select(x => 1f + 0.2f * x).ToArray(), [n]);
        int d = c.Hidden, i = c.Intermediate;
        float w = 1f / MathF.Sqrt(d);
        Add("embeddings.word_embeddings.weight", 1f, c.VocabSize, d);
        Add("embeddings.position_embeddings.weight", 0.5f, c.MaxPositions, d);
        Add("embeddings.token_type_embeddings.weight", 0.5f, c.TypeVocabSize, d);
        Gamma("embeddings.LayerNorm.weight", d);
        Add("embeddings.LayerNorm.bias", 0.1f, d);
        for (int l = 0; l < c.Layers; l++)
        {
            string p = $"encoder.layer.{l}.";
            foreach (var proj in new[] { "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense" })
            {
                Add(p + proj + ".weight", 2 * w, d, d);
                Add(p + proj + ".bias", 0.1f, d);
            }
            Gamma(p + "attention.output.LayerNorm.weight", d);
            Add(p + "attention.output.LayerNorm.bias", 0.1f, d);
            Add(p + "intermediate.dense.weight", 2 * w, i, d);
            Add(p + "intermediate.dense.bias", 0.1f, i);
            Add(p + "output.dense.weight", 1f / MathF.Sqrt(i), d, i);
            Add(p + "output.dense.bias", 0.1f, d);
            Gamma(p + "output.LayerNorm.weight", d);
            Add(p + "output.LayerNorm.bias", 0.1f, d);
        }
        return t;
    }

    /// <summary>A vocabulary of 50 pieces: specials, letters a-z and a few continuation pieces.</summary>
    public static string Vocab()
    {
        var pieces = new List<string> { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", "," };
        for (char ch = 'a'; ch <= 'z'; ch++) pieces.Add(ch.ToString());
        foreach (var w in new[] { "the", "cat", "sat", "on", "mat", "##s", "##ed", "dog", "ran", "a", "red", "hat", "sun", "run", "##ing", "big", "is" })
            if (!pieces.Contains(w)) pieces.Add(w);
        while (pieces.Count < 50) pieces.Add($"##x{pieces.Count}");
        return string.Join('\n', pieces) + "\n";
    }

    /// <summary>Writes a complete HF folder for <paramref name="c"/> and returns its tensors.</summary>
    public static Dictionary<string, (float[] Data, int[] Shape)> WriteFolder(string folder, EncoderConfig c, int seed)
    {
        var host = RandomTensors(c, seed);
        using var cpu = new CpuBackend(1);
        var tensors = host.ToDictionary(kv => kv.Key, kv => Tensor.From<float>(kv.Value.Data, new Shape(kv.Value.Shape), cpu));
        try
        {
            EncoderFolder.Write(folder, c, tensors, Vocab(), lowerCase: true);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
        return host;
    }
}
