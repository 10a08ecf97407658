// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The ILGPU backend's token-reduction kernels (ISelectionKernels), grouped by family in Kernels/Selection/*.
// Every op of the interface has a kernel; see each launcher's header for its determinism and limits (scatter Sum
// and Mean use float atomics, so their last bits depend on the schedule).
namespace HpcCore.Gpu.Kernels;

using HpcCore.Kernels;

internal sealed partial class IlgpuKernels : ISelectionKernels
{
    private readonly Lazy<SortKernels> _sort;
    private readonly Lazy<MaskKernels> _mask;
    private readonly Lazy<RowMoveKernels> _rows;
    private readonly Lazy<SimilarityKernels> _similarity;
    private readonly Lazy<GraphKernels> _graph;
    private readonly Lazy<GreedyKernels> _greedy;

    public void TopK(in TopKArgs args) => _sort.Value.TopK(args);

    public void SortIndices(in SortIndicesArgs args) => _sort.Value.SortIndices(args);

    public void Threshold(in ThresholdArgs args) => _mask.Value.Threshold(args);

    public void Compact(in CompactArgs args) => _mask.Value.Compact(args);

    public void GatherRows(in GatherRowsArgs args) => _rows.Value.GatherRows(args);

    public void ScatterReduce(in ScatterReduceArgs args) => _rows.Value.ScatterReduce(args);

    public void Cosine(in CosineArgs args) => _similarity.Value.Cosine(args);

    public void BestMatch(in BestMatchArgs args) => _similarity.Value.BestMatch(args);

    public void RowMax(in RowMaxArgs args) => _similarity.Value.RowMax(args);

    public void AxisReduce(in AxisReduceArgs args) => _graph.Value.AxisReduce(args);

    public void PageRank(in PageRankArgs args) => _graph.Value.PageRank(args);

    public void FarthestPoint(in FarthestPointArgs args) => _greedy.Value.FarthestPoint(args);

    public void Coverage(in CoverageArgs args) => _greedy.Value.Coverage(args);

    public void AdaptiveAvgPool2D(in AdaptivePoolArgs args) => _graph.Value.AdaptiveAvgPool2D(args);
}
