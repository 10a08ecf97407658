// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Optional capability: the token-reduction building blocks (issue #4; methods.md section 4, kernels K3-K7, K11).
// Kept apart from IKernels, like IAttentionKernels, so that a backend can ship without them; every front door in
// Ops/Selection checks for it and throws NotSupportedException naming the op and the device.
namespace HpcCore.Kernels;

/// <summary>Selection, similarity, scatter/gather, graph and greedy kernels over validated arguments.</summary>
public interface ISelectionKernels
{
    /// <summary>Top-k (or full argsort when K equals Cols) of each row; ties to the lower index, NaN lowest.</summary>
    void TopK(in TopKArgs args);

    /// <summary>Sorts each row of an I32 index tensor ascending.</summary>
    void SortIndices(in SortIndicesArgs args);

    /// <summary>Dest = Scores &gt; Threshold as U8.</summary>
    void Threshold(in ThresholdArgs args);

    /// <summary>Positions of nonzero mask entries per row, ascending, padded with -1, plus counts.</summary>
    void Compact(in CompactArgs args);

    /// <summary>Dest[b, i, :] = X[b, Indices[b, i], :].</summary>
    void GatherRows(in GatherRowsArgs args);

    /// <summary>Scatter-reduce source rows into destination rows (sum, mean, amax).</summary>
    void ScatterReduce(in ScatterReduceArgs args);

    /// <summary>Cosine similarity of every row of A with every row of B.</summary>
    void Cosine(in CosineArgs args);

    /// <summary>Best cosine partner in B of every row of A, without materialising the similarity matrix.</summary>
    void BestMatch(in BestMatchArgs args);

    /// <summary>Row max and its argmax along the last axis.</summary>
    void RowMax(in RowMaxArgs args);

    /// <summary>Sum, mean or root mean square along one axis.</summary>
    void AxisReduce(in AxisReduceArgs args);

    /// <summary>PageRank-style power iteration per (batch, head) slice.</summary>
    void PageRank(in PageRankArgs args);

    /// <summary>Greedy farthest-point (k-center) selection under cosine distance.</summary>
    void FarthestPoint(in FarthestPointArgs args);

    /// <summary>Greedy weighted maximum coverage.</summary>
    void Coverage(in CoverageArgs args);

    /// <summary>Adaptive average pooling over a token grid.</summary>
    void AdaptiveAvgPool2D(in AdaptivePoolArgs args);
}
