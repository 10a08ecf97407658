// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Softmax.Row, the span overload paged KV attention and TokenSelect's vote use: same rows as the tensor op's
// conformance test (huge logits, fully and partly masked), in place, and its argument checks.
namespace HpcCore.Tests.Ops;

using HpcCore.Ops;
using HpcCore.Testing;
using HpcCore.Testing.Reference;
using Xunit;

public sealed class SoftmaxRowTests : BadInputTestBase
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(31)]
    [InlineData(33)]
    [InlineData(129)]
    [InlineData(197)]
    public void Row_MatchesReference_InPlace_WithHugeLogitsAndMaskedRows(int n)
    {
        var x = TestData.Uniform(4 * n, n, -5f, 5f);
        for (int j = 0; j < n; j++)
        {
            x[n + j] += 1000f;
            x[2 * n + j] = float.NegativeInfinity;
            if (j % 2 == 1) x[3 * n + j] = float.NegativeInfinity;
        }
        var expected = ReferenceRowOps.Softmax(x, 4, n);
        var actual = (float[])x.Clone();
        for (int r = 0; r < 4; r++) Softmax.Row(actual.AsSpan(r * n, n), actual.AsSpan(r * n, n));
        TensorAssert.Close(expected, actual, Tolerance.F32Reduction, $"Softmax.Row n={n}");
        for (int j = 0; j < n; j++) Assert.Equal(0f, actual[2 * n + j]);
    }

    [Fact]
    public void Row_RejectsEmptyAndMismatchedSpans_LeavingDestinationIntact()
    {
        var dest = new float[] { 1f, 2f };
        Rejects<ArgumentException>(() => Softmax.Row([], []), "Softmax.Row", "x", "empty");
        Rejects<ArgumentException>(() => Softmax.Row([1f, 2f, 3f], dest), "Softmax.Row", "destination", "2", "3");
        Assert.Equal([1f, 2f], dest);
    }
}
