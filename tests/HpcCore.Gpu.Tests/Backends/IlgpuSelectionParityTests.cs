// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Exact index parity between the emulated GPU selection kernels and the SIMD CPU backend on the same inputs: top-k,
// argsort, index sort, compaction, row max, best match and the greedy picks must be identical, not merely close.
namespace HpcCore.Gpu.Tests;

using HpcCore.Devices;
using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.Testing;

/// <summary>Emulator vs CPU backend: identical selection indices.</summary>
[Collection(IlgpuCpuGroup.Name)]
public sealed class IlgpuSelectionParityTests(IlgpuCpuFixture fixture)
{
    private delegate int[] Op(IBackend backend);

    private void Same(Op op, string what) => TensorAssert.Equal(op(fixture.Cpu), op(fixture.Backend), what);

    private static int[] Ints(IBackend backend, Tensor t)
    {
        backend.Synchronize();
        return t.ToArray<int>();
    }

    [Fact]
    public void TopKArgsortSortAndCompact_AreIdenticalToCpu()
    {
        foreach (int n in new[] { 1, 7, 33, 70 })
        {
            int rows = 3;
            var x = TestData.Uniform(rows * n, n, -2f, 2f);
            for (int i = 0; i < x.Length; i++) x[i] = MathF.Round(x[i] * 2f) / 2f; // many ties
            x[0] = float.NaN;
            x[^1] = float.NegativeInfinity;
            if (n > 2) x[1] = -0f;
            var ids = TestData.Ints(rows * n, n + 1, 50);
            Same(b =>
            {
                using var t = Tensor.From<float>(x, new Shape(rows, n), b);
                using var idx = TopK.Indices(t, (n + 1) / 2);
                return Ints(b, idx);
            }, $"topk n={n}");
            Same(b =>
            {
                using var t = Tensor.From<float>(x, new Shape(rows, n), b);
                using var asc = TopK.Argsort(t, descending: false);
                return Ints(b, asc);
            }, $"argsort n={n}");
            Same(b =>
            {
                using var t = Tensor.From<int>(ids, new Shape(rows, n), b);
                using var s = Selection.SortAscending(t);
                return Ints(b, s);
            }, $"sort n={n}");
            Same(b =>
            {
                using var t = Tensor.From<float>(x, new Shape(rows, n), b);
                using var m = Selection.Threshold(t, 0f);
                var (i, c) = Selection.Compact(m);
                using (i)
                using (c)
                    return [.. Ints(b, i), .. Ints(b, c)];
            }, $"compact n={n}");
        }
    }

    [Fact]
    public void RowMaxBestMatchAndGreedyPicks_AreIdenticalToCpu()
    {
        int batch = 2, n = 13, m = 17, c = 9;
        var a = TestData.Normal(batch * n * c, 1);
        var bm = TestData.Normal(batch * m * c, 2);
        Array.Copy(bm, 0, bm, 4 * c, c); // duplicate column: an exact tie
        Same(b =>
        {
            using var ta = Tensor.From<float>(a, new Shape(batch, n, c), b);
            using var tb = Tensor.From<float>(bm, new Shape(batch, m, c), b);
            var (max, arg) = Similarity.BestMatch(ta, tb, 1);
            using (max)
            using (arg)
                return Ints(b, arg);
        }, "bestmatch");
        Same(b =>
        {
            using var ta = Tensor.From<float>(a, new Shape(batch, n, c), b);
            using var tb = Tensor.From<float>(bm, new Shape(batch, m, c), b);
            using var cos = Similarity.Cosine(ta, tb);
            var (max, arg) = Similarity.RowMax(cos);
            using (max)
            using (arg)
            using (var picks = Greedy.Coverage(cos, 6))
                return [.. Ints(b, arg), .. Ints(b, picks)];
        }, "rowmax and coverage");
        Same(b =>
        {
            using var ta = Tensor.From<float>(a, new Shape(batch, n, c), b);
            using var seeds = Tensor.From<int>([3, 7], new Shape(batch), b);
            using var picks = Greedy.FarthestPoint(ta, 8, seeds);
            return Ints(b, picks);
        }, "farthest point");
    }

    [Fact]
    public void GatherOutOfRange_GivesZeroRows_OnTheGpu()
    {
        // GPU indices are not read back for a range check: the kernel writes zero rows instead (documented).
        using var x = Tensor.From<float>([1f, 2f, 3f, 4f], new Shape(1, 2, 2), fixture.Backend);
        using var idx = Tensor.From<int>([1, 5, -1], new Shape(1, 3), fixture.Backend);
        using var g = Gather.Rows(x, idx);
        fixture.Backend.Synchronize();
        Assert.Equal([3f, 4f, 0f, 0f, 0f, 0f], g.ToArray<float>());
    }
}
