// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Whole forward passes with a token-reduction method against the double reference (VitReference) running the method's
// rule restated from its paper on the reference's own attention probabilities and tokens: the kept tokens, and so the
// logits, must agree. Small random models with scaled weights so that attention is far from uniform (no near-ties).
namespace HpcCore.Tests.Models.Vit;

using HpcCore.Cpu;
using HpcCore.Models.Vit;
using HpcCore.Testing;
using HpcCore.Testing.Reference.TokenReduction;
using HpcCore.TokenReduction;
using Xunit;

public sealed class VitMethodPipelineTests
{
    private const int Image = 14, Patches = 49, Dim = 16, Heads = 4, Hidden = 32, Batch = 2;  // a 7 x 7 grid, 4 blocks

    [Fact]
    public void VtcCls_Ensemble() => Check("vtc:keep=0.5;layers=2;from=0", new VtcRule(from: 0, layer: 2, keep: 25).Select);

    [Fact]
    public void VtcCls_TwoPruningBlocks() => Check("vtc:keep=0.5;layers=1,3;from=0",
        Chain(new VtcRule(from: 0, layer: 1, keep: 25).Select, new VtcRule(from: 2, layer: 3, keep: 13).Select));

    [Fact]
    public void HiPrune() => Check("hiprune:keep=0.4;layer=2;object=1", (image, layer, x, p) =>
    {
        _objectScores ??= new double[Batch][];
        if (layer == 1) _objectScores[image] = Received(p);
        return layer == 2 ? Keep(x, ReferenceSelectors.HiPrune(_objectScores[image], Received(p), 20, 7, 0.1, false)) : null;
    });

    [Theory]
    [InlineData("rank")]
    [InlineData("row")]
    public void FoPru(string strategy) => Check($"fopru:keep=0.3;layer=1;strategy={strategy}", (_, layer, x, p) =>
        layer != 1 ? null : Keep(x, strategy == "rank" ? ReferenceSelectors.TopAscending(ClassRow(p), 15)
            : ReferenceSelectors.FoPruRows(ClassRow(p), 15, 7)));

    [Fact]
    public void ToDre() => Check("todre:keep=0.5;layers=1", (_, layer, x, p) =>
    {
        if (layer != 1) return null;
        int seed = ReferenceScores.Top(ClassRow(p), 1)[0];
        var f = x.Skip(1).SelectMany(r => r.Select(v => (float)v)).ToArray();
        return Keep(x, ReferenceSelectors.FarthestPoint(f, 0, Patches, Dim, 25, seed));
    });

    // Five picks: greedy coverage over 50 items leaves later picks' gains within F32 rounding of each other (the step
    // test checks fifteen picks on the kernel's own cosines).
    [Fact]
    public void MmTok() => Check("mmtok:keep=0.1;layers=2", (_, layer, x, p) =>
    {
        if (layer != 2) return null;
        var items = new double[1 + Patches, Patches];
        var w = Enumerable.Repeat(1.0, 1 + Patches).ToArray();
        for (int u = 0; u <= Patches; u++)
            for (int v = 0; v < Patches; v++) items[u, v] = Cos(x[u], x[1 + v]);
        return Keep(x, ReferenceSelectors.Coverage(items, w, 5));
    });

    [Fact]
    public void Aim() => Check("aim:from=1;to=3", (_, layer, x, p) =>
    {
        var retain = HpcCore.TokenReduction.Aim.RetainSchedule(4, 1, 3);
        int keep = (int)(Patches * retain[layer]);
        if (keep >= x.Count - 1) return null;
        if (keep == 0) return [x[0]];
        int t = x.Count, h = p.Length;
        var sharp = new float[h * t * t];
        for (int head = 0; head < h; head++)
            for (int i = 0; i < t; i++)
            {
                double sum = p[head][i].Sum(v => Math.Pow(v, 10));
                for (int j = 0; j < t; j++) sharp[(head * t + i) * t + j] = (float)(Math.Pow(p[head][i][j], 10) / sum);
            }
        var importance = ReferenceSelectors.PageRankRms(sharp, 0, h, t, HpcCore.TokenReduction.Aim.DefaultIterations);
        return Keep(x, ReferenceSelectors.TopAscending(importance[1..], keep));
    });

    [Fact]
    public void Expedit() => Check("expedit:layer=1;size=3", (_, layer, x, p) =>
    {
        if (layer != 1) return null;
        var grid = x.Skip(1).SelectMany(r => r.Select(v => (float)v)).ToArray();
        var (centers, _) = ReferenceExpedit.Cluster(grid, 7, 7, Dim, 3, 3, ExpeditOptions.DefaultIterations,
            ExpeditOptions.DefaultTemperature, ExpeditOptions.DefaultRadius, topK: 9);
        return [x[0], .. Enumerable.Range(0, 9).Select(c => centers[(c * Dim)..((c + 1) * Dim)])];
    });

    private double[][]? _objectScores;

    // VTC-CLS restated: sum over blocks from..layer of mean_h P[h, 0, 1:], top keep, ascending.
    private sealed class VtcRule(int from, int layer, int keep)
    {
        private readonly double[][] _sum = new double[Batch][];

        public List<double[]>? Select(int image, int l, List<double[]> x, double[][][] p)
        {
            if (l < from || l > layer) return null;
            var row = ClassRow(p);
            _sum[image] = _sum[image] is null ? row : _sum[image].Zip(row, (a, b) => a + b).ToArray();
            return l == layer ? Keep(x, ReferenceSelectors.TopAscending(_sum[image], keep)) : null;
        }
    }

    private static ReferenceSelect Chain(ReferenceSelect a, ReferenceSelect b) =>
        (image, l, x, p) => a(image, l, x, p) ?? b(image, l, x, p);

    private static double[] ClassRow(double[][][] p) =>
        Enumerable.Range(1, p[0].Length - 1).Select(j => p.Average(head => head[0][j])).ToArray();

    // Attention received, mean over heads and queries (HiPrune's column mean).
    private static double[] Received(double[][][] p) =>
        Enumerable.Range(1, p[0].Length - 1).Select(j => p.Average(head => head.Average(row => row[j]))).ToArray();

    private static List<double[]> Keep(List<double[]> x, int[] patches) => [x[0], .. patches.Select(j => x[j + 1])];

    private static double Cos(double[] a, double[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++) (dot, na, nb) = (dot + a[i] * b[i], na + a[i] * a[i], nb + b[i] * b[i]);
        return dot / Math.Sqrt(na * nb);
    }

    private static void Check(string method, ReferenceSelect rule)
    {
        using var cpu = new CpuBackend(threads: 2);
        var config = VitSessionTests.Small(Image, 2, 1, Dim, 4, Heads, Hidden, 5);
        using var w = VitSessionTests.ScaledRandom(config, cpu, seed: 21);
        var pixels = TestData.Uniform(Batch * Image * Image, seed: 13);
        var reducer = VitReducers.Create(VitMethodSpec.Parse(method), config);
        try
        {
            using var session = new VitSession(w, Batch, reducer);
            var actual = session.Forward(pixels).ToArray<float>();
            var expected = VitReference.Logits(w, pixels, Batch, select: rule).SelectMany(r => r).ToArray();
            TensorAssert.Close(expected, actual, VitTolerances.ForwardF32(Dim, Hidden), method);
        }
        finally
        {
            reducer?.Dispose();
        }
    }
}
