// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm;

using HpcCore.Tensors;

/// <summary>All parameters of a decoder-only LM on one backend.</summary>
public sealed partial class LmWeights : IDisposable
{
    /// <summary>Token embedding [V, C].</summary>
    public required Tensor TokenEmbedding { get; init; }
    /// <summary>Learned absolute positions [MaxSeqLen, C] (GPT-2); null for RoPE models.</summary>
    public Tensor? PositionEmbedding { get; init; }
    /// <summary>The decoder blocks.</summary>
    public required IReadOnlyList<LmLayerWeights> Layers { get; init; }
    /// <summary>Final norm scale [C].</summary>
    public required Tensor FinalNorm { get; init; }
    /// <summary>Final LayerNorm shift [C] (GPT-2).</summary>
    public Tensor? FinalNormBias { get; init; }
    /// <summary>Classifier [V, C]; the same tensor as <see cref="TokenEmbedding"/> when tied.</summary>
    public required Tensor Classifier { get; init; }

    /// <summary>Total parameter count (a tied classifier counted once).</summary>
    public long ParameterCount =>
        StreamedValues + (ReferenceEquals(Classifier, TokenEmbedding) ? 0 : TokenEmbedding.ElementCount) + (PositionEmbedding?.ElementCount ?? 0);

    /// <summary>
    /// Bytes a forward streams at the stored dtypes: every layer tensor, the final norm and the classifier (embedding
    /// rows are gathered, not streamed). BF16 linear weights (<see cref="ToBf16Linear"/>) count 2 bytes each.
    /// </summary>
    public long StreamedBytes => Streamed(t => t.ElementCount * t.DType.SizeInBytes());

    /// <summary>
    /// The weight values a decode step reads in full, the tensors of <see cref="StreamedBytes"/>: 2 FLOPs each per
    /// token (what <c>LmDecoder</c> reports to <c>IBackend.BeginWork</c>).
    /// </summary>
    public long StreamedValues => Streamed(t => t.ElementCount);

    // The sum of `measure` over the final norm, the classifier and every layer tensor (embedding rows are gathered).
    private long Streamed(Func<Tensor, long> measure)
    {
        long sum = Of(FinalNorm) + Of(FinalNormBias) + Of(Classifier);
        foreach (var l in Layers)
            foreach (var t in new[] { l.AttnNorm, l.AttnNormBias, l.Wq, l.Wk, l.Wv, l.Wo, l.Bq, l.Bk, l.Bv, l.Bo, l.FfnNorm,
                         l.FfnNormBias, l.Up, l.UpBias, l.Gate, l.Down, l.DownBias })
                sum += Of(t);
        return sum;

        long Of(Tensor? t) => t is null ? 0 : measure(t);
    }

    /// <summary>The linear weights packed for the GEMM on first use (<see cref="PackedWeights"/>), released with the model.</summary>
    public PackedWeights Packs { get; } = new();

    /// <inheritdoc />
    public void Dispose()
    {
        Packs.Dispose();
        foreach (var l in Layers) l.Dispose();
        TokenEmbedding.Dispose();
        PositionEmbedding?.Dispose();
        FinalNorm.Dispose();
        FinalNormBias?.Dispose();
        if (!ReferenceEquals(Classifier, TokenEmbedding)) Classifier.Dispose();
    }
}
