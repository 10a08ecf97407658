// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// A seeded random llama-architecture model with a placeholder SentencePiece vocabulary (specials, the 256 byte tokens
// at ids 3..258, then numbered pieces), written as GGUF: a speed subject for `quick decode-llamacpp` and a subject for
// llama.cpp's quantiser in the tests. Weights are uniform with scales that keep activations O(1).
using HpcCore.Cpu;
using HpcCore.Models.Lm;
using HpcCore.Models.Lm.Loading;
using HpcCore.Models.Lm.Loading.Gguf;
using HpcCore.Tensors;

namespace HpcCore.Benchmarks.Quick;

/// <summary>Writes random llama GGUF files.</summary>
public static class RandomLlamaModel
{
    /// <summary>Writes a model of <paramref name="config"/> (vocabulary at least 259) to <paramref name="path"/> as <paramref name="type"/>.</summary>
    public static void WriteGguf(string path, LmConfig config, GgufTensorType type, int seed)
    {
        using var cpu = new CpuBackend(threads: 1);
        var rng = new Random(seed);
        Tensor T(int rows, int cols, float scale, float offset = 0f)
        {
            var data = new float[rows * cols];
            for (int i = 0; i < data.Length; i++) data[i] = offset + scale * (float)(rng.NextDouble() * 2 - 1);
            return Tensor.From<float>(data, cols == 1 ? new Shape(rows) : new Shape(rows, cols), cpu);
        }
        float w = 1f / MathF.Sqrt(config.Dim);
        var layers = new LmLayerWeights[config.Layers];
        for (int l = 0; l < config.Layers; l++)
            layers[l] = new LmLayerWeights
            {
                AttnNorm = T(config.Dim, 1, 0.2f, 1f), Wq = T(config.Dim, config.Dim, 2 * w), Wk = T(config.KvDim, config.Dim, 2 * w),
                Wv = T(config.KvDim, config.Dim, w), Wo = T(config.Dim, config.Dim, w), FfnNorm = T(config.Dim, 1, 0.2f, 1f),
                Gate = T(config.HiddenDim, config.Dim, w), Up = T(config.HiddenDim, config.Dim, w),
                Down = T(config.Dim, config.HiddenDim, 1f / MathF.Sqrt(config.HiddenDim)),
            };
        using var weights = new LmWeights
        {
            TokenEmbedding = T(config.VocabSize, config.Dim, 1f), Layers = layers, FinalNorm = T(config.Dim, 1, 0.2f, 1f),
            Classifier = T(config.VocabSize, config.Dim, 4 * w),
        };
        GgufLlamaWriter.Write(path, config, weights, Vocabulary(config.VocabSize), type, "random-llama");
    }

    /// <summary>&lt;unk&gt;, &lt;s&gt;, &lt;/s&gt;, the byte tokens, then pieces "p259", "p260", ... with descending scores.</summary>
    public static LlamaCTokenizer Vocabulary(int size)
    {
        if (size < 259) throw new ArgumentOutOfRangeException(nameof(size), $"RandomLlamaModel: vocabulary {size} is below 259 (3 specials + 256 bytes).");
        var pieces = new byte[size][];
        var scores = new float[size];
        for (int i = 0; i < size; i++)
        {
            string text = i switch { 0 => "<unk>", 1 => "<s>", 2 => "</s>", < 259 => $"<0x{i - 3:X2}>", _ => $"p{i}" };
            pieces[i] = System.Text.Encoding.UTF8.GetBytes(text);
            scores[i] = i < 259 ? 0f : -i;
        }
        return LlamaCTokenizer.FromPieces(pieces, scores, bosId: 1, eosId: 2);
    }
}
