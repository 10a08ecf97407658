// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Gemm.Multiply on the CPU backend against the double-accumulating ReferenceGemm: every transpose combination,
// odd sizes that hit every register-tile edge, batches with a broadcast B, strided and transposed views,
// Alpha/Beta/Bias, K = 0; then the front door's bad-input messages and the zero-allocation steady state.
namespace HpcCore.Tests.Ops;

using HpcCore.Cpu;
using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.Testing;
using HpcCore.Testing.Reference;
using Xunit;

[Collection(SteadyStateGroup.Name)]
public sealed class GemmTests : IDisposable
{
    private readonly CpuBackend _cpu = new();

    public void Dispose() => _cpu.Dispose();

    /// <summary>(M, N, K) triples: odd sizes from TestData.OddSizes, exact tiles, and K spanning several KC blocks.</summary>
    public static TheoryData<int, int, int, bool, bool> Shapes()
    {
        var data = new TheoryData<int, int, int, bool, bool>();
        (int M, int N, int K)[] shapes =
        [
            (1, 1, 1), (7, 31, 33), (33, 127, 7), (129, 33, 197), (197, 129, 31), (1, 197, 129),
            (127, 1, 33), (8, 32, 16), (31, 7, 1100), (197, 200, 300),
        ];
        foreach (var (m, n, k) in shapes)
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    data.Add(m, n, k, ta, tb);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Multiply_TransposeFlagsAndOddSizes_MatchReference(int m, int n, int k, bool transA, bool transB)
    {
        var a = TestData.Uniform(m * k, 1);
        var b = TestData.Uniform(k * n, 2);
        using var ta = Tensor.From<float>(a, transA ? new Shape(k, m) : new Shape(m, k), _cpu);
        using var tb = Tensor.From<float>(b, transB ? new Shape(n, k) : new Shape(k, n), _cpu);
        using var c = Gemm.Multiply(ta, tb, new GemmOptions(TransposeA: transA, TransposeB: transB));
        var expected = ReferenceGemm.Multiply(a, b, null, null, 1, m, n, k, transA, transB, 1f, 0f, false);
        TensorAssert.Close(expected, c.ToArray<float>(), Tolerance.F32Gemm.ForDot(k), $"{m}x{n}x{k} tA={transA} tB={transB}");
    }

    [Theory]
    [InlineData(3, 7, 33, 31, true)]
    [InlineData(3, 7, 33, 31, false)]
    [InlineData(12, 64, 64, 64, true)]
    [InlineData(5, 129, 65, 40, false)]
    [InlineData(2, 1, 1, 1, true)]
    public void Multiply_Batched_MatchesReference(int batch, int m, int n, int k, bool broadcastB)
    {
        var a = TestData.Uniform(batch * m * k, 3);
        var b = TestData.Uniform((broadcastB ? 1 : batch) * k * n, 4);
        var bias = TestData.Uniform(n, 5);
        using var ta = Tensor.From<float>(a, new Shape(batch, m, k), _cpu);
        using var tb = Tensor.From<float>(b, broadcastB ? new Shape(k, n) : new Shape(batch, k, n), _cpu);
        using var tbias = Tensor.From<float>(bias, new Shape(n), _cpu);
        using var c = Gemm.Multiply(ta, tb, new GemmOptions(Bias: tbias));
        var expected = ReferenceGemm.Multiply(a, b, null, bias, batch, m, n, k, false, false, 1f, 0f, broadcastB);
        TensorAssert.Close(expected, c.ToArray<float>(), Tolerance.F32Gemm.ForDot(k), $"batch {batch} broadcastB={broadcastB}");
    }

    [Theory]
    [InlineData(40, 8, 32, 6000)]   // many matrices with long K: several KC blocks accumulate into each C tile
    [InlineData(1, 2048, 32, 4200)] // one tall matrix with long K and Beta/Bias applied by the first KC block only
    public void Multiply_LongK_AccumulatesKcBlocksLikeReference(int batch, int m, int n, int k)
    {
        var a = TestData.Uniform(batch * m * k, 27);
        var b = TestData.Uniform(batch * k * n, 28);
        var c0 = TestData.Uniform(batch * m * n, 29);
        var bias = TestData.Uniform(n, 30);
        using var ta = Tensor.From<float>(a, new Shape(batch, m, k), _cpu);
        using var tb = Tensor.From<float>(b, new Shape(batch, k, n), _cpu);
        using var tc = Tensor.From<float>(c0, new Shape(batch, m, n), _cpu);
        using var tbias = Tensor.From<float>(bias, new Shape(n), _cpu);
        Gemm.Multiply(ta, tb, tc, new GemmOptions(Alpha: 0.5f, Beta: 2f, Bias: tbias));
        var expected = ReferenceGemm.Multiply(a, b, c0, bias, batch, m, n, k, false, false, 0.5f, 2f, false);
        TensorAssert.Close(expected, tc.ToArray<float>(), Tolerance.F32Gemm.ForDot(k, 2), $"long K {batch}x{m}x{n}x{k}");
    }

    [Theory]
    [InlineData(33, 31, 129, false, false)]
    [InlineData(33, 31, 129, true, true)]
    [InlineData(197, 70, 64, false, true)]
    public void Multiply_NarrowedViews_UseLeadingDimensions(int m, int n, int k, bool transA, bool transB)
    {
        // Each operand is a column slice of a wider matrix, so lda/ldb/ldc exceed the logical row length.
        const int pad = 5;
        int aRows = transA ? k : m, aCols = transA ? m : k, bRows = transB ? n : k, bCols = transB ? k : n;
        using var wideA = Tensor.From<float>(TestData.Uniform(aRows * (aCols + pad), 6), new Shape(aRows, aCols + pad), _cpu);
        using var wideB = Tensor.From<float>(TestData.Uniform(bRows * (bCols + pad), 7), new Shape(bRows, bCols + pad), _cpu);
        var sentinel = TestData.Uniform(m * (n + pad), 8);
        using var wideC = Tensor.From<float>(sentinel, new Shape(m, n + pad), _cpu);
        using var va = wideA.Narrow(1, 2, aCols);
        using var vb = wideB.Narrow(1, 3, bCols);
        using var vc = wideC.Narrow(1, 1, n);

        Gemm.Multiply(va, vb, vc, new GemmOptions(TransposeA: transA, TransposeB: transB));

        var expected = ReferenceGemm.Multiply(va.ToArray<float>(), vb.ToArray<float>(), null, null, 1, m, n, k, transA, transB, 1f, 0f, false);
        TensorAssert.Close(expected, vc.ToArray<float>(), Tolerance.F32Gemm.ForDot(k), "narrowed views");
        var wide = wideC.ToArray<float>();
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n + pad; j++)
            {
                if (j >= 1 && j < n + 1) continue;
                Assert.Equal(sentinel[i * (n + pad) + j], wide[i * (n + pad) + j]);
            }
        }
    }

    [Theory]
    [InlineData(31, 33, 129)]
    [InlineData(128, 64, 96)]
    public void Multiply_TransposedViews_FoldIntoTransposeFlags(int m, int n, int k)
    {
        // a is stored [K, M] and b [N, K]; Transpose(-1, -2) gives column-major [M, K] and [K, N] views.
        var a = TestData.Uniform(k * m, 9);
        var b = TestData.Uniform(n * k, 10);
        using var stA = Tensor.From<float>(a, new Shape(k, m), _cpu);
        using var stB = Tensor.From<float>(b, new Shape(n, k), _cpu);
        using var va = stA.Transpose(-1, -2);
        using var vb = stB.Transpose(-1, -2);
        using var c = Gemm.Multiply(va, vb);
        var expected = ReferenceGemm.Multiply(a, b, null, null, 1, m, n, k, true, true, 1f, 0f, false);
        TensorAssert.Close(expected, c.ToArray<float>(), Tolerance.F32Gemm.ForDot(k), "transposed views");

    }

    [Theory]
    [InlineData(7, 31, 33, 0.5f, -1.5f)]
    [InlineData(197, 129, 64, 2f, 1f)]
    [InlineData(64, 96, 700, -1f, 0.25f)]
    [InlineData(1, 33, 1, 3f, 2f)]
    public void Multiply_AlphaBetaBias_MatchReference(int m, int n, int k, float alpha, float beta)
    {
        var a = TestData.Uniform(m * k, 11);
        var b = TestData.Uniform(k * n, 12);
        var c0 = TestData.Uniform(m * n, 13);
        var bias = TestData.Uniform(n, 14);
        using var ta = Tensor.From<float>(a, new Shape(m, k), _cpu);
        using var tb = Tensor.From<float>(b, new Shape(k, n), _cpu);
        using var tc = Tensor.From<float>(c0, new Shape(m, n), _cpu);
        using var tbias = Tensor.From<float>(bias, new Shape(n), _cpu);
        Gemm.Multiply(ta, tb, tc, new GemmOptions(Alpha: alpha, Beta: beta, Bias: tbias));
        var expected = ReferenceGemm.Multiply(a, b, c0, bias, 1, m, n, k, false, false, alpha, beta, false);
        TensorAssert.Close(expected, tc.ToArray<float>(), Tolerance.F32Gemm.ForDot(k, Math.Abs(alpha) + Math.Abs(beta)), "alpha/beta/bias");
    }

    [Theory]
    [InlineData(33, 31, 65)]
    [InlineData(1, 7, 197)]
    public void Multiply_BetaZero_NeverReadsDestination(int m, int n, int k)
    {
        var a = TestData.Uniform(m * k, 15);
        var b = TestData.Uniform(k * n, 16);
        var nan = new float[m * n];
        Array.Fill(nan, float.NaN);
        using var ta = Tensor.From<float>(a, new Shape(m, k), _cpu);
        using var tb = Tensor.From<float>(b, new Shape(k, n), _cpu);
        using var tc = Tensor.From<float>(nan, new Shape(m, n), _cpu);
        Gemm.Multiply(ta, tb, tc, new GemmOptions(Beta: 0f));
        var expected = ReferenceGemm.Multiply(a, b, null, null, 1, m, n, k, false, false, 1f, 0f, false);
        TensorAssert.Close(expected, tc.ToArray<float>(), Tolerance.F32Gemm.ForDot(k), "beta 0 over NaN");
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(0.5f)]
    public void Multiply_KZero_GivesBetaCPlusBias(float beta)
    {
        const int m = 7, n = 33;
        var c0 = TestData.Uniform(m * n, 17);
        var bias = TestData.Uniform(n, 18);
        using var ta = Tensor.Zeros(new Shape(m, 0), DType.F32, _cpu);
        using var tb = Tensor.Zeros(new Shape(0, n), DType.F32, _cpu);
        using var tc = Tensor.From<float>(c0, new Shape(m, n), _cpu);
        using var tbias = Tensor.From<float>(bias, new Shape(n), _cpu);
        Gemm.Multiply(ta, tb, tc, new GemmOptions(Alpha: 2f, Beta: beta, Bias: tbias));
        var expected = ReferenceGemm.Multiply([], [], c0, bias, 1, m, n, 0, false, false, 2f, beta, false);
        TensorAssert.Close(expected, tc.ToArray<float>(), Tolerance.F32Elementwise, "K = 0");
    }

    [Fact]
    public void Multiply_DefaultOptions_ComputePlainProduct()
    {
        var a = TestData.Uniform(7 * 5, 25);
        var b = TestData.Uniform(5 * 3, 26);
        using var ta = Tensor.From<float>(a, new Shape(7, 5), _cpu);
        using var tb = Tensor.From<float>(b, new Shape(5, 3), _cpu);
        using var c = Gemm.Multiply(ta, tb);
        var expected = ReferenceGemm.Multiply(a, b, null, null, 1, 7, 3, 5, false, false, 1f, 0f, false);
        TensorAssert.Close(expected, c.ToArray<float>(), Tolerance.F32Gemm.ForDot(5), "default options");
    }

    [Fact]
    public void Multiply_OneAndTwoThreads_GiveIdenticalResults()
    {
        // The K blocking does not depend on the thread count, so each element is summed in the same order.
        const int m = 197, n = 230, k = 777;
        var a = TestData.Uniform(m * k, 19);
        var b = TestData.Uniform(k * n, 20);
        using var one = new CpuBackend(threads: 1);
        using var a1 = Tensor.From<float>(a, new Shape(m, k), one);
        using var b1 = Tensor.From<float>(b, new Shape(k, n), one);
        using var a2 = Tensor.From<float>(a, new Shape(m, k), _cpu);
        using var b2 = Tensor.From<float>(b, new Shape(k, n), _cpu);
        using var c1 = Gemm.Multiply(a1, b1);
        using var c2 = Gemm.Multiply(a2, b2);
        Assert.Equal(c1.ToArray<float>(), c2.ToArray<float>());
    }

    [Fact]
    public void Multiply_InnerDimensionMismatch_ThrowsNamingOpAndShapes()
    {
        using var a = Tensor.Zeros(new Shape(3, 4), DType.F32, _cpu);
        using var b = Tensor.Zeros(new Shape(5, 6), DType.F32, _cpu);
        var e = Assert.Throws<ArgumentException>(() => Gemm.Multiply(a, b));
        AssertMessage(e, "[3, 4]", "[5, 6]");
        // With TransposeB the inner dimension of b is its last axis: 6 still differs from 4.
        e = Assert.Throws<ArgumentException>(() => Gemm.Multiply(a, b, new GemmOptions(TransposeB: true)));
        AssertMessage(e, "[3, 4]", "[5, 6]");
    }

    [Fact]
    public void Multiply_WrongDType_Throws()
    {
        using var a = Tensor.Zeros(new Shape(3, 4), DType.I32, _cpu);
        using var b = Tensor.Zeros(new Shape(4, 6), DType.F32, _cpu);
        var e = Assert.Throws<ArgumentException>(() => Gemm.Multiply(a, b));
        AssertMessage(e, "[3, 4]");
        Assert.Equal("a", e.ParamName);
    }

    [Fact]
    public void Multiply_RankOne_Throws()
    {
        using var a = Tensor.Zeros(new Shape(4), DType.F32, _cpu);
        using var b = Tensor.Zeros(new Shape(4, 6), DType.F32, _cpu);
        var e = Assert.Throws<ArgumentException>(() => Gemm.Multiply(a, b));
        AssertMessage(e, "[4]");
    }

    [Fact]
    public void Multiply_DifferentBackends_Throws()
    {
        using var other = new CpuBackend(threads: 1);
        using var a = Tensor.Zeros(new Shape(3, 4), DType.F32, _cpu);
        using var b = Tensor.Zeros(new Shape(4, 6), DType.F32, other);
        var e = Assert.Throws<ArgumentException>(() => Gemm.Multiply(a, b));
        AssertMessage(e);
        Assert.Equal("b", e.ParamName);
    }

    [Fact]
    public void Multiply_DisposedOperand_ThrowsObjectDisposed()
    {
        var a = Tensor.Zeros(new Shape(3, 4), DType.F32, _cpu);
        a.Dispose();
        using var b = Tensor.Zeros(new Shape(4, 6), DType.F32, _cpu);
        var e = Assert.Throws<ObjectDisposedException>(() => Gemm.Multiply(a, b));
        AssertMessage(e);
    }

    [Fact]
    public void Multiply_WrongDestinationShape_ThrowsAndLeavesDestination()
    {
        using var a = Tensor.Zeros(new Shape(3, 4), DType.F32, _cpu);
        using var b = Tensor.Zeros(new Shape(4, 6), DType.F32, _cpu);
        var before = TestData.Uniform(15, 21);
        using var c = Tensor.From<float>(before, new Shape(3, 5), _cpu);
        var e = Assert.Throws<ArgumentException>(() => Gemm.Multiply(a, b, c));
        AssertMessage(e, "[3, 5]", "[3, 6]");
        Assert.Equal(before, c.ToArray<float>());
    }

    [Fact]
    public void Multiply_BadBiasShape_Throws()
    {
        using var a = Tensor.Zeros(new Shape(3, 4), DType.F32, _cpu);
        using var b = Tensor.Zeros(new Shape(4, 6), DType.F32, _cpu);
        using var bias = Tensor.Zeros(new Shape(5), DType.F32, _cpu);
        var e = Assert.Throws<ArgumentException>(() => Gemm.Multiply(a, b, new GemmOptions(Bias: bias)));
        AssertMessage(e, "[5]", "[6]");
    }

    [Fact]
    public void Multiply_SteadyState_AllocatesNothing()
    {
        const int m = 197, n = 256, k = 192;
        using var a = Tensor.From<float>(TestData.Uniform(m * k, 22), new Shape(m, k), _cpu);
        using var b = Tensor.From<float>(TestData.Uniform(k * n, 23), new Shape(k, n), _cpu);
        using var bias = Tensor.From<float>(TestData.Uniform(n, 24), new Shape(n), _cpu);
        using var c = Tensor.Empty(new Shape(m, n), DType.F32, _cpu);
        var options = new GemmOptions(Bias: bias);
        SteadyState.AssertAllocatesNothing(_cpu, () => Gemm.Multiply(a, b, c, options), warmup: 1);
    }

    private static void AssertMessage(Exception e, params string[] fragments)
    {
        Assert.Contains("Gemm.Multiply", e.Message, StringComparison.Ordinal);
        foreach (var f in fragments) Assert.Contains(f, e.Message, StringComparison.Ordinal);
    }
}
