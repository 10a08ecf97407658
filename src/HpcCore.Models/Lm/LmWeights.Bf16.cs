// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// BF16 linear weights (issue #18 item 3): a decode step streams every linear weight once per token, so storing them
// in BF16 halves the bytes the memory-bound GEMV reads; the GEMM widens them exactly to F32 and accumulates in F32,
// so the only error is the weights' own rounding. Embeddings (gathered rows, and a tied classifier with them), norms
// and biases stay F32: they are a small share of the bytes and feed every token.
namespace HpcCore.Models.Lm;

using HpcCore.Ops;
using HpcCore.Tensors;

public sealed partial class LmWeights
{
    /// <summary>
    /// A copy whose nn.Linear weights (the attention and FFN projections, and an untied classifier) are BF16, rounded
    /// to nearest even (already-BF16 weights are kept as they are); every other tensor is shared with this object
    /// through views holding their own references. The two are independent: dispose both (disposing this one first
    /// frees the F32 linear weights).
    /// </summary>
    public LmWeights ToBf16Linear()
    {
        var made = new List<Tensor>();
        Tensor Share(Tensor t) => Track(made, t.Narrow(0, 0, t.Shape[0]));
        Tensor? ShareOpt(Tensor? t) => t is null ? null : Share(t);
        Tensor Narrow(Tensor t) => Track(made, t.DType == DType.BF16 ? t.Narrow(0, 0, t.Shape[0]) : Cast.To(t, DType.BF16));
        try
        {
            var layers = Layers.Select(l => new LmLayerWeights
            {
                AttnNorm = Share(l.AttnNorm), AttnNormBias = ShareOpt(l.AttnNormBias),
                Wq = Narrow(l.Wq), Wk = Narrow(l.Wk), Wv = Narrow(l.Wv), Wo = Narrow(l.Wo),
                Bq = ShareOpt(l.Bq), Bk = ShareOpt(l.Bk), Bv = ShareOpt(l.Bv), Bo = ShareOpt(l.Bo),
                FfnNorm = Share(l.FfnNorm), FfnNormBias = ShareOpt(l.FfnNormBias),
                Up = Narrow(l.Up), UpBias = ShareOpt(l.UpBias), Gate = l.Gate is null ? null : Narrow(l.Gate),
                Down = Narrow(l.Down), DownBias = ShareOpt(l.DownBias),
            }).ToList();
            var embedding = Share(TokenEmbedding);
            bool tied = ReferenceEquals(Classifier, TokenEmbedding);
            return new LmWeights
            {
                TokenEmbedding = embedding,
                PositionEmbedding = ShareOpt(PositionEmbedding),
                Layers = layers,
                FinalNorm = Share(FinalNorm),
                FinalNormBias = ShareOpt(FinalNormBias),
                Classifier = tied ? embedding : Narrow(Classifier),
            };
        }
        catch
        {
            foreach (var t in made) t.Dispose();
            throw;
        }
    }

    private static Tensor Track(List<Tensor> made, Tensor t)
    {
        made.Add(t);
        return t;
    }
}
