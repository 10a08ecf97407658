// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The token-reduction building blocks (Ops/Selection, issue #4) on the backend under test against the plain-loop
// references in Reference/Selection: seeded random inputs, odd sizes, ties (lower index first), NaN and -inf, k = 0
// and k = N, batch rows that differ. Index outputs are compared exactly; where an index comes out of float
// arithmetic (best match, greedy picks), rows whose reference margin is within float error are not index-checked,
// and the tests assert that such rows are rare.
namespace HpcCore.Testing.Conformance;

using HpcCore.Ops;
using HpcCore.Testing.Reference;
using HpcCore.Tensors;
using Xunit;

/// <summary>Selection-op conformance suite; bind it to a backend with a thin subclass.</summary>
public abstract class SelectionConformance : ConformanceBase
{
    // A float cosine of unit-norm rows is within ~1e-6 of the double one for C <= 1024.
    private const double IndexMargin = 1e-5;

    /// <summary>Reads an I32 tensor back to the host.</summary>
    protected int[] ReadInts(Tensor t)
    {
        Backend.Synchronize();
        return t.ToArray<int>();
    }

    /// <summary>Scores with many exact ties, a few NaN and -inf, and a -0 / +0 pair, differing per row.</summary>
    protected static float[] TieScores(int rows, int n, int seed)
    {
        var ints = TestData.Ints(rows * n, seed, 9);
        var x = new float[rows * n];
        for (int i = 0; i < x.Length; i++) x[i] = (ints[i] - 4) * 0.25f;
        var rng = new Random(seed + 7);
        for (int i = 0; i < x.Length / 11 + 1; i++)
        {
            int at = rng.Next(x.Length);
            x[at] = (i % 4) switch { 0 => float.NaN, 1 => float.NegativeInfinity, 2 => -0f, _ => float.PositiveInfinity };
        }
        return x;
    }

    private static bool NotNearTie(double margin) => margin == 0 || margin > IndexMargin;

    private static int[] Ks(int n) => [.. new[] { 0, 1, n / 2, n - 1, n }.Where(k => k >= 0).Distinct()];

    [Fact]
    public void TopK_IndicesAndValues_MatchReference_WithTiesNaNAndInfinities()
    {
        int rows = 3;
        foreach (int n in Sizes)
        {
            var random = TestData.Uniform(rows * n, n);
            var ties = TieScores(rows, n, n + 1);
            foreach (var (name, x) in new[] { ("uniform", random), ("ties", ties) })
            {
                using var t = On(x, rows, n);
                foreach (int k in Ks(n))
                {
                    var expected = ReferenceRanking.TopK(x, rows, n, k);
                    using var idx = TopK.Indices(t, k);
                    TensorAssert.Equal(expected, ReadInts(idx), $"topk {name} n={n} k={k}");
                    var (values, indices) = TopK.Select(t, k);
                    using (values)
                    using (indices)
                    {
                        TensorAssert.Equal(expected, ReadInts(indices), $"select indices {name} n={n} k={k}");
                        TensorAssert.Close(ReferenceRanking.Take(x, expected, rows, n, k), Read(values), Tolerance.F32Elementwise, $"select values {name} n={n} k={k}");
                    }
                }
            }
        }
    }

    [Fact]
    public void TopK_LongRows_MatchReference()
    {
        int[] lengths = IsEmulator ? [300] : [577, 2880, 16384, 100_000];
        foreach (int n in lengths)
        {
            var x = TestData.Normal(n, n);
            var ties = TieScores(1, n, n + 3);
            foreach (var (name, data) in new[] { ("normal", x), ("ties", ties) })
            {
                using var t = On(data, 1, n);
                // 1, 3 and 64 take the CPU's k-sized heap on long rows, 65 and up the radix select (issue #21).
                foreach (int k in new[] { 1, 3, 64, 65, n / 2, n })
                {
                    using var idx = TopK.Indices(t, k);
                    TensorAssert.Equal(ReferenceRanking.TopK(data, 1, n, k), ReadInts(idx), $"topk {name} n={n} k={k}");
                }
                using var asc = TopK.Argsort(t, descending: false);
                TensorAssert.Equal(ReferenceRanking.TopK(data, 1, n, n, false), ReadInts(asc), $"argsort ascending {name} n={n}");
            }
        }
    }

    [Fact]
    public void Argsort_BothDirections_AreStableAndRankNaNLowest()
    {
        int rows = 2;
        foreach (int n in Sizes)
        {
            var x = TieScores(rows, n, 3 * n);
            using var t = On(x, rows, n);
            using var desc = TopK.Argsort(t);
            using var asc = TopK.Argsort(t, descending: false);
            TensorAssert.Equal(ReferenceRanking.TopK(x, rows, n, n, true), ReadInts(desc), $"argsort desc n={n}");
            TensorAssert.Equal(ReferenceRanking.TopK(x, rows, n, n, false), ReadInts(asc), $"argsort asc n={n}");
        }
    }

    [Fact]
    public void TopK_SignedZerosTie_AndNaNRanksBelowNegativeInfinity()
    {
        using var t = On([-0f, float.NaN, 0f, float.NegativeInfinity, -0f, 1f], 1, 6);
        using var idx = TopK.Indices(t, 6);
        Assert.Equal([5, 0, 2, 4, 3, 1], ReadInts(idx));
        using var asc = TopK.Argsort(t, descending: false);
        Assert.Equal([1, 3, 0, 2, 4, 5], ReadInts(asc));
    }

    [Fact]
    public void SortAscending_Threshold_AndCompact_MatchReference()
    {
        int rows = 3;
        foreach (int n in Sizes)
        {
            var ints = TestData.Ints(rows * n, n, 1000);
            using var ti = On(ints, rows, n);
            using var sorted = Selection.SortAscending(ti);
            TensorAssert.Equal(ReferenceRanking.SortRows(ints, rows, n), ReadInts(sorted), $"sort n={n}");
            Selection.SortAscending(ti, ti);
            TensorAssert.Equal(ReferenceRanking.SortRows(ints, rows, n), ReadInts(ti), $"sort in place n={n}");

            var x = TieScores(rows, n, n + 5);
            using var tx = On(x, rows, n);
            using var mask = Selection.Threshold(tx, 0.25f);
            Backend.Synchronize();
            var expectedMask = ReferenceRanking.Threshold(x, 0.25f);
            Assert.Equal(expectedMask, mask.ToArray<byte>());
            var (indices, counts) = Selection.Compact(mask);
            using (indices)
            using (counts)
            {
                var (ei, ec) = ReferenceRanking.Compact(expectedMask, rows, n);
                TensorAssert.Equal(ei, ReadInts(indices), $"compact indices n={n}");
                TensorAssert.Equal(ec, ReadInts(counts), $"compact counts n={n}");
            }
        }
    }

    [Fact]
    public void Compact_AcceptsBoolMasks_AllZeroAndAllSet()
    {
        var bytes = new byte[] { 0, 0, 0, 0, 1, 1, 1, 1, 0, 1, 0, 1 };
        using var mask = Tensor.FromBytes(bytes, new Shape(3, 4), DType.Bool, Backend);
        var (indices, counts) = Selection.Compact(mask);
        using (indices)
        using (counts)
        {
            var (ei, ec) = ReferenceRanking.Compact(bytes, 3, 4);
            TensorAssert.Equal(ei, ReadInts(indices), "compact bool");
            TensorAssert.Equal(ec, ReadInts(counts), "compact bool counts");
        }
    }

    [Fact]
    public void GatherRows_MatchesReference()
    {
        int batch = 2;
        foreach (int c in Sizes)
        {
            int n = IsEmulator ? 9 : 37, k = 5;
            var x = TestData.Uniform(batch * n * c, c);
            var idx = TestData.Ints(batch * k, c + 1, n);
            using var tx = On(x, batch, n, c);
            using var ti = On(idx, batch, k);
            using var g = Gather.Rows(tx, ti);
            TensorAssert.Close(ReferenceRows.Gather(x, idx, batch, n, k, c), Read(g), Tolerance.F32Elementwise, $"gather c={c}");
        }
    }

    [Theory]
    [InlineData(ScatterMode.Sum, false)]
    [InlineData(ScatterMode.Sum, true)]
    [InlineData(ScatterMode.Mean, false)]
    [InlineData(ScatterMode.Mean, true)]
    [InlineData(ScatterMode.Amax, false)]
    public void ScatterReduce_MatchesReference_WithDuplicatesAndSkips(ScatterMode mode, bool weighted)
    {
        int batch = 2;
        foreach (int c in Sizes)
        {
            int m = IsEmulator ? 5 : 23, n = IsEmulator ? 11 : 61;
            var dst = TestData.Uniform(batch * m * c, c);
            var src = TestData.Uniform(batch * n * c, c + 1);
            var idx = TestData.Ints(batch * n, c + 2, m + 1);
            for (int i = 0; i < idx.Length; i++) idx[i] -= 1; // -1 .. m-1: some sources skipped, many duplicates
            var w = weighted ? TestData.Uniform(batch * n, c + 3, 0.5f, 2f) : null;
            using var td = On(dst, batch, m, c);
            using var ti = On(idx, batch, n);
            using var ts = On(src, batch, n, c);
            using var tw = w is null ? null : On(w, batch, n);
            Scatter.Reduce(td, ti, ts, mode, tw);
            var expected = ReferenceRows.Scatter(dst, idx, src, w, (int)mode, batch, m, n, c);
            TensorAssert.Close(expected, Read(td), Adjust(Tolerance.F32Reduction), $"scatter {mode} w={weighted} c={c}");
        }
    }

    [Fact]
    public void Cosine_MatchesReference_WithZeroRows()
    {
        int batch = 2;
        foreach (int c in Sizes)
        {
            int n = IsEmulator ? 5 : 33, m = IsEmulator ? 7 : 31;
            var a = TestData.Uniform(batch * n * c, c);
            var b = TestData.Uniform(batch * m * c, c + 1);
            Array.Clear(a, 2 * c, c); // a zero row: cosine 0
            using var ta = On(a, batch, n, c);
            using var tb = On(b, batch, m, c);
            using var cos = Similarity.Cosine(ta, tb);
            TensorAssert.Close(ReferenceSimilarity.Cosine(a, b, batch, n, m, c), Read(cos), Adjust(Tolerance.F32Reduction), $"cosine c={c}");
        }
    }

    [Fact]
    public void BestMatch_MatchesReference_OverOddSizesAndExclusions()
    {
        int batch = 2;
        int[] counts = IsEmulator ? [1, 7, 33] : [1, 7, 31, 33, 127, 197];
        int[] channels = IsEmulator ? [7, 33] : [3, 7, 64, 129]; // C = 1 makes every cosine +-1: ties only up to rounding
        int skipped = 0, checkedRows = 0;
        // (n, m, c): odd sizes, plus one that spans several row blocks and L2 chunks of packed columns.
        var cases = counts.SelectMany(n => channels.Select(c => (n, m: n + 3, c))).ToList();
        if (!IsEmulator) cases.Add((70, 1100, 160)); // C = 160: 25 panels (800 columns) per chunk, so two chunks
        foreach (var (n, m, c) in cases)
        {
            var a = TestData.Normal(batch * n * c, n * 31 + c);
            var b = TestData.Normal(batch * m * c, n * 37 + c);
            // Duplicate partners: exact ties that must go to the lower column.
            Array.Copy(b, 0, b, 2 * c, c);
            if (n > 1) Array.Clear(a, c, c); // a zero row: every cosine is 0, the first allowed column wins
            using var ta = On(a, batch, n, c);
            using var tb = On(b, batch, m, c);
            var cos = ReferenceSimilarity.Cosine(a, b, batch, n, m, c);
            foreach (int exclude in new[] { 0, 1, m - 1, m })
            {
                var (max, arg) = Similarity.BestMatch(ta, tb, exclude);
                using (max)
                using (arg)
                {
                    var (em, ea, margin) = ReferenceSimilarity.RowMax(cos, batch * n, m, exclude);
                    TensorAssert.Close(em, Read(max), Adjust(Tolerance.F32Reduction), $"bestmatch max n={n} c={c} ex={exclude}");
                    var actual = ReadInts(arg);
                    for (int r = 0; r < batch * n; r++)
                    {
                        checkedRows++;
                        if (margin[r] > 0 && margin[r] < IndexMargin)
                        {
                            skipped++;
                            continue;
                        }
                        Assert.True(ea[r] == actual[r], $"bestmatch argmax n={n} c={c} ex={exclude} row {r}: {actual[r]}, expected {ea[r]} (margin {margin[r]:G3})");
                    }
                }
            }
        }
        Assert.True(skipped * 50 <= checkedRows, $"{skipped} of {checkedRows} rows were near-ties");
    }

    [Fact]
    public void BestMatch_DuplicateRowsTieToLowerColumn_AndNoColumnGivesMinusOne()
    {
        int c = 5, m = 40;
        var b = new float[m * c];
        var rowv = TestData.Uniform(c, 3);
        for (int j = 0; j < m; j++) Array.Copy(rowv, 0, b, j * c, c); // every column identical
        var a = TestData.Uniform(2 * c, 4);
        using var ta = On(a, 1, 2, c);
        using var tb = On(b, 1, m, c);
        foreach (int exclude in new[] { 0, 3, 17, 39 })
        {
            var (max, arg) = Similarity.BestMatch(ta, tb, exclude);
            using (max)
            using (arg)
                Assert.Equal([exclude, exclude], ReadInts(arg));
        }
        var (none, noneArg) = Similarity.BestMatch(ta, tb, m);
        using (none)
        using (noneArg)
        {
            Assert.Equal([-1, -1], ReadInts(noneArg));
            Assert.Equal([float.NegativeInfinity, float.NegativeInfinity], Read(none));
        }
    }

    [Fact]
    public void RowMax_MatchesReference_WithNaNTiesAndEmptyRows()
    {
        int rows = 4;
        foreach (int m in Sizes)
        {
            var x = TieScores(rows, m, m + 11);
            for (int j = 0; j < m; j++) x[j] = float.NaN; // row 0 has no number
            using var t = On(x, rows, m);
            var (max, arg) = Similarity.RowMax(t);
            using (max)
            using (arg)
            {
                var d = new double[x.Length];
                for (int i = 0; i < d.Length; i++) d[i] = x[i];
                var (em, ea, _) = ReferenceSimilarity.RowMax(d, rows, m);
                TensorAssert.Equal(ea, ReadInts(arg), $"rowmax argmax m={m}");
                TensorAssert.Close(em, Read(max), Tolerance.F32Elementwise, $"rowmax max m={m}");
            }
        }
    }

    [Fact]
    public void AxisReductions_MatchReference_OnEveryAxis()
    {
        int[] dims = IsEmulator ? [3, 5, 7] : [3, 33, 129];
        var x = TestData.Uniform(dims[0] * dims[1] * dims[2], 17);
        using var t = On(x, dims);
        for (int axis = -3; axis < 3; axis++)
        {
            int a = axis < 0 ? axis + 3 : axis;
            int outer = 1, inner = 1;
            for (int i = 0; i < a; i++) outer *= dims[i];
            for (int i = a + 1; i < 3; i++) inner *= dims[i];
            using var sum = Reductions.Sum(t, axis);
            using var mean = Reductions.Mean(t, axis);
            using var rms = Reductions.RootMeanSquare(t, axis);
            var tol = Adjust(Tolerance.F32Reduction.ForDot(dims[a]));
            TensorAssert.Close(ReferenceRows.AxisReduce(x, outer, dims[a], inner, 0), Read(sum), tol, $"sum axis {axis}");
            TensorAssert.Close(ReferenceRows.AxisReduce(x, outer, dims[a], inner, 1), Read(mean), tol, $"mean axis {axis}");
            TensorAssert.Close(ReferenceRows.AxisReduce(x, outer, dims[a], inner, 2), Read(rms), tol, $"rms axis {axis}");
            Assert.Equal(dims.Where((_, i) => i != a).ToArray(), sum.Shape.ToArray());
        }
        // Rank 1 reduces to a scalar (rank 0, one element).
        using var v = On(x[..dims[2]], dims[2]);
        using var total = Reductions.Sum(v, 0);
        Assert.Equal(0, total.Rank);
        TensorAssert.Close(ReferenceRows.AxisReduce(x[..dims[2]], 1, dims[2], 1, 0), Read(total), Adjust(Tolerance.F32Reduction.ForDot(dims[2])), "sum rank 1");
    }

    [Fact]
    public void PageRank_MatchesReference_WithAndWithoutInitialScores()
    {
        int batch = 2, heads = 3;
        foreach (int n in IsEmulator ? new[] { 1, 7, 33 } : new[] { 1, 7, 33, 197 })
        {
            // Row-stochastic attention-like matrices (softmax rows), as Zero-TPrune feeds them.
            var m = TestData.Uniform(batch * heads * n * n, n, 0f, 1f);
            for (int r = 0; r < batch * heads * n; r++)
            {
                float s = 0;
                for (int j = 0; j < n; j++) s += m[r * n + j];
                for (int j = 0; j < n; j++) m[r * n + j] /= s;
            }
            var init = TestData.Uniform(batch * heads * n, n + 1, 0f, 1f);
            using var tm = On(m, batch, heads, n, n);
            using var ti = On(init, batch, heads, n);
            foreach (int iterations in new[] { 0, 1, 30 })
            {
                using var p = Graph.PageRank(tm, iterations);
                using var q = Graph.PageRank(tm, iterations, ti);
                var tol = Adjust(Tolerance.F32Reduction.ForDot(n));
                TensorAssert.Close(ReferenceSimilarity.PageRank(m, null, batch * heads, n, iterations), Read(p), tol, $"pagerank n={n} it={iterations}");
                TensorAssert.Close(ReferenceSimilarity.PageRank(m, init, batch * heads, n, iterations), Read(q), tol, $"pagerank init n={n} it={iterations}");
            }
        }
    }

    [Fact]
    public void FarthestPoint_MatchesReference_WithSeedsAndDuplicates()
    {
        int batch = 3;
        foreach (var (n, c) in IsEmulator ? new[] { (7, 5), (33, 8) } : new[] { (1, 7), (7, 5), (33, 8), (129, 33), (197, 64) })
        {
            var x = TestData.Normal(batch * n * c, n + c);
            if (n > 4) Array.Copy(x, 0, x, 3 * c, c); // point 3 duplicates point 0 (distance 0)
            var seeds = TestData.Ints(batch, n, n);
            using var tx = On(x, batch, n, c);
            using var ts = On(seeds, batch);
            // k = n only for small n: the last picks of a long run have nearly equal distances.
            foreach (int k in new[] { 0, 1, Math.Min(n, 5), Math.Min(n, 16), n <= 7 ? n : 0 }.Distinct())
            {
                var (expected, margin) = ReferenceSimilarity.FarthestPoint(x, null, batch, n, c, k);
                var (expectedSeeded, marginSeeded) = ReferenceSimilarity.FarthestPoint(x, seeds, batch, n, c, k);
                using var p = Greedy.FarthestPoint(tx, k);
                using var q = Greedy.FarthestPoint(tx, k, ts);
                // Duplicate points give exact ties (margin 0, identical in float too), compared like any other pick.
                Assert.True(NotNearTie(margin) && NotNearTie(marginSeeded), $"seed gives a near-tie (n={n}, c={c}, k={k})");
                TensorAssert.Equal(expected, ReadInts(p), $"farthest n={n} c={c} k={k}");
                TensorAssert.Equal(expectedSeeded, ReadInts(q), $"farthest seeded n={n} c={c} k={k}");
            }
        }
    }

    [Fact]
    public void Coverage_MatchesReference_WithWeightsAndSaturation()
    {
        int batch = 2;
        foreach (var (u, n) in IsEmulator ? new[] { (5, 7), (9, 33) } : new[] { (1, 7), (5, 7), (31, 33), (64, 197), (127, 129) })
        {
            var s = TestData.Uniform(batch * u * n, u + n, -0.2f, 1f);
            var w = TestData.Uniform(batch * u, u, 0.5f, 2f);
            using var ts = On(s, batch, u, n);
            using var tw = On(w, batch, u);
            foreach (int k in new[] { 0, 1, Math.Min(n, 6), n })
            {
                var (expected, _) = ReferenceSimilarity.Coverage(s, null, batch, u, n, Math.Min(k, 6));
                var (expectedW, _) = ReferenceSimilarity.Coverage(s, w, batch, u, n, Math.Min(k, 6));
                using var p = Greedy.Coverage(ts, k);
                using var q = Greedy.Coverage(ts, k, tw);
                var actual = ReadInts(p);
                var actualW = ReadInts(q);
                int kk = Math.Min(k, 6);
                for (int b = 0; b < batch; b++)
                {
                    TensorAssert.Equal(expected.AsSpan(b * kk, kk), actual.AsSpan(b * k, kk), $"coverage u={u} n={n} k={k} b={b}");
                    TensorAssert.Equal(expectedW.AsSpan(b * kk, kk), actualW.AsSpan(b * k, kk), $"coverage weighted u={u} n={n} k={k} b={b}");
                }
                if (k == n)
                {
                    // All n picked: a permutation, and once coverage saturates every gain is exactly 0 -> ascending order.
                    var (full, _) = ReferenceSimilarity.Coverage(s, w, batch, u, n, n);
                    TensorAssert.Equal(full, actualW, $"coverage full u={u} n={n}");
                }
            }
        }
    }

    [Fact]
    public void AdaptiveAvg2D_MatchesTorchCellBounds()
    {
        foreach (var (h, w, oh, ow) in new[] { (7, 7, 3, 3), (24, 24, 12, 12), (5, 3, 7, 2), (1, 1, 1, 1), (14, 14, 1, 1) })
        {
            int batch = 2, c = IsEmulator ? 5 : 33;
            if (IsEmulator && h > 7) continue;
            var x = TestData.Uniform(batch * h * w * c, h * 100 + w);
            using var t = On(x, batch, h, w, c);
            using var y = Pooling.AdaptiveAvg2D(t, oh, ow);
            TensorAssert.Close(ReferenceRows.AdaptiveAvg2D(x, batch, h, w, c, oh, ow), Read(y), Adjust(Tolerance.F32Reduction), $"pool {h}x{w}->{oh}x{ow}");
        }
    }
}
