// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Gemm.Multiply's matrix-vector path (M <= 4 per batch item, B transposed: x W^T with W [N, K] in the nn.Linear
// layout) against the double ReferenceGemm: odd K and N around every vector width and 8-row group edge, bias,
// Alpha/Beta, strided views of x, W and C, batches, a NaN destination with Beta 0, weights with Inf in the K tail,
// one against two threads (bitwise), the general path on the same shapes, BF16 weights against F32 weights holding
// the same (widened) values (bitwise: widening is exact and the kernels are the same), and the zero-allocation steady
// state.
// The class carries the Simd=Vector256 trait, so ./build.sh test runs it again with DOTNET_EnableAVX512=0 and the
// Vector256 kernel is checked as well as the Vector512 one.
namespace HpcCore.Tests.Ops;

using HpcCore.Cpu;
using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.Testing;
using HpcCore.Testing.Reference;
using Xunit;

[Collection(SteadyStateGroup.Name)]
[Trait("Simd", "Vector256")]
public sealed class GemvTests : IDisposable
{
    private static readonly int[] Sizes = [1, 7, 31, 33, 127, 129, 197, 1000];

    private readonly CpuBackend _cpu = new(threads: 2);

    public void Dispose() => _cpu.Dispose();

    public static TheoryData<int> Ks() => new(Sizes);

    [Theory]
    [MemberData(nameof(Ks))]
    public void OneRow_OddSizes_BiasAlphaBeta_MatchReference(int k)
    {
        foreach (int n in Sizes)
        {
            Check(_cpu, 1, 1, n, k, alpha: 1f, beta: 0f, bias: false, seed: n);
            Check(_cpu, 1, 1, n, k, alpha: -0.75f, beta: 1f, bias: true, seed: n + 1);
            Check(_cpu, 1, 1, n, k, alpha: 2f, beta: 0f, bias: true, seed: n + 2);
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void SmallM_OddSizes_MatchReference(int m)
    {
        foreach (int k in (int[])[1, 7, 13, 17, 33, 197])
            foreach (int n in (int[])[1, 9, 31, 129])
                Check(_cpu, 1, m, n, k, alpha: 0.5f, beta: -1.5f, bias: true, seed: m * 100 + n + k);
    }

    [Theory]
    [InlineData(3, 1, true)]
    [InlineData(3, 1, false)]
    [InlineData(4, 3, true)]
    [InlineData(2, 4, false)]
    [InlineData(5, 1, true)]
    public void Batched_BroadcastAndPerItemWeights_MatchReference(int batch, int m, bool broadcastW)
    {
        foreach (int k in (int[])[7, 33, 129])
            foreach (int n in (int[])[1, 31, 197])
                Check(_cpu, batch, m, n, k, alpha: 1.25f, beta: 1f, bias: true, seed: batch + n + k, broadcastW: broadcastW);
    }

    [Theory]
    [InlineData(1, 1, 33)]
    [InlineData(1, 197, 129)]
    [InlineData(3, 31, 7)]
    [InlineData(4, 129, 1000)]
    [InlineData(2, 8, 16)]
    public void StridedViews_OfXWeightsAndDestination_MatchReference(int m, int n, int k)
    {
        // x is a column block of a wider matrix, transposed: stride m + 2 along K (gathered); W and C are narrowed
        // column slices (leading dimensions past the row length), and C's columns outside the view must not change.
        const int pad = 3;
        using var xStore = Tensor.From<float>(TestData.Uniform(k * (m + 2), 1), new Shape(k, m + 2), _cpu);
        using var xCols = xStore.Narrow(1, 1, m);
        using var x = xCols.Transpose(0, 1);
        using var wideW = Tensor.From<float>(TestData.Uniform(n * (k + pad), 2), new Shape(n, k + pad), _cpu);
        using var w = wideW.Narrow(1, 2, k);
        var sentinel = TestData.Uniform(m * (n + pad), 3);
        using var wideC = Tensor.From<float>(sentinel, new Shape(m, n + pad), _cpu);
        using var c = wideC.Narrow(1, 1, n);
        var c0 = c.ToArray<float>();
        var bias = TestData.Uniform(n, 4);
        using var tbias = Tensor.From<float>(bias, new Shape(n), _cpu);

        Gemm.Multiply(x, w, c, new GemmOptions(TransposeB: true, Alpha: 0.5f, Beta: 1f, Bias: tbias));

        var expected = ReferenceGemm.Multiply(x.ToArray<float>(), w.ToArray<float>(), c0, bias, 1, m, n, k, false, true, 0.5f, 1f, false);
        TensorAssert.Close(expected, c.ToArray<float>(), Tolerance.F32Gemm.ForDot(k, 2), $"strided {m}x{n}x{k}");
        var wide = wideC.ToArray<float>();
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n + pad; j++)
                if (j < 1 || j >= n + 1) Assert.Equal(sentinel[i * (n + pad) + j], wide[i * (n + pad) + j]);
    }

    [Theory]
    [InlineData(129, 197)]
    [InlineData(1, 7)]
    public void OneRow_StoredAsColumn_TransposeA_MatchesReference(int n, int k)
    {
        // x stored [K, 1] and multiplied with TransposeA: op(A) is one row with unit stride (no gather).
        var x = TestData.Uniform(k, 5);
        var w = TestData.Uniform(n * k, 6);
        using var tx = Tensor.From<float>(x, new Shape(k, 1), _cpu);
        using var tw = Tensor.From<float>(w, new Shape(n, k), _cpu);
        using var c = Gemm.Multiply(tx, tw, new GemmOptions(TransposeA: true, TransposeB: true));
        var expected = ReferenceGemm.Multiply(x, w, null, null, 1, 1, n, k, false, true, 1f, 0f, false);
        TensorAssert.Close(expected, c.ToArray<float>(), Tolerance.F32Gemm.ForDot(k), $"column x {n}x{k}");
    }

    [Theory]
    [InlineData(1, 8, 64)]
    [InlineData(1, 197, 33)]
    [InlineData(4, 31, 1000)]
    [InlineData(1, 1000, 1000)]
    public void BetaZero_PoisonedDestination_IsNeverRead(int m, int n, int k)
    {
        var x = TestData.Uniform(m * k, 7);
        var w = TestData.Uniform(n * k, 8);
        var bias = TestData.Uniform(n, 9);
        var nan = new float[m * n];
        Array.Fill(nan, float.NaN);
        using var tx = Tensor.From<float>(x, new Shape(m, k), _cpu);
        using var tw = Tensor.From<float>(w, new Shape(n, k), _cpu);
        using var tbias = Tensor.From<float>(bias, new Shape(n), _cpu);
        using var c = Tensor.From<float>(nan, new Shape(m, n), _cpu);
        Gemm.Multiply(tx, tw, c, new GemmOptions(TransposeB: true, Alpha: -1f, Beta: 0f, Bias: tbias));
        var expected = ReferenceGemm.Multiply(x, w, null, bias, 1, m, n, k, false, true, -1f, 0f, false);
        TensorAssert.Close(expected, c.ToArray<float>(), Tolerance.F32Gemm.ForDot(k), "beta 0 over NaN");
    }

    [Theory]
    [InlineData(33, 20)]   // Vector512: lane 20 is summed by the main loop and lies in the overlapping tail vector
    [InlineData(13, 6)]    // Vector256 kernel (K below 16): lane 6 is in the first vector and in the tail
    [InlineData(5, 2)]     // scalar kernel
    public void InfinityInWeights_CountedOnce_NotTurnedIntoNaN(int k, int at)
    {
        const int n = 9;
        var x = TestData.Uniform(k, 10, 0.5f, 1f);
        var w = TestData.Uniform(n * k, 11);
        for (int j = 0; j < n; j++) w[j * k + at] = j % 2 == 0 ? float.PositiveInfinity : float.NegativeInfinity;
        using var tx = Tensor.From<float>(x, new Shape(1, k), _cpu);
        using var tw = Tensor.From<float>(w, new Shape(n, k), _cpu);
        using var c = Gemm.Multiply(tx, tw, new GemmOptions(TransposeB: true));
        var actual = c.ToArray<float>();
        for (int j = 0; j < n; j++) Assert.Equal(j % 2 == 0 ? float.PositiveInfinity : float.NegativeInfinity, actual[j]);
    }

    [Theory]
    [InlineData(1, 1, 1000, 1000)]
    [InlineData(2, 3, 777, 333)]
    [InlineData(1, 1, 4099, 257)]
    public void OneAndTwoThreads_GiveIdenticalResults(int batch, int m, int n, int k)
    {
        // Past GemvWork.ParallelMinMacs the rows are split across the pool; each row is still one thread's dot product.
        var x = TestData.Uniform(batch * m * k, 12);
        var w = TestData.Uniform(n * k, 13);
        using var one = new CpuBackend(threads: 1);
        float[] Run(CpuBackend cpu)
        {
            using var tx = Tensor.From<float>(x, new Shape(batch, m, k), cpu);
            using var tw = Tensor.From<float>(w, new Shape(n, k), cpu);
            using var c = Gemm.Multiply(tx, tw, new GemmOptions(TransposeB: true));
            return c.ToArray<float>();
        }
        var single = Run(one);
        Assert.Equal(single, Run(_cpu));
        var expected = ReferenceGemm.Multiply(x, w, null, null, batch, m, n, k, false, true, 1f, 0f, true);
        TensorAssert.Close(expected, single, Tolerance.F32Gemm.ForDot(k), "threaded gemv");
    }

    [Theory]
    [InlineData(1, 172, 64)]
    [InlineData(4, 768, 768)]
    public void GemvPath_AgreesWithGeneralPath(int m, int n, int k)
    {
        var x = TestData.Uniform(m * k, 14);
        var w = TestData.Uniform(n * k, 15);
        using var general = new CpuBackend(threads: 2);
        ((CpuKernels)general.Kernels).GemvEnabled = false;
        float[] Run(CpuBackend cpu)
        {
            using var tx = Tensor.From<float>(x, new Shape(m, k), cpu);
            using var tw = Tensor.From<float>(w, new Shape(n, k), cpu);
            using var c = Gemm.Multiply(tx, tw, new GemmOptions(TransposeB: true));
            return c.ToArray<float>();
        }
        TensorAssert.Close(Run(general), Run(_cpu), Tolerance.F32Gemm.ForDot(k), "gemv against general path");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Bf16Weights_GiveTheF32ResultOfTheWidenedWeights_Bitwise(bool gemv)
    {
        // Every kernel (scalar below 8, Vector256 from 8, Vector512 from 16, the K tails, several 8-row groups and the
        // general path's BF16 packing) with Inf in a weight row: BF16 widening happens before any arithmetic, so the
        // result must be bit for bit the F32 weights' result, Inf counted once.
        using var cpu = new CpuBackend(threads: 2);
        ((CpuKernels)cpu.Kernels).GemvEnabled = gemv;
        foreach (int k in (int[])[1, 5, 8, 13, 16, 33, 197, 1000])
        foreach (int m in (int[])[1, 3])
        {
            const int n = 19;
            var bits = TestData.Uniform(n * k, k).Select(ReferenceConvert.ToBf16).ToArray();
            bits[k / 2] = ReferenceConvert.ToBf16(float.PositiveInfinity);
            var widened = bits.Select(ReferenceConvert.FromBf16).ToArray();
            var x = TestData.Uniform(m * k, k + 1, 0.5f, 1f);
            var bias = TestData.Uniform(n, k + 2);
            using var tx = Tensor.From<float>(x, new Shape(m, k), cpu);
            using var tb = Tensor.From<ushort>(bits, new Shape(n, k), cpu);
            using var tf = Tensor.From<float>(widened, new Shape(n, k), cpu);
            using var tbias = Tensor.From<float>(bias, new Shape(n), cpu);
            var options = new GemmOptions(TransposeB: true, Alpha: 0.5f, Bias: tbias);
            using var fromBf16 = Gemm.Multiply(tx, tb, options);
            using var fromF32 = Gemm.Multiply(tx, tf, options);
            var actual = fromBf16.ToArray<float>();
            Assert.Equal(fromF32.ToArray<float>(), actual);
            Assert.Equal(float.PositiveInfinity, actual[0]);
            var expected = ReferenceGemm.Multiply(x, widened, null, bias, 1, m, n, k, false, true, 0.5f, 0f, false);
            for (int i = 0; i < m; i++) expected[i * n] = actual[i * n];  // the Inf row, checked above
            TensorAssert.Close(expected, actual, Tolerance.F32Gemm.ForDot(k), $"bf16 {m}x{n}x{k} gemv={gemv}");
        }
    }

    [Theory]
    [InlineData(1, 512, 64, false)]    // stories260K-sized: the calling thread only
    [InlineData(1, 1024, 768, false)]  // split across the pool
    [InlineData(2, 129, 33, true)]     // x gathered into a pooled buffer
    public void SteadyState_AllocatesNothing(int m, int n, int k, bool stridedX)
    {
        using var xStore = Tensor.From<float>(TestData.Uniform(k * (m + 1), 16), new Shape(k, m + 1), _cpu);
        using var xCols = xStore.Narrow(1, 0, m);
        using var xDense = Tensor.From<float>(TestData.Uniform(m * k, 16), new Shape(m, k), _cpu);
        using var xT = xCols.Transpose(0, 1);
        var x = stridedX ? xT : xDense;
        using var w = Tensor.From<float>(TestData.Uniform(n * k, 17), new Shape(n, k), _cpu);
        using var bias = Tensor.From<float>(TestData.Uniform(n, 18), new Shape(n), _cpu);
        using var c = Tensor.Zeros(new Shape(m, n), DType.F32, _cpu);
        var options = new GemmOptions(TransposeB: true, Beta: 1f, Bias: bias);
        SteadyState.AssertAllocatesNothing(_cpu, () => Gemm.Multiply(x, w, c, options));
    }

    private static void Check(CpuBackend cpu, int batch, int m, int n, int k, float alpha, float beta, bool bias, int seed,
        bool broadcastW = true)
    {
        var x = TestData.Uniform(batch * m * k, seed);
        var w = TestData.Uniform((broadcastW ? 1 : batch) * n * k, seed + 1);
        var c0 = TestData.Uniform(batch * m * n, seed + 2);
        var b = bias ? TestData.Uniform(n, seed + 3) : null;
        using var tx = Tensor.From<float>(x, new Shape(batch, m, k), cpu);
        using var tw = Tensor.From<float>(w, broadcastW ? new Shape(n, k) : new Shape(batch, n, k), cpu);
        using var tc = Tensor.From<float>(c0, new Shape(batch, m, n), cpu);
        using var tb = b is null ? null : Tensor.From<float>(b, new Shape(n), cpu);
        Gemm.Multiply(tx, tw, tc, new GemmOptions(TransposeB: true, Alpha: alpha, Beta: beta, Bias: tb));
        var expected = ReferenceGemm.Multiply(x, w, c0, b, batch, m, n, k, false, true, alpha, beta, broadcastW);
        TensorAssert.Close(expected, tc.ToArray<float>(), Tolerance.F32Gemm.ForDot(k, Math.Abs(alpha) + Math.Abs(beta)),
            $"gemv batch {batch} {m}x{n}x{k} alpha {alpha} beta {beta} bias {bias} broadcast {broadcastW}");
    }
}
