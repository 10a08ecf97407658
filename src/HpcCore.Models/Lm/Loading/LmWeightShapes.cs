// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm.Loading;

using HpcCore.Tensors;

/// <summary>
/// Checks every loaded tensor's shape against the <see cref="LmConfig"/> it was loaded for, so that a file whose
/// tensors disagree is refused at load, naming the tensor, rather than failing inside the first forward.
/// </summary>
internal static class LmWeightShapes
{
    /// <summary>Throws <see cref="LmFormatException"/> naming the first tensor whose shape is not what <paramref name="c"/> implies.</summary>
    public static void Check(LmConfig c, LmWeights w, string source)
    {
        int C = c.Dim, kv = c.KvDim, hid = c.HiddenDim;
        void Is(Tensor? t, string name, params int[] dims)
        {
            if (t is not null && t.Shape != new Shape(dims))
                throw new LmFormatException($"{source}: {name} has shape {t.Shape}; the config ({c.Architecture}, dim {C}, heads {c.Heads}, " +
                                            $"kv heads {c.KvHeads}, hidden {hid}, vocab {c.VocabSize}) needs {new Shape(dims)}.");
        }
        Is(w.TokenEmbedding, "the token embedding", c.VocabSize, C);
        Is(w.PositionEmbedding, "the position embedding", c.MaxSeqLen, C);
        Is(w.Classifier, "the classifier", c.VocabSize, C);
        Is(w.FinalNorm, "the final norm", C);
        Is(w.FinalNormBias, "the final norm bias", C);
        for (int l = 0; l < w.Layers.Count; l++)
        {
            var L = w.Layers[l];
            string p = $"layer {l} ";
            Is(L.AttnNorm, p + "attention norm", C);
            Is(L.AttnNormBias, p + "attention norm bias", C);
            Is(L.Wq, p + "query projection", C, C);
            Is(L.Wk, p + "key projection", kv, C);
            Is(L.Wv, p + "value projection", kv, C);
            Is(L.Wo, p + "output projection", C, C);
            Is(L.Bq, p + "query bias", C);
            Is(L.Bk, p + "key bias", kv);
            Is(L.Bv, p + "value bias", kv);
            Is(L.Bo, p + "output bias", C);
            Is(L.FfnNorm, p + "feed-forward norm", C);
            Is(L.FfnNormBias, p + "feed-forward norm bias", C);
            Is(L.Up, p + "up projection", hid, C);
            Is(L.UpBias, p + "up bias", hid);
            Is(L.Gate, p + "gate projection", hid, C);
            Is(L.Down, p + "down projection", C, hid);
            Is(L.DownBias, p + "down bias", C);
        }
    }
}
