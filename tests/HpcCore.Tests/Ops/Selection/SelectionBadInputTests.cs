// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The selection front doors reject bad input with an exception naming the op, the argument and the shapes, before
// any kernel runs, leaving destinations untouched.
namespace HpcCore.Tests.Ops;

using HpcCore.Cpu;
using HpcCore.Ops;
using HpcCore.Tensors;
using Xunit;

public sealed class SelectionBadInputTests : IDisposable
{
    private readonly CpuBackend _cpu = new(threads: 1);
    private readonly CpuBackend _other = new(threads: 1);
    private readonly List<Tensor> _owned = [];

    public void Dispose()
    {
        foreach (var t in _owned) t.Dispose();
        _cpu.Dispose();
        _other.Dispose();
    }

    private Tensor F(params int[] dims) => Own(Tensor.Zeros(new Shape(dims), DType.F32, _cpu));

    private Tensor I(params int[] dims) => Own(Tensor.Zeros(new Shape(dims), DType.I32, _cpu));

    private Tensor U8(params int[] dims) => Own(Tensor.Zeros(new Shape(dims), DType.U8, _cpu));

    private Tensor Other(params int[] dims) => Own(Tensor.Zeros(new Shape(dims), DType.F32, _other));

    private Tensor Ints(int[] values, params int[] dims) => Own(Tensor.From<int>(values, new Shape(dims), _cpu));

    private Tensor Strided(params int[] dims) => Own(F(dims[1], dims[0]).Transpose(0, 1));

    private Tensor Own(Tensor t)
    {
        _owned.Add(t);
        return t;
    }

    private static void Rejects<TException>(Action call, params string[] fragments) where TException : Exception
    {
        var e = Assert.ThrowsAny<TException>(call);
        foreach (var f in fragments) Assert.Contains(f, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TopK_RejectsBadKDTypesShapesDevicesAndLayouts()
    {
        Rejects<ArgumentOutOfRangeException>(() => TopK.Indices(F(2, 5), -1), "TopK.Indices", "k", "-1", "[0, 5]", "[2, 5]");
        Rejects<ArgumentOutOfRangeException>(() => TopK.Indices(F(2, 5), 6), "TopK.Indices", "k", "6", "[0, 5]");
        Rejects<ArgumentOutOfRangeException>(() => TopK.Select(F(2, 5), 6), "TopK.Select", "k");
        Rejects<ArgumentException>(() => TopK.Indices(I(2, 5), 2), "TopK.Indices", "scores", "I32", "F32");
        Rejects<ArgumentException>(() => TopK.Indices(F(2, 5), 2, I(2, 3)), "TopK.Indices", "destination", "[2, 3]", "[2, 2]");
        Rejects<ArgumentException>(() => TopK.Indices(F(2, 5), 2, F(2, 2)), "TopK.Indices", "destination", "F32", "I32");
        Rejects<ArgumentException>(() => TopK.Select(F(2, 5), 2, F(2, 3), I(2, 2)), "TopK.Select", "values", "[2, 3]");
        Rejects<ArgumentException>(() => TopK.Indices(Strided(5, 2), 1), "TopK.Indices", "scores", "Contiguous()");
        Rejects<ArgumentException>(() => TopK.Argsort(F(2, 5), Own(Tensor.Zeros(new Shape(2, 5), DType.I32, _other))), "TopK.Argsort", "destination", "is on");
        Rejects<ArgumentException>(() => TopK.Argsort(F(2, 5), I(5, 2)), "TopK.Argsort", "destination", "[5, 2]");
    }

    [Fact]
    public void TopK_LeavesDestinationIntact_OnFailure()
    {
        var dest = Ints([7, 7, 7, 7], 2, 2);
        Assert.Throws<ArgumentException>(() => TopK.Select(F(2, 5), 2, F(2, 3), dest));
        Assert.Equal([7, 7, 7, 7], dest.ToArray<int>());
    }

    [Fact]
    public void Selection_RejectsWrongDTypesAndShapes()
    {
        Rejects<ArgumentException>(() => Selection.SortAscending(F(2, 3)), "Selection.SortAscending", "indices", "F32", "I32");
        Rejects<ArgumentException>(() => Selection.SortAscending(I(2, 3), I(3, 2)), "Selection.SortAscending", "destination", "[3, 2]");
        Rejects<ArgumentException>(() => Selection.Threshold(F(2, 3), 0f, I(2, 3)), "Selection.Threshold", "destination", "I32", "U8");
        Rejects<ArgumentException>(() => Selection.Threshold(F(2, 3), 0f, U8(3, 2)), "Selection.Threshold", "destination", "[3, 2]");
        Rejects<ArgumentException>(() => Selection.Compact(F(2, 3)), "Selection.Compact", "mask", "F32", "U8 or Bool");
        Rejects<ArgumentException>(() => Selection.Compact(U8(2, 3), I(2, 3), I(3)), "Selection.Compact", "counts", "[3]", "[2]");
    }

    [Fact]
    public void Gather_RejectsBadShapesAndOutOfRangeIndices()
    {
        Rejects<ArgumentException>(() => Gather.Rows(F(2, 5), I(2, 3)), "Gather.Rows", "x", "[2, 5]", "[B, N, C]");
        Rejects<ArgumentException>(() => Gather.Rows(F(2, 5, 4), I(3, 3)), "Gather.Rows", "indices", "[3, 3]", "[2, K]");
        Rejects<ArgumentException>(() => Gather.Rows(F(1, 5, 4), Ints([0, 5], 1, 2)), "Gather.Rows", "indices", "holds 5", "flat index 1", "[0, 5)", "[1, 5, 4]");
        Rejects<ArgumentException>(() => Gather.Rows(F(1, 5, 4), Ints([-1, 2], 1, 2)), "Gather.Rows", "indices", "holds -1");
        Rejects<ArgumentException>(() => Gather.Rows(F(1, 5, 4), I(1, 2), F(1, 2, 3)), "Gather.Rows", "destination", "[1, 2, 3]", "[1, 2, 4]");
        Rejects<ArgumentException>(() => Gather.Rows(F(1, 5, 4), I(1, 2), Other(1, 2, 4)), "Gather.Rows", "destination", "is on");
    }

    [Fact]
    public void Scatter_RejectsBadShapesIndicesAndWeights_LeavingDestinationIntact()
    {
        var dst = Own(Tensor.From<float>([1f, 2f, 3f, 4f], new Shape(1, 2, 2), _cpu));
        Rejects<ArgumentException>(() => Scatter.Reduce(dst, Ints([0, 2], 1, 2), F(1, 2, 2), ScatterMode.Sum), "Scatter.Reduce", "index", "holds 2", "[-1, 2)");
        Rejects<ArgumentException>(() => Scatter.Reduce(dst, Ints([0, -2], 1, 2), F(1, 2, 2), ScatterMode.Mean), "Scatter.Reduce", "index", "holds -2");
        Rejects<ArgumentException>(() => Scatter.Reduce(dst, I(1, 2), F(1, 3, 2), ScatterMode.Sum), "Scatter.Reduce", "source", "[1, 3, 2]", "[1, 2, 2]");
        Rejects<ArgumentException>(() => Scatter.Reduce(dst, I(1, 2), F(1, 2, 3), ScatterMode.Sum), "Scatter.Reduce", "source", "[1, 2, 3]");
        Rejects<ArgumentException>(() => Scatter.Reduce(dst, I(1, 2), F(1, 2, 2), ScatterMode.Sum, F(1, 3)), "Scatter.Reduce", "weights", "[1, 3]");
        Rejects<ArgumentException>(() => Scatter.Reduce(dst, I(1, 2), F(1, 2, 2), ScatterMode.Amax, F(1, 2)), "Scatter.Reduce", "weights", "Amax");
        Rejects<ArgumentException>(() => Scatter.Reduce(dst, F(1, 2), F(1, 2, 2), ScatterMode.Sum), "Scatter.Reduce", "index", "F32", "I32");
        Rejects<ArgumentOutOfRangeException>(() => Scatter.Reduce(dst, I(1, 2), F(1, 2, 2), (ScatterMode)7), "Scatter.Reduce", "mode");
        Assert.Equal([1f, 2f, 3f, 4f], dst.ToArray<float>());
    }

    [Fact]
    public void Similarity_RejectsMismatchedOperands()
    {
        Rejects<ArgumentException>(() => Similarity.Cosine(F(2, 3, 4), F(2, 5, 3)), "Similarity.Cosine", "b", "[2, 5, 3]", "[2, M, 4]", "[2, 3, 4]");
        Rejects<ArgumentException>(() => Similarity.Cosine(F(2, 3, 4), F(1, 5, 4)), "Similarity.Cosine", "b", "[1, 5, 4]");
        Rejects<ArgumentException>(() => Similarity.Cosine(F(2, 3, 4), F(2, 5, 4), F(2, 5, 3)), "Similarity.Cosine", "destination", "[2, 5, 3]", "[2, 3, 5]");
        Rejects<ArgumentOutOfRangeException>(() => Similarity.BestMatch(F(1, 3, 4), F(1, 5, 4), 6), "Similarity.BestMatch", "excludeLeadingColumns", "6", "[0, 5]");
        Rejects<ArgumentOutOfRangeException>(() => Similarity.BestMatch(F(1, 3, 4), F(1, 5, 4), -1), "Similarity.BestMatch", "excludeLeadingColumns");
        Rejects<ArgumentException>(() => Similarity.BestMatch(F(1, 3, 4), F(1, 5, 4), F(1, 3), F(1, 3)), "Similarity.BestMatch", "argmax", "F32", "I32");
        Rejects<ArgumentException>(() => Similarity.BestMatch(F(1, 3, 4), Other(1, 5, 4)), "Similarity.BestMatch", "b", "is on");
        Rejects<ArgumentException>(() => Similarity.RowMax(F(2, 3), F(3), I(2)), "Similarity.RowMax", "max", "[3]", "[2]");
    }

    [Fact]
    public void Reductions_Graph_Greedy_AndPooling_RejectBadArguments()
    {
        Rejects<ArgumentOutOfRangeException>(() => Reductions.Sum(F(2, 3), 2), "Reductions.Sum", "axis", "[-2, 2)", "[2, 3]");
        Rejects<ArgumentOutOfRangeException>(() => Reductions.Mean(F(2, 3), -3), "Reductions.Mean", "axis");
        Rejects<ArgumentException>(() => Reductions.RootMeanSquare(F(2, 3), 0, F(2)), "Reductions.RootMeanSquare", "destination", "[2]", "[3]");
        Rejects<ArgumentException>(() => Graph.PageRank(F(1, 2, 3, 4), 3), "Graph.PageRank", "transition", "[1, 2, 3, 4]", "square");
        Rejects<ArgumentOutOfRangeException>(() => Graph.PageRank(F(1, 2, 3, 3), -1), "Graph.PageRank", "iterations");
        Rejects<ArgumentException>(() => Graph.PageRank(F(1, 2, 3, 3), 2, F(1, 2, 4)), "Graph.PageRank", "initial", "[1, 2, 4]");
        Rejects<ArgumentOutOfRangeException>(() => Greedy.FarthestPoint(F(1, 4, 3), 5), "Greedy.FarthestPoint", "k", "[0, 4]");
        Rejects<ArgumentException>(() => Greedy.FarthestPoint(F(1, 4, 3), 2, Ints([4], 1)), "Greedy.FarthestPoint", "seeds", "holds 4", "[0, 4)");
        Rejects<ArgumentException>(() => Greedy.FarthestPoint(F(2, 4, 3), 2, I(3)), "Greedy.FarthestPoint", "seeds", "[3]", "[2]");
        Rejects<ArgumentException>(() => Greedy.FarthestPoint(F(1, 4, 3), 2, null, I(1, 3)), "Greedy.FarthestPoint", "destination", "[1, 3]", "[1, 2]");
        Rejects<ArgumentOutOfRangeException>(() => Greedy.Coverage(F(1, 4, 3), -1), "Greedy.Coverage", "k");
        Rejects<ArgumentException>(() => Greedy.Coverage(F(1, 4, 3), 2, null, F(1, 2)), "Greedy.Coverage", "destination", "F32", "I32");
        Rejects<ArgumentException>(() => Greedy.Coverage(F(1, 4, 3), 2, F(1, 3)), "Greedy.Coverage", "weights", "[1, 3]", "[1, 4]");
        Rejects<ArgumentOutOfRangeException>(() => Pooling.AdaptiveAvg2D(F(1, 4, 4, 2), 0, 2), "Pooling.AdaptiveAvg2D", "outH");
        Rejects<ArgumentException>(() => Pooling.AdaptiveAvg2D(F(1, 4, 2), 2, 2), "Pooling.AdaptiveAvg2D", "x", "[B, Hg, Wg, C]");
        Rejects<ArgumentException>(() => Pooling.AdaptiveAvg2D(F(1, 4, 4, 2), 2, 2, F(1, 2, 3, 2)), "Pooling.AdaptiveAvg2D", "destination", "[1, 2, 3, 2]");
    }
}
