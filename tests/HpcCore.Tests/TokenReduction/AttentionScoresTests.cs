// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Scorers fed by the real attention kernel's exports, against plain softmax attention rows.
namespace HpcCore.Tests.TokenReduction;

using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.Testing;
using HpcCore.Testing.Reference.TokenReduction;
using HpcCore.Tests.Backends;
using HpcCore.TokenReduction;
using Xunit;

[Collection(CpuBackendGroup.Name)]
public sealed class AttentionScoresTests(CpuBackendFixture fixture)
{
    [Theory]
    [InlineData(2, 33, 3, 8)]
    [InlineData(1, 197, 4, 16)]
    public void KernelExports_GiveClassRowAndReceivedScores(int batch, int n, int heads, int d)
    {
        var q = TestData.Normal(batch * n * heads * d, 1);
        var k = TestData.Normal(batch * n * heads * d, 2);
        using var qt = Tensor.From<float>(q, new Shape(batch, n, heads, d), fixture.Backend);
        using var kt = Tensor.From<float>(k, new Shape(batch, n, heads, d), fixture.Backend);
        using var vt = Tensor.From<float>(TestData.Normal(batch * n * heads * d, 3), new Shape(batch, n, heads, d), fixture.Backend);
        using var rows = Tensor.From<int>(new[] { 0 }, new Shape(1), fixture.Backend);
        using var probs = Tensor.Empty(new Shape(batch, heads, 1, n), DType.F32, fixture.Backend);
        using var totals = Tensor.Empty(new Shape(batch, heads, n), DType.F32, fixture.Backend);
        using var y = Attention.Forward(qt, kt, vt, new AttentionOptions(RowIndices: rows, RowProbabilities: probs, KeyTotals: totals));

        using var cls = AttentionScores.ClassRow(probs);
        using var clsSum = AttentionScores.ClassRow(probs, combine: HeadCombine.Sum);
        using var received = AttentionScores.Received(totals, n);
        var full = AttentionProbabilities(q, k, batch, n, heads, d).Select(v => (float)v).ToArray();
        using var probsFull = Tensor.From<float>(full, new Shape(batch, heads, n, n), fixture.Backend);
        using var receivedEager = AttentionScores.ReceivedFromRows(probsFull);
        using var clsEager = AttentionScores.ClassRow(probsFull);
        var p = AttentionProbabilities(q, k, batch, n, heads, d);
        var pf = p.Select(v => (float)v).ToArray();
        var colTotals = new float[batch * heads * n];
        for (int bh = 0; bh < batch * heads; bh++)
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) colTotals[bh * n + j] += pf[(bh * n + i) * n + j];
        var row0 = new float[batch * heads * n];
        for (int bh = 0; bh < batch * heads; bh++)
            for (int j = 0; j < n; j++) row0[bh * n + j] = pf[bh * n * n + j];
        for (int b = 0; b < batch; b++)
        {
            var c = cls.ToArray<float>().AsSpan(b * (n - 1), n - 1);
            TensorAssert.Close(ReferenceSelectors.ClassRow(row0, b, heads, 1, n, 0), c, Tolerance.F32Reduction, "class row mean");
            TensorAssert.Close(ReferenceSelectors.ClassRow(row0, b, heads, 1, n, 0, sum: true),
                clsSum.ToArray<float>().AsSpan(b * (n - 1), n - 1), Tolerance.F32Reduction, "class row sum");
            var expectReceived = ReferenceSelectors.Received(colTotals, b, heads, n, n, 1);
            TensorAssert.Close(expectReceived, received.ToArray<float>().AsSpan(b * (n - 1), n - 1), Tolerance.F32Reduction, "received");
            TensorAssert.Close(expectReceived, receivedEager.ToArray<float>().AsSpan(b * (n - 1), n - 1), Tolerance.F32Reduction, "received (eager)");
            TensorAssert.Close(ReferenceSelectors.ClassRow(row0, b, heads, 1, n, 0), clsEager.ToArray<float>().AsSpan(b * (n - 1), n - 1),
                Tolerance.F32Reduction, "class row (eager)");
        }
    }

    [Fact]
    public void ClassRowSum_AddsLayers()
    {
        var l0 = TestData.Uniform(2 * 3 * 2 * 9, 4, 0, 1);
        var l1 = TestData.Uniform(2 * 3 * 2 * 9, 5, 0, 1);
        using var a = Tensor.From<float>(l0, new Shape(2, 3, 2, 9), fixture.Backend);
        using var b = Tensor.From<float>(l1, new Shape(2, 3, 2, 9), fixture.Backend);
        using var s = VtcCls.Scores([a, b]);
        for (int bi = 0; bi < 2; bi++)
        {
            var e0 = ReferenceSelectors.ClassRow(l0, bi, 3, 2, 9, 0);
            var e1 = ReferenceSelectors.ClassRow(l1, bi, 3, 2, 9, 0);
            TensorAssert.Close(e0.Zip(e1, (x, z) => x + z).ToArray(), s.ToArray<float>().AsSpan(bi * 8, 8), Tolerance.F32Reduction, "ensemble");
        }
        using var row1 = AttentionScores.ClassRow(a, row: 1);
        TensorAssert.Close(ReferenceSelectors.ClassRow(l0, 1, 3, 2, 9, 1), row1.ToArray<float>().AsSpan(8, 8), Tolerance.F32Reduction, "row 1");
        Assert.Throws<ArgumentOutOfRangeException>(() => AttentionScores.ClassRow(a, row: 2));
        using var other = Tensor.From<float>(new float[2 * 3 * 2 * 8], new Shape(2, 3, 2, 8), fixture.Backend);
        var ex = Assert.Throws<ArgumentException>(() => VtcCls.Scores([a, other]));
        Assert.Contains("rowProbabilities[1]", ex.Message);
        Assert.Throws<ArgumentException>(() => VtcCls.Scores([]));
    }

    private static double[] AttentionProbabilities(float[] q, float[] k, int batch, int n, int heads, int d)
    {
        var p = new double[batch * heads * n * n];
        double scale = 1 / Math.Sqrt(d);
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < n; i++)
                {
                    var logits = new double[n];
                    for (int j = 0; j < n; j++)
                    {
                        double s = 0;
                        for (int e = 0; e < d; e++) s += (double)q[((b * n + i) * heads + h) * d + e] * k[((b * n + j) * heads + h) * d + e];
                        logits[j] = s * scale;
                    }
                    double max = logits.Max(), sum = logits.Sum(v => Math.Exp(v - max));
                    for (int j = 0; j < n; j++) p[((b * heads + h) * n + i) * n + j] = Math.Exp(logits[j] - max) / sum;
                }
        return p;
    }
}
