// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Zero-TPrune (Wang et al., CVPR 2024; methods.md 3.3). I-stage: Weighted PageRank on each head's attention graph
// (importance flows from a query to the keys it attends), heads combined by root mean square, the least important
// tokens pruned. S-stage: the rest, ranked by importance, are split into targets and sources (by default the more
// important half are targets); the sources most similar (cosine of keys) to a target are pruned: ToMe's edge rule used
// to drop, not to merge. The head filter is left out and the partition is reconstructed; see docs/TOKEN_REDUCTION.md.
namespace HpcCore.TokenReduction;

using HpcCore.Diagnostics;
using HpcCore.Ops;
using HpcCore.Tensors;

/// <summary>Zero-TPrune importance (I-stage) and similarity (S-stage) pruning.</summary>
public static class ZeroTPrune
{
    /// <summary>Power iterations when none are given (the paper runs "tens" at the first pruning layer).</summary>
    public const int DefaultIterations = 30;

    /// <summary>
    /// I-stage importance F32 [B, N]: per head s_{t+1}[j] = sum_i A[i, j] s_t[i] from s_0 = 1/N over
    /// <paramref name="probabilities"/> F32 [B, H, N, N] (rows sum to 1), then sqrt(mean_h s_h^2).
    /// </summary>
    public static Tensor Importance(Tensor probabilities, int iterations = DefaultIterations)
    {
        const string Op = "ZeroTPrune.Importance";
        Check.Live(Op, nameof(probabilities), probabilities);
        Check.Rank(Op, nameof(probabilities), probabilities, 4, "[B, H, N, N]");
        if (iterations < 0) ThrowHelper.OutOfRange(Op, nameof(iterations), iterations, "must be >= 0");
        using var perHead = Graph.PageRank(probabilities, iterations);
        return Reductions.RootMeanSquare(perHead, 1);
    }

    /// <summary>
    /// Kept token positions I32 [B, N - pruneByImportance - pruneBySimilarity], ascending, from
    /// <paramref name="importance"/> F32 [B, N] and <paramref name="keys"/> F32 [B, N, d] (keys averaged over heads).
    /// Token 0 is never pruned when <paramref name="classToken"/> is set; <paramref name="partition"/> chooses the S-stage split.
    /// </summary>
    public static Tensor Select(Tensor importance, Tensor keys, int pruneByImportance, int pruneBySimilarity, bool classToken = false,
        ZeroTPrunePartition partition = ZeroTPrunePartition.Sequential)
    {
        const string Op = "ZeroTPrune.Select";
        Check.Input(Op, nameof(importance), importance, DType.F32, 2, "[B, N]");
        Check.Live(Op, nameof(keys), keys);
        Check.Rank(Op, nameof(keys), keys, 3, "[B, N, d]");
        int batch = importance.Shape[0], n = importance.Shape[1];
        if (keys.Shape[0] != batch || keys.Shape[1] != n)
            ThrowHelper.Argument(Op, nameof(keys), $"has shape {keys.Shape}; expected [B, N, d] with importance's {importance.Shape}");
        int prot = classToken ? 1 : 0;
        if (pruneByImportance < 0 || pruneByImportance > n - prot)
            ThrowHelper.OutOfRange(Op, nameof(pruneByImportance), pruneByImportance, $"must be in [0, {n - prot}] (N = {n}, protected {prot})");
        int rest = n - pruneByImportance, sources = rest / 2;
        if (pruneBySimilarity < 0 || pruneBySimilarity > sources)
            ThrowHelper.OutOfRange(Op, nameof(pruneBySimilarity), pruneBySimilarity, $"must be in [0, {sources}] (half of the {rest} tokens left by the I-stage)");
        int keep = rest - pruneBySimilarity;
        if (!Enum.IsDefined(partition)) ThrowHelper.OutOfRange(Op, nameof(partition), partition, "is not a ZeroTPrunePartition value");
        int targets = rest - sources;

        var score = HostIndex.Read<float>(importance);
        var tgt = HostIndex.Rent<int>((long)batch * (rest - sources));
        var src = HostIndex.Rent<int>((long)batch * sources);
        var kept = HostIndex.Rent<int>((long)batch * keep);
        int[] order = [], drop = [];
        try
        {
            if (classToken)
            {
                for (int b = 0; b < batch; b++) score[b * n] = float.PositiveInfinity;
            }
            using (var s = HostIndex.Upload(score, importance.Shape, importance))
            using (var o = TopK.Argsort(s))
                order = HostIndex.Read<int>(o);
            for (int b = 0; b < batch; b++)
                for (int i = 0; i < rest; i++)
                {
                    int t = order[b * n + i];
                    if (partition == ZeroTPrunePartition.Sequential)
                    {
                        if (i < targets) tgt[b * targets + i] = t;
                        else src[b * sources + i - targets] = t;
                    }
                    else if (i % 2 == 0) tgt[b * targets + i / 2] = t;
                    else src[b * sources + i / 2] = t;
                }

            var mark = new bool[n];
            if (pruneBySimilarity > 0)
            {
                using var tgtIdx = HostIndex.Upload(tgt, new Shape(batch, rest - sources), importance);
                using var srcIdx = HostIndex.Upload(src, new Shape(batch, sources), importance);
                using var dense = keys.Contiguous();
                using var tk = Gather.Rows(dense, tgtIdx);
                using var sk = Gather.Rows(dense, srcIdx);
                var (best, partner) = Similarity.BestMatch(sk, tk);
                using (best)
                using (partner)
                using (var d = TopK.Indices(best, pruneBySimilarity))
                    drop = HostIndex.Read<int>(d);
            }
            for (int b = 0; b < batch; b++)
            {
                Array.Clear(mark);
                for (int i = 0; i < pruneBySimilarity; i++) mark[src[b * sources + drop[b * pruneBySimilarity + i]]] = true;
                int c = 0;
                for (int i = 0; i < rest; i++)
                {
                    int t = order[b * n + i];
                    if (!mark[t]) kept[b * keep + c++] = t;
                }
                kept.AsSpan(b * keep, keep).Sort();
            }
            return HostIndex.Upload(kept, new Shape(batch, keep), importance);
        }
        finally
        {
            HostIndex.Return(score);
            HostIndex.Return(tgt);
            HostIndex.Return(src);
            HostIndex.Return(kept);
            if (order.Length > 0) HostIndex.Return(order);
            if (drop.Length > 0) HostIndex.Return(drop);
        }
    }
}
