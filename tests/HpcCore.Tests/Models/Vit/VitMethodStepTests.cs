// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Each ViT reducer's step against the method's rule restated in the double-precision references
// (HpcCore.Testing.Reference.TokenReduction): random exports and tokens, the kept tokens must match exactly (ties to the
// lower index), the output rows must be those tokens' rows, the token map must say where each went.
namespace HpcCore.Tests.Models.Vit;

using HpcCore.Cpu;
using HpcCore.Models.Vit;
using HpcCore.Models.Vit.Reducers;
using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.Testing;
using HpcCore.Testing.Reference.TokenReduction;
using HpcCore.TokenReduction;
using Xunit;

public sealed class VitMethodStepTests
{
    private const int Batch = 2, Heads = 3, Dim = 8, Depth = 4;

    [Theory]
    [InlineData(50, 0.5, 0)]
    [InlineData(50, 0.3, 2)]
    [InlineData(37, 0.25, 1)]
    public void VtcCls_EnsemblesClassRowsFromTheStartBlock(int tokens, double keep, int from)
    {
        using var cpu = new CpuBackend(threads: 2);
        using var reducer = new VtcClsReducer(keep, [2], from, Depth);
        Assert.Equal([from <= 0, from <= 1, true, false], Enumerable.Range(0, Depth).Select(l => reducer.Exports(l) == VitScoreExports.ClassRow));
        var rows = new float[3][];
        for (int l = from; l <= 2; l++)
        {
            rows[l] = Softmaxed(Batch * Heads * tokens, tokens, seed: 10 + l);
            using var s = new StepData(cpu, l, tokens, l == 2 ? 1 + (int)Math.Ceiling(keep * (tokens - 1)) : tokens, classRow: rows[l]);
            if (l < 2) reducer.Observe(s.Step);
            else
            {
                reducer.Reduce(s.Step);
                s.AssertKept(b =>
                {
                    var sum = new double[tokens - 1];
                    for (int q = from; q <= 2; q++)
                    {
                        var r = ReferenceSelectors.ClassRow(rows[q], b, Heads, 1, tokens, 0);
                        for (int j = 0; j < sum.Length; j++) sum[j] += r[j];
                    }
                    return ReferenceSelectors.TopAscending(sum, s.KeptPatches);
                });
            }
        }
    }

    [Fact]
    public void VtcCls_RestartsTheEnsembleAfterEachPruningBlock()
    {
        using var reducer = new VtcClsReducer(0.5, [1, 3], 0, Depth);
        Assert.Equal((0, 1), reducer.Window(1));
        Assert.Equal((2, 3), reducer.Window(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => reducer.Window(2));
        Assert.Equal(1 + 25, reducer.TokensAfter(1, 51));
        Assert.Equal(51, reducer.TokensAfter(2, 51));
    }

    [Theory]
    [InlineData(50, 0.5, 1, false)]   // 7 x 7 grid, anchors from block 1
    [InlineData(50, 0.3, 2, false)]   // anchors from the pruning block itself
    [InlineData(197, 0.6, 1, true)]   // the trained model's 14 x 14 grid, more anchors
    public void HiPrune_AnchorsBuffersRegisters(int tokens, double keep, int objectLayer, bool manyAnchors)
    {
        using var cpu = new CpuBackend(threads: 2);
        double alpha = manyAnchors ? 0.5 : 0;
        using var reducer = new HiPruneReducer(keep, 2, objectLayer, Depth, new HiPruneOptions(AnchorRatio: alpha));
        var totals1 = TestData.Uniform(Batch * Heads * tokens, seed: 3, lo: 0, hi: tokens);
        var totals2 = TestData.Uniform(Batch * Heads * tokens, seed: 4, lo: 0, hi: tokens);
        if (objectLayer < 2)
        {
            Assert.Equal(VitScoreExports.KeyTotals, reducer.Exports(objectLayer));
            using var o = new StepData(cpu, objectLayer, tokens, tokens, keyTotals: totals1);
            reducer.Observe(o.Step);
        }
        using var s = new StepData(cpu, 2, tokens, 1 + (int)Math.Ceiling(keep * (tokens - 1)), keyTotals: totals2);
        reducer.Reduce(s.Step);
        int width = (int)Math.Sqrt(tokens - 1);
        s.AssertKept(b => ReferenceSelectors.HiPrune(
            ReferenceSelectors.Received(objectLayer < 2 ? totals1 : totals2, b, Heads, tokens, tokens, 1),
            ReferenceSelectors.Received(totals2, b, Heads, tokens, tokens, 1), s.KeptPatches, width, alpha == 0 ? 0.1 : alpha, false));
    }

    [Theory]
    [InlineData(50, 0.5, FoPruStrategy.Rank)]
    [InlineData(50, 0.5, FoPruStrategy.Row)]
    [InlineData(197, 0.3, FoPruStrategy.Row)]
    public void FoPru_RankAndRowStrategies(int tokens, double keep, FoPruStrategy strategy)
    {
        using var cpu = new CpuBackend(threads: 2);
        var reducer = new FoPruReducer(keep, 1, Depth, strategy);
        var row = Softmaxed(Batch * Heads * tokens, tokens, seed: 5);
        using var s = new StepData(cpu, 1, tokens, 1 + (int)Math.Ceiling(keep * (tokens - 1)), classRow: row);
        reducer.Reduce(s.Step);
        int width = (int)Math.Sqrt(tokens - 1);
        s.AssertKept(b =>
        {
            var sig = ReferenceSelectors.ClassRow(row, b, Heads, 1, tokens, 0);
            return strategy == FoPruStrategy.Rank ? ReferenceSelectors.TopAscending(sig, s.KeptPatches)
                : ReferenceSelectors.FoPruRows(sig, s.KeptPatches, width);
        });
    }

    [Theory]
    [InlineData(50, 0.3)]
    [InlineData(33, 0.5)]
    public void ToDre_FarthestPointSeededAtTheMostAttendedPatch(int tokens, double keep)
    {
        using var cpu = new CpuBackend(threads: 2);
        var reducer = new ToDreReducer(keep, [1], Depth);
        var row = Softmaxed(Batch * Heads * tokens, tokens, seed: 6);
        using var s = new StepData(cpu, 1, tokens, 1 + (int)Math.Ceiling(keep * (tokens - 1)), classRow: row);
        reducer.Reduce(s.Step);
        s.AssertKept(b =>
        {
            int seed = ReferenceScores.Top(ReferenceSelectors.ClassRow(row, b, Heads, 1, tokens, 0), 1)[0];
            return ReferenceSelectors.FarthestPoint(s.PatchFeatures, b, tokens - 1, Dim, s.KeptPatches, seed);
        });
    }

    [Theory]
    [InlineData(50, 0.3, 1f)]
    [InlineData(33, 0.5, 0.25f)]
    public void MmTok_CoversClassTokenAndPatches(int tokens, double keep, float lambda)
    {
        using var cpu = new CpuBackend(threads: 2);
        var reducer = new MmTokReducer(keep, [1], Depth, lambda);
        using var s = new StepData(cpu, 1, tokens, 1 + (int)Math.Ceiling(keep * (tokens - 1)));
        reducer.Reduce(s.Step);
        // The greedy rule is run on the kernel's F32 cosines (tested against their double reference in the library):
        // double cosines would move near-tied gains by rounding, not by the rule.
        using var patches = Tensor.From<float>(s.PatchFeatures, new Shape(Batch, tokens - 1, Dim), cpu);
        using var cls = Tensor.From<float>([.. s.Token(0, 0), .. s.Token(1, 0)], new Shape(Batch, 1, Dim), cpu);
        using var tvT = Similarity.Cosine(cls, patches);
        using var vvT = Similarity.Cosine(patches, patches);
        var tv = tvT.ToArray<float>();
        var vv = vvT.ToArray<float>();
        s.AssertKept(b =>
        {
            int p = tokens - 1;
            var items = new double[1 + p, p];
            var weights = new double[1 + p];
            weights[0] = 1;
            for (int u = 0; u < p; u++) weights[1 + u] = lambda;
            for (int v = 0; v < p; v++)
            {
                items[0, v] = tv[b * p + v];
                for (int u = 0; u < p; u++) items[1 + u, v] = vv[(b * p + u) * p + v];
            }
            return ReferenceSelectors.Coverage(items, weights, s.KeptPatches);
        });
    }

    [Theory]
    [InlineData(50, 1, 4, 2)]
    [InlineData(50, 1, 3, 1)]
    [InlineData(37, 0, 2, 1)]
    public void Aim_PageRankOfSharpenedAttention_KeepsTheScheduledCount(int tokens, int from, int to, int layer)
    {
        using var cpu = new CpuBackend(threads: 2);
        var config = new VitConfig(2 * (int)Math.Sqrt(tokens - 1), 2, 1, Dim, Depth, Heads, 16, 10, 1e-6f, [0.5f], [0.25f]);
        var reducer = new AimReducer(from, to, config);
        var retain = Aim.RetainSchedule(Depth, from, to);
        int p0 = tokens - 1, keep = (int)(p0 * retain[layer]);
        // Enter the block with fewer patches than P0 when an earlier block pruned (the count stays relative to P0).
        int entering = layer > from ? 1 + (int)(p0 * retain[layer - 1]) : tokens;
        Assert.Equal(1 + keep, reducer.TokensAfter(layer, entering));
        var probs = Softmaxed(Batch * Heads * entering * entering, entering, seed: 8, sharpness: 4);
        using var s = new StepData(cpu, layer, entering, 1 + keep, allRows: probs);
        reducer.Reduce(s.Step);
        s.AssertKept(b =>
        {
            // softmax(logits / 0.1) of the probabilities' logits = P^10 renormalised per row.
            var sharp = new float[Heads * entering * entering];
            for (int r = 0; r < Heads * entering; r++)
            {
                double sum = 0;
                for (int j = 0; j < entering; j++) sum += Math.Pow(probs[(b * Heads * entering + r) * entering + j], 10);
                for (int j = 0; j < entering; j++) sharp[r * entering + j] = (float)(Math.Pow(probs[(b * Heads * entering + r) * entering + j], 10) / sum);
            }
            var importance = ReferenceSelectors.PageRankRms(sharp, 0, Heads, entering, Aim.DefaultIterations);
            return ReferenceSelectors.TopAscending(importance[1..], keep);
        });
    }

    [Fact]
    public void Expedit_ClassTokenThenRefinedCentres()
    {
        using var cpu = new CpuBackend(threads: 2);
        var reducer = new ExpeditReducer(1, 3, Depth);
        Assert.Equal(1 + 9, reducer.TokensAfter(1, 50));
        Assert.Equal(50, reducer.TokensAfter(0, 50));
        Assert.Throws<InvalidOperationException>(() => reducer.TokensAfter(1, 49));
        using var s = new StepData(cpu, 1, 50, 10, scale: 5f);
        reducer.Reduce(s.Step);
        var actual = s.Output.ToArray<float>();
        for (int b = 0; b < Batch; b++)
        {
            var grid = s.PatchFeatures.AsSpan(b * 49 * Dim, 49 * Dim).ToArray();
            var (centers, weights) = ReferenceExpedit.Cluster(grid, 7, 7, Dim, 3, 3, ExpeditOptions.DefaultIterations,
                ExpeditOptions.DefaultTemperature, ExpeditOptions.DefaultRadius, topK: 9);
            double[] expected = [.. s.Token(b, 0).ToArray().Select(v => (double)v), .. centers];
            TensorAssert.Close(expected, actual.AsSpan(b * 10 * Dim, 10 * Dim), Tolerance.F32Reduction, $"Expedit image {b}");
            var map = s.Map!.ToArray<int>();
            Assert.Equal(0, map[b * 50]);
            for (int t = 0; t < 49; t++)
            {
                int best = 0;
                for (int c = 1; c < 9; c++)
                    if (weights[t * 9 + c] > weights[t * 9 + best]) best = c;
                Assert.Equal(1 + best, map[b * 50 + 1 + t]);
            }
        }
    }

    // Random rows of `width` probabilities (positive, summing to 1).
    private static float[] Softmaxed(int count, int width, int seed, float sharpness = 2f)
    {
        var v = TestData.Uniform(count, seed, -sharpness, sharpness);
        for (int r = 0; r < count / width; r++)
        {
            var row = v.AsSpan(r * width, width);
            double sum = 0;
            for (int j = 0; j < width; j++) sum += row[j] = MathF.Exp(row[j]);
            for (int j = 0; j < width; j++) row[j] = (float)(row[j] / sum);
        }
        return v;
    }

    // A reduction step over random tokens [B, T, D] with the given exports, an output [B, T', D] and a token map.
    private sealed class StepData : IDisposable
    {
        private readonly List<Tensor> _owned = [];
        private readonly float[] _x;
        private readonly int _tokens;

        public StepData(CpuBackend cpu, int layer, int tokens, int after, float[]? classRow = null, float[]? keyTotals = null,
            float[]? allRows = null, float scale = 1f)
        {
            _tokens = tokens;
            _x = TestData.Uniform(Batch * tokens * Dim, seed: 100 + tokens + layer, lo: -scale, hi: scale);
            var input = Own(Tensor.From<float>(_x, new Shape(Batch, tokens, Dim), cpu));
            Output = Own(Tensor.Empty(new Shape(Batch, after, Dim), DType.F32, cpu));
            Map = Own(Tensor.Empty(new Shape(Batch, tokens), DType.I32, cpu));
            Tensor? rows = classRow is not null ? Own(Tensor.From<float>(classRow, new Shape(Batch, Heads, 1, tokens), cpu))
                : allRows is not null ? Own(Tensor.From<float>(allRows, new Shape(Batch, Heads, tokens, tokens), cpu)) : null;
            var totals = keyTotals is null ? null : Own(Tensor.From<float>(keyTotals, new Shape(Batch, Heads, tokens), cpu));
            Step = new VitReductionStep(layer, input, after == tokens ? input : Output, null, null, null, rows, totals, after == tokens ? null : Map);
            KeptPatches = after - 1;
        }

        public VitReductionStep Step { get; }

        public Tensor Output { get; }

        public Tensor? Map { get; }

        public int KeptPatches { get; }

        // Patch tokens [B, P, D] as one array.
        public float[] PatchFeatures
        {
            get
            {
                var f = new float[Batch * (_tokens - 1) * Dim];
                for (int b = 0; b < Batch; b++) Array.Copy(_x, (b * _tokens + 1) * Dim, f, b * (_tokens - 1) * Dim, (_tokens - 1) * Dim);
                return f;
            }
        }

        public ReadOnlySpan<float> Token(int b, int t) => _x.AsSpan((b * _tokens + t) * Dim, Dim);

        // The output holds [CLS] then expected(b)'s patches (ascending), and the map points every token at its slot.
        public void AssertKept(Func<int, int[]> expected)
        {
            var y = Output.ToArray<float>();
            var map = Map!.ToArray<int>();
            for (int b = 0; b < Batch; b++)
            {
                var patches = expected(b);
                Assert.Equal(KeptPatches, patches.Length);
                int[] rows = [0, .. patches.Select(j => j + 1)];
                var expectedMap = Enumerable.Repeat(-1, _tokens).ToArray();
                for (int i = 0; i < rows.Length; i++)
                {
                    expectedMap[rows[i]] = i;
                    Assert.Equal(Token(b, rows[i]).ToArray(), y.AsSpan((b * rows.Length + i) * Dim, Dim).ToArray());
                }
                Assert.Equal(expectedMap, map.AsSpan(b * _tokens, _tokens).ToArray());
            }
        }

        private Tensor Own(Tensor t)
        {
            _owned.Add(t);
            return t;
        }

        public void Dispose()
        {
            foreach (var t in _owned) t.Dispose();
        }
    }
}
