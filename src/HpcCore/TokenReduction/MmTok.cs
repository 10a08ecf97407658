// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// MMTok (methods.md 3.9): visual-token selection as weighted maximum coverage. The chosen visual tokens must cover the
// text tokens (text-vision similarity) and all visual tokens (vision-vision similarity, weight lambda); greedy
// selection has the (1 - 1/e) guarantee. Similarities are taken as given (normalise them before; the normalisation is
// a caller choice, see docs/TOKEN_REDUCTION.md).
namespace HpcCore.TokenReduction;

using HpcCore.Diagnostics;
using HpcCore.Ops;
using HpcCore.Tensors;

/// <summary>MMTok multimodal coverage selection.</summary>
public static class MmTok
{
    /// <summary>
    /// Greedy max coverage of f(S) = sum_t max_{v in S} S_tv[t, v] + lambda sum_u max_{v in S} S_vv[u, v] over
    /// <paramref name="textVision"/> F32 [B, T, V] and <paramref name="visionVision"/> F32 [B, V, V]. Returns the chosen
    /// visual tokens I32 [B, keep], ascending.
    /// </summary>
    public static Tensor Select(Tensor textVision, Tensor visionVision, int keep, float visionWeight = 1f)
    {
        const string Op = "MmTok.Select";
        Check.Live(Op, nameof(textVision), textVision);
        Check.DType(Op, nameof(textVision), textVision, DType.F32);
        Check.Rank(Op, nameof(textVision), textVision, 3, "[B, T, V]");
        Check.Live(Op, nameof(visionVision), visionVision);
        Check.DType(Op, nameof(visionVision), visionVision, DType.F32);
        int batch = textVision.Shape[0], t = textVision.Shape[1], v = textVision.Shape[2];
        Check.Shape(Op, nameof(visionVision), visionVision, new Shape(batch, v, v), "[B, V, V]", textVision, nameof(textVision));
        if (keep < 0 || keep > v) ThrowHelper.OutOfRange(Op, nameof(keep), keep, $"must be in [0, V] (textVision {textVision.Shape})");
        if (!(visionWeight >= 0) || float.IsInfinity(visionWeight))
            ThrowHelper.OutOfRange(Op, nameof(visionWeight), visionWeight, "must be finite and >= 0");

        // Both coverage terms as one [B, T + V, V] item-by-candidate matrix with per-item weights.
        using var items = Tensor.Empty(new Shape(batch, t + v, v), DType.F32, textVision.Backend);
        using (var top = items.Narrow(1, 0, t)) textVision.CopyTo(top);
        using (var bottom = items.Narrow(1, t, v)) visionVision.CopyTo(bottom);
        var w = HostIndex.Rent<float>((long)batch * (t + v));
        try
        {
            for (int b = 0; b < batch; b++)
                for (int i = 0; i < t + v; i++) w[b * (t + v) + i] = i < t ? 1f : visionWeight;
            using var weights = HostIndex.Upload(w, new Shape(batch, t + v), textVision);
            using var chosen = Greedy.Coverage(items, keep, weights);
            return Selection.SortAscending(chosen);
        }
        finally
        {
            HostIndex.Return(w);
        }
    }
}
