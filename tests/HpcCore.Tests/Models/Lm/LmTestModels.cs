// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.Lm;

using HpcCore.Devices;
using HpcCore.Models.Lm;
using HpcCore.Tensors;
using HpcCore.Testing;
using HpcCore.Testing.Reference;

/// <summary>Random small models in both architectures, their reference twins, and the stories260K files.</summary>
internal static class LmTestModels
{
    public static LmConfig Llama(int dim = 24, int heads = 6, int kvHeads = 2, int layers = 2, int vocab = 37, int hidden = 31, int seq = 256) =>
        new(LmArchitecture.Llama, dim, hidden, layers, heads, kvHeads, vocab, seq);

    public static LmConfig Gpt2(int dim = 24, int heads = 4, int layers = 2, int vocab = 41, int hidden = 33, int seq = 96) =>
        new(LmArchitecture.Gpt2, dim, hidden, layers, heads, heads, vocab, seq);

    /// <summary>Seeded random weights for <paramref name="c"/> (scales keep activations O(1)).</summary>
    public static LmWeights Random(LmConfig c, IBackend backend, int seed)
    {
        int s = seed;
        bool gpt = c.Architecture == LmArchitecture.Gpt2;
        Tensor T(int rows, int cols, float scale) =>
            Tensor.From<float>(Scaled(TestData.Uniform(rows * cols, s++), scale), cols == 1 ? new Shape(rows) : new Shape(rows, cols), backend);
        Tensor Gamma(int n) => Tensor.From<float>(Scaled(TestData.Uniform(n, s++), 0.2f).Select(x => x + 1f).ToArray(), new Shape(n), backend);
        Tensor? Opt(bool present, int n, float scale) => present ? T(n, 1, scale) : null;
        float w = 1f / MathF.Sqrt(c.Dim);
        var layers = new LmLayerWeights[c.Layers];
        for (int l = 0; l < c.Layers; l++)
        {
            layers[l] = new LmLayerWeights
            {
                AttnNorm = Gamma(c.Dim),
                AttnNormBias = Opt(gpt, c.Dim, 0.1f),
                Wq = T(c.Dim, c.Dim, 2 * w),
                Wk = T(c.KvDim, c.Dim, 2 * w),
                Wv = T(c.KvDim, c.Dim, w),
                Wo = T(c.Dim, c.Dim, w),
                Bq = Opt(gpt, c.Dim, 0.1f),
                Bk = Opt(gpt, c.KvDim, 0.1f),
                Bv = Opt(gpt, c.KvDim, 0.1f),
                Bo = Opt(gpt, c.Dim, 0.1f),
                FfnNorm = Gamma(c.Dim),
                FfnNormBias = Opt(gpt, c.Dim, 0.1f),
                Up = T(c.HiddenDim, c.Dim, w),
                UpBias = Opt(gpt, c.HiddenDim, 0.1f),
                Gate = gpt ? null : T(c.HiddenDim, c.Dim, w),
                Down = T(c.Dim, c.HiddenDim, 1f / MathF.Sqrt(c.HiddenDim)),
                DownBias = Opt(gpt, c.Dim, 0.1f),
            };
        }
        var emb = T(c.VocabSize, c.Dim, 1f);
        return new LmWeights
        {
            TokenEmbedding = emb,
            PositionEmbedding = gpt ? T(c.MaxSeqLen, c.Dim, 0.5f) : null,
            Layers = layers,
            FinalNorm = Gamma(c.Dim),
            FinalNormBias = Opt(gpt, c.Dim, 0.1f),
            Classifier = gpt ? emb : T(c.VocabSize, c.Dim, w),
        };
    }

    /// <summary>The reference twin of <paramref name="w"/>.</summary>
    public static ReferenceLmModel Reference(LmConfig c, LmWeights w)
    {
        static float[]? A(Tensor? t) => t?.ToArray<float>();
        var layers = w.Layers.Select(l => new ReferenceLmLayer(A(l.AttnNorm)!, A(l.AttnNormBias), A(l.Wq)!, A(l.Wk)!, A(l.Wv)!, A(l.Wo)!,
            A(l.Bq), A(l.Bk), A(l.Bv), A(l.Bo), A(l.FfnNorm)!, A(l.FfnNormBias), A(l.Up)!, A(l.UpBias), A(l.Gate), A(l.Down)!, A(l.DownBias))).ToArray();
        return new ReferenceLmModel(c.Architecture == LmArchitecture.Llama, c.Dim, c.HiddenDim, c.Heads, c.KvHeads, c.VocabSize, c.NormEpsilon,
            c.RopeTheta, c.RopeLayout == HpcCore.Kernels.RopeLayout.Interleaved, A(w.TokenEmbedding)!, A(w.PositionEmbedding), layers,
            A(w.FinalNorm)!, A(w.FinalNormBias), A(w.Classifier)!);
    }

    private static float[] Scaled(float[] x, float scale)
    {
        for (int i = 0; i < x.Length; i++) x[i] *= scale;
        return x;
    }
}
