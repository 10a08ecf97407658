// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The selection ops' destination overloads allocate nothing in steady state (no managed garbage, no fresh pool
// buffers): their scratch is rented from the backend's memory pool and returned.
namespace HpcCore.Tests.Ops;

using HpcCore.Cpu;
using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.Testing;
using Xunit;

[Collection(SteadyStateGroup.Name)]
public sealed class SelectionSteadyStateTests
{
    [Fact]
    public void DestinationOverloads_AllocateNothing_AfterWarmUp()
    {
        using var cpu = new CpuBackend(threads: 2);
        int n = 197, c = 64, k = 64;
        using var scores = Tensor.From<float>(TestData.Uniform(2 * n, 1), new Shape(2, n), cpu);
        using var x = Tensor.From<float>(TestData.Uniform(2 * n * c, 2), new Shape(2, n, c), cpu);
        using var idx = Tensor.Empty(new Shape(2, k), DType.I32, cpu);
        using var values = Tensor.Empty(new Shape(2, k), DType.F32, cpu);
        using var order = Tensor.Empty(new Shape(2, n), DType.I32, cpu);
        using var gathered = Tensor.Empty(new Shape(2, k, c), DType.F32, cpu);
        using var dst = Tensor.Zeros(new Shape(2, k, c), DType.F32, cpu);
        using var target = Tensor.From<int>(TestData.Ints(2 * n, 3, k), new Shape(2, n), cpu);
        using var max = Tensor.Empty(new Shape(2, n), DType.F32, cpu);
        using var arg = Tensor.Empty(new Shape(2, n), DType.I32, cpu);
        using var cos = Tensor.Empty(new Shape(2, n, n), DType.F32, cpu);
        using var mask = Tensor.Empty(new Shape(2, n), DType.U8, cpu);
        using var counts = Tensor.Empty(new Shape(2), DType.I32, cpu);
        using var sums = Tensor.Empty(new Shape(2, c), DType.F32, cpu);
        using var picks = Tensor.Empty(new Shape(2, 8), DType.I32, cpu);
        using var transition = Tensor.From<float>(TestData.Uniform(2 * 2 * 33 * 33, 4, 0f, 0.05f), new Shape(2, 2, 33, 33), cpu);
        using var rank = Tensor.Empty(new Shape(2, 2, 33), DType.F32, cpu);
        using var grid = Tensor.From<float>(TestData.Uniform(2 * 14 * 14 * 8, 5), new Shape(2, 14, 14, 8), cpu);
        using var pooled = Tensor.Empty(new Shape(2, 7, 7, 8), DType.F32, cpu);

        void Step()
        {
            TopK.Select(scores, k, values, idx);
            TopK.Argsort(scores, order);
            Selection.SortAscending(idx, idx);
            Selection.Threshold(scores, 0f, mask);
            Selection.Compact(mask, order, counts);
            Gather.Rows(x, idx, gathered);
            Scatter.Reduce(dst, target, x, ScatterMode.Mean);
            Similarity.BestMatch(x, x, max, arg, 1);
            Similarity.Cosine(x, x, cos);
            Similarity.RowMax(cos, max, arg);
            Reductions.Mean(x, 1, sums);
            Graph.PageRank(transition, 5, null, rank);
            Greedy.FarthestPoint(x, 8, null, picks);
            Greedy.Coverage(cos, 8, null, picks);
            Pooling.AdaptiveAvg2D(grid, 7, 7, pooled);
        }

        SteadyState.AssertAllocatesNothing(cpu, Step);
    }
}
