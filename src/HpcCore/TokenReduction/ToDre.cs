// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// ToDRE (methods.md 3.8). Stage 1, after the vision encoder: a small diverse subset by greedy k-center (farthest point
// under cosine distance) seeded at the most salient token. Stage 2, inside the LLM: keep the visual tokens the text
// attends to most (task relevance), dropping the rest. Seed rule and relevance score are reconstructed from the paper;
// see docs/TOKEN_REDUCTION.md.
namespace HpcCore.TokenReduction;

using HpcCore.Diagnostics;
using HpcCore.Ops;
using HpcCore.Tensors;

/// <summary>ToDRE diversity selection and task-relevance pruning.</summary>
public static class ToDre
{
    /// <summary>
    /// Stage 1: <paramref name="keep"/> diverse tokens of <paramref name="features"/> F32 [B, P, C] by greedy k-center,
    /// starting from the argmax of <paramref name="saliency"/> F32 [B, P] (e.g. [CLS] attention; null: token 0).
    /// Returns I32 [B, keep], ascending.
    /// </summary>
    public static Tensor Diverse(Tensor features, int keep, Tensor? saliency = null)
    {
        const string Op = "ToDre.Diverse";
        Check.Live(Op, nameof(features), features);
        Check.Rank(Op, nameof(features), features, 3, "[B, P, C]");
        if (keep < 0 || keep > features.Shape[1])
            ThrowHelper.OutOfRange(Op, nameof(keep), keep, $"must be in [0, P] (features {features.Shape})");
        if (saliency is null)
        {
            using var plain = Greedy.FarthestPoint(features, keep);
            return Selection.SortAscending(plain);
        }
        Check.Live(Op, nameof(saliency), saliency);
        Check.Shape(Op, nameof(saliency), saliency, new Shape(features.Shape[0], features.Shape[1]), "[B, P]", features, nameof(features));
        using var seeds = Reductions.Argmax(saliency);
        using var chosen = Greedy.FarthestPoint(features, keep, seeds);
        return Selection.SortAscending(chosen);
    }

    /// <summary>
    /// Stage 2 relevance F32 [B, V]: attention from the text queries to the visual keys, averaged over heads and text
    /// queries, from <paramref name="textToVision"/> F32 [B, H, T, V] (the kernel's RowProbabilities for the text rows,
    /// narrowed to the visual key range).
    /// </summary>
    public static Tensor Relevance(Tensor textToVision)
    {
        const string Op = "ToDre.Relevance";
        Check.Live(Op, nameof(textToVision), textToVision);
        Check.Rank(Op, nameof(textToVision), textToVision, 4, "[B, H, T, V]");
        using var dense = textToVision.Contiguous();
        using var perHead = Reductions.Mean(dense, 2);
        return Reductions.Mean(perHead, 1);
    }

    /// <summary>Stage 2: the <paramref name="keep"/> most relevant visual tokens of <paramref name="relevance"/> F32 [B, V], ascending.</summary>
    public static Tensor SelectRelevant(Tensor relevance, int keep) => VtcCls.Select(relevance, keep);
}
