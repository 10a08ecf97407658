// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// VTC-CLS ("[CLS] Token Tells Everything Needed for Training-free Efficient MLLMs"; methods.md 3.4): score patches by
// the [CLS] attention (mean over heads) summed over the vision encoder's layers L0 .. L-2, keep the top K and restore
// their spatial order before the projector. L0 = L-2 is FasterVLM's single penultimate-layer variant.
namespace HpcCore.TokenReduction;

using HpcCore.Diagnostics;
using HpcCore.Ops;
using HpcCore.Tensors;

/// <summary>VTC-CLS [CLS]-attention selection with a multi-layer ensemble.</summary>
public static class VtcCls
{
    /// <summary>Ensemble score F32 [B, P]: <see cref="AttentionScores.ClassRowSum"/> of the chosen layers' [CLS] rows.</summary>
    public static Tensor Scores(IReadOnlyList<Tensor> rowProbabilities) => AttentionScores.ClassRowSum(rowProbabilities);

    /// <summary>
    /// The <paramref name="keep"/> highest-scoring patches of <paramref name="scores"/> F32 [B, P], as patch indices
    /// I32 [B, keep] in ascending (spatial) order. Gather them with <see cref="Gather.Rows(Tensor, Tensor)"/> from the
    /// patch features (<c>hidden_states[-2][:, 1:]</c>).
    /// </summary>
    public static Tensor Select(Tensor scores, int keep)
    {
        const string Op = "VtcCls.Select";
        Check.Live(Op, nameof(scores), scores);
        Check.DType(Op, nameof(scores), scores, DType.F32);
        Check.Rank(Op, nameof(scores), scores, 2, "[B, P]");
        if (keep < 0 || keep > scores.Shape[1])
            ThrowHelper.OutOfRange(Op, nameof(keep), keep, $"must be in [0, P] (scores {scores.Shape})");
        using var top = TopK.Indices(scores, keep);
        return Selection.SortAscending(top);
    }
}
