// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Every core op on the backend under test against the plain-loop double references, on seeded random inputs,
// odd sizes and edge cases (fully masked rows, huge logits, ties, NaN).
namespace HpcCore.Testing.Conformance;

using HpcCore.Kernels;
using HpcCore.Ops;
using HpcCore.Testing.Reference;
using HpcCore.Tensors;
using Xunit;

/// <summary>Core-op conformance suite; bind it to a backend with a thin subclass.</summary>
public abstract class OpsConformance : ConformanceBase
{
    /// <summary>Transpose combinations for GEMM.</summary>
    public static TheoryData<bool, bool> Transposes => new() { { false, false }, { true, false }, { false, true }, { true, true } };

    [Theory]
    [MemberData(nameof(Transposes))]
    public void Gemm_MatchesReference_OverOddSizes(bool transA, bool transB)
    {
        int[] sizes = IsEmulator ? [1, 7, 33] : [1, 7, 33, 129];
        int seed = 0;
        foreach (int m in sizes)
        foreach (int n in sizes)
        foreach (int k in (int[])[1, sizes[^1]])
        {
            seed++;
            var a = TestData.Uniform(m * k, seed);
            var b = TestData.Uniform(k * n, seed + 1000);
            using var ta = transA ? On(a, k, m) : On(a, m, k);
            using var tb = transB ? On(b, n, k) : On(b, k, n);
            using var c = Gemm.Multiply(ta, tb, new GemmOptions(transA, transB));
            var expected = ReferenceGemm.Multiply(a, b, null, null, 1, m, n, k, transA, transB, 1, 0, false);
            TensorAssert.Close(expected, Read(c), Adjust(Tolerance.F32Gemm.ForDot(k)), $"gemm {m}x{n}x{k} tA={transA} tB={transB}");
        }
    }

    [Fact]
    public void Gemm_BatchedWithBroadcastWeightBiasAlphaBeta_MatchesReference()
    {
        int batch = 3, m = IsEmulator ? 5 : 31, n = IsEmulator ? 6 : 33, k = IsEmulator ? 7 : 127;
        var a = TestData.Uniform(batch * m * k, 1);
        var b = TestData.Uniform(n * k, 2);
        var c0 = TestData.Uniform(batch * m * n, 3);
        var bias = TestData.Uniform(n, 4);
        using var ta = On(a, batch, m, k);
        using var tb = On(b, n, k);
        using var tbias = On(bias, n);
        using var tc = On(c0, batch, m, n);
        Gemm.Multiply(ta, tb, tc, new GemmOptions(TransposeB: true, Alpha: 0.5f, Beta: -2f, Bias: tbias));
        var expected = ReferenceGemm.Multiply(a, b, c0, bias, batch, m, n, k, false, true, 0.5f, -2f, true);
        TensorAssert.Close(expected, Read(tc), Adjust(Tolerance.F32Gemm.ForDot(k, 2)), "batched gemm");
    }

    [Fact]
    public void Gemm_MatrixVector_BiasAlphaBetaAndPoisonedDestination_MatchReference()
    {
        // One-row (and three-row) products against an nn.Linear weight [N, K], batched: the decoder's shapes.
        int[] sizes = IsEmulator ? [1, 7, 33] : [1, 7, 31, 33, 127, 129, 197];
        int[] rows = IsEmulator ? [1] : [1, 3];
        const int batch = 2;
        int seed = 0;
        foreach (int m in rows)
        foreach (int n in sizes)
        foreach (int k in sizes)
        {
            seed++;
            var x = TestData.Uniform(batch * m * k, seed);
            var w = TestData.Uniform(n * k, seed + 1000);
            var c0 = TestData.Uniform(batch * m * n, seed + 2000);
            var bias = TestData.Uniform(n, seed + 3000);
            using var tx = On(x, batch, m, k);
            using var tw = On(w, n, k);
            using var tbias = On(bias, n);
            using var tc = On(c0, batch, m, n);
            Gemm.Multiply(tx, tw, tc, new GemmOptions(TransposeB: true, Alpha: 0.5f, Beta: 1f, Bias: tbias));
            var expected = ReferenceGemm.Multiply(x, w, c0, bias, batch, m, n, k, false, true, 0.5f, 1f, true);
            TensorAssert.Close(expected, Read(tc), Adjust(Tolerance.F32Gemm.ForDot(k, 2)), $"gemv {batch}x{m}x{n}x{k} beta 1");
            using var poisoned = Poisoned(batch, m, n);
            Gemm.Multiply(tx, tw, poisoned, new GemmOptions(TransposeB: true, Bias: tbias));
            expected = ReferenceGemm.Multiply(x, w, null, bias, batch, m, n, k, false, true, 1f, 0f, true);
            TensorAssert.Close(expected, Read(poisoned), Adjust(Tolerance.F32Gemm.ForDot(k)), $"gemv {batch}x{m}x{n}x{k} beta 0 over NaN");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Gemm_PackedOperand_MatchesReference_AcrossKBlocksAndMatrixVectorRows(bool transB)
    {
        // K past the CPU's largest K block (768) so that later blocks read the packed panels at their K offset; M of 1
        // and 3 take the matrix-vector path, which reads the source in place; N off the panel width pads the last panel.
        int[] ms = IsEmulator ? [1, 9] : [1, 3, 9, 130];
        int[] ks = IsEmulator ? [7] : [5, 800, 1601];
        int n = IsEmulator ? 19 : 45, batch = 2, seed = 100;
        foreach (int k in ks)
        {
            var b = TestData.Uniform(k * n, seed++);
            var bias = TestData.Uniform(n, seed++);
            using var tb = transB ? On(b, n, k) : On(b, k, n);
            using var tbias = On(bias, n);
            using var packed = Gemm.Pack(tb, transB);
            Assert.Equal((k, n), (packed.K, packed.N));
            foreach (int m in ms)
            {
                var a = TestData.Uniform(batch * m * k, seed++);
                var c0 = TestData.Uniform(batch * m * n, seed++);
                using var ta = On(a, batch, m, k);
                using var tc = On(c0, batch, m, n);
                Gemm.Multiply(ta, packed, tc, new GemmOptions(Alpha: 0.5f, Beta: 1f, Bias: tbias));
                var expected = ReferenceGemm.Multiply(a, b, c0, bias, batch, m, n, k, false, transB, 0.5f, 1f, true);
                TensorAssert.Close(expected, Read(tc), Adjust(Tolerance.F32Gemm.ForDot(k, 2)), $"packed gemm {batch}x{m}x{n}x{k} tB={transB}");
                using var poisoned = Poisoned(batch, m, n);
                Gemm.Multiply(ta, packed, poisoned);
                expected = ReferenceGemm.Multiply(a, b, null, null, batch, m, n, k, false, transB, 1f, 0f, true);
                TensorAssert.Close(expected, Read(poisoned), Adjust(Tolerance.F32Gemm.ForDot(k)), $"packed gemm {m}x{n}x{k} beta 0 over NaN");
            }
        }
    }

    [Fact]
    public void Gemm_PackedOperand_FewRowsManyPanels_MatchReference()
    {
        // The CPU streams a pre-packed B through chunks of panels when A has 2 to 7 row groups of 8 (GemmWork's
        // MultiplyStreamed): each call prefetches its share of the next chunk, of this K block or the next. N of 25
        // panels (the last partial) gives tiles of several chunks, K 800 two K blocks, M 56 / 57 the edge of the path
        // and a partial last row group; bias, alpha, beta and GELU (applied after the last K block) on every shape.
        int[] ms = IsEmulator ? [9] : [9, 21, 56, 57];
        int n = IsEmulator ? 37 : 777, k = IsEmulator ? 7 : 800, seed = 700;
        var b = TestData.Uniform(n * k, seed++);
        var bias = TestData.Uniform(n, seed++);
        using var tb = On(b, n, k);
        using var tbias = On(bias, n);
        using var packed = Gemm.Pack(tb, transposeB: true);
        foreach (int m in ms)
        {
            var a = TestData.Uniform(m * k, seed++);
            var c0 = TestData.Uniform(m * n, seed++);
            using var ta = On(a, m, k);
            using var tc = On(c0, m, n);
            Gemm.Multiply(ta, packed, tc, new GemmOptions(Alpha: 0.5f, Beta: 1f, Bias: tbias, Activation: GemmActivation.Gelu));
            var expected = ReferenceGemm.Multiply(a, b, c0, bias, 1, m, n, k, false, true, 0.5f, 1f, true)
                .Select(v => 0.5 * v * (1 + ReferenceElementwise.Erf(v / Math.Sqrt(2)))).ToArray();
            TensorAssert.Close(expected, Read(tc), Adjust(Tolerance.F32Gemm.ForDot(k, 4)), $"packed gemm {m}x{n}x{k} gelu");
            using var poisoned = Poisoned(m, n);
            Gemm.Multiply(ta, packed, poisoned);
            expected = ReferenceGemm.Multiply(a, b, null, null, 1, m, n, k, false, true, 1f, 0f, true);
            TensorAssert.Close(expected, Read(poisoned), Adjust(Tolerance.F32Gemm.ForDot(k)), $"packed gemm {m}x{n}x{k} beta 0 over NaN");
        }
    }

    [Theory]
    [InlineData(GemmActivation.Gelu)]
    [InlineData(GemmActivation.GeluTanh)]
    [InlineData(GemmActivation.Silu)]
    public void Gemm_FusedActivation_AppliesLastOnEveryPath(GemmActivation activation)
    {
        // act(alpha * A B^T + beta * C + bias) on the matrix-vector rows (M 1, 3), a ragged tiled product, K = 0 (bias
        // and C only) and a packed operand; K past the CPU's K block so the activation waits for the last one.
        Func<double, double> act = activation switch
        {
            GemmActivation.Gelu => v => 0.5 * v * (1 + ReferenceElementwise.Erf(v / Math.Sqrt(2))),
            GemmActivation.GeluTanh => v => 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))),
            _ => v => v / (1 + Math.Exp(-v)),
        };
        int n = IsEmulator ? 13 : 45, batch = 2, seed = 300;
        int[] ms = IsEmulator ? [1, 9] : [1, 3, 37];
        int[] ks = IsEmulator ? [0, 7] : [0, 33, 800];
        foreach (int k in ks)
        foreach (int m in ms)
        foreach (bool packed in (bool[])[false, true])
        {
            if (packed && k == 0) continue;
            var a = TestData.Uniform(batch * m * k, seed++, -2f, 2f);
            var b = TestData.Uniform(n * k, seed++, -2f, 2f);
            var c0 = TestData.Uniform(batch * m * n, seed++, -3f, 3f);
            var bias = TestData.Uniform(n, seed++, -3f, 3f);
            using var ta = On(a, batch, m, k);
            using var tb = On(b, n, k);
            using var tbias = On(bias, n);
            using var tc = On(c0, batch, m, n);
            var options = new GemmOptions(Alpha: 0.5f, Beta: 1f, Bias: tbias, Activation: activation);
            if (packed)
            {
                using var pb = Gemm.Pack(tb, transposeB: true);
                Gemm.Multiply(ta, pb, tc, options);
            }
            else
            {
                Gemm.Multiply(ta, tb, tc, options with { TransposeB = true });
            }
            var expected = ReferenceGemm.Multiply(a, b, c0, bias, batch, m, n, k, false, true, 0.5f, 1f, true).Select(act).ToArray();
            TensorAssert.Close(expected, Read(tc), Adjust(Tolerance.F32Gemm.ForDot(Math.Max(k, 1), 4)),
                $"gemm {activation} {batch}x{m}x{n}x{k} packed={packed}");
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Gemm_Bf16Weights_MatchReferenceOnTheWidenedValues(bool transB)
    {
        // B in BF16, A and C in F32: matrix-vector rows (M = 1 to 4 with B transposed), the tiled GEMM packing B per call
        // (larger M, or B not transposed) and a weight packed once, against the double reference on the same BF16
        // values widened. K covers the scalar (< 8), 8-wide (8 to 15) and 16-wide kernels' tails and, on the CPU, a
        // second K block (800 > 768); N off the panel width; bias, alpha, beta, and an activation over a NaN-poisoned
        // destination (beta 0 must not read it).
        int[] ns = IsEmulator ? [7, 33] : [1, 7, 33, 45];
        int[] ks = IsEmulator ? [5, 17] : [1, 5, 15, 16, 17, 33, 800];
        int[] ms = IsEmulator ? [1, 9] : [1, 2, 3, 4, 5, 9, 33];
        const int batch = 2;
        int seed = 500;
        foreach (int n in ns)
        foreach (int k in ks)
        {
            var wBits = TestData.Uniform(n * k, seed++).Select(ReferenceConvert.ToBf16).ToArray();
            var w = wBits.Select(ReferenceConvert.FromBf16).ToArray();
            var bias = TestData.Uniform(n, seed++);
            using var tw = transB ? On(wBits, n, k) : On(wBits, k, n);
            Assert.Equal(DType.BF16, tw.DType);
            using var tbias = On(bias, n);
            using var packed = Gemm.Pack(tw, transB);
            foreach (int m in ms)
            {
                var a = TestData.Uniform(batch * m * k, seed++);
                var c0 = TestData.Uniform(batch * m * n, seed++);
                using var ta = On(a, batch, m, k);
                using var tc = On(c0, batch, m, n);
                Gemm.Multiply(ta, tw, tc, new GemmOptions(TransposeB: transB, Alpha: 0.5f, Beta: 1f, Bias: tbias));
                var expected = ReferenceGemm.Multiply(a, w, c0, bias, batch, m, n, k, false, transB, 0.5f, 1f, true);
                TensorAssert.Close(expected, Read(tc), Adjust(Tolerance.F32Gemm.ForDot(k, 2)), $"bf16 gemm {batch}x{m}x{n}x{k} tB={transB}");
                using var poisoned = Poisoned(batch, m, n);
                Gemm.Multiply(ta, packed, poisoned, new GemmOptions(Bias: tbias, Activation: GemmActivation.Silu));
                expected = ReferenceGemm.Multiply(a, w, null, bias, batch, m, n, k, false, transB, 1f, 0f, true)
                    .Select(v => v / (1 + Math.Exp(-v))).ToArray();
                TensorAssert.Close(expected, Read(poisoned), Adjust(Tolerance.F32Gemm.ForDot(k, 4)), $"packed bf16 gemm {batch}x{m}x{n}x{k} tB={transB} silu");
            }
        }
    }

    [Fact]
    public void Gemm_RefusesOtherWeightDTypes_AndBf16Activations()
    {
        using var a = On(new float[6], 2, 3);
        using var f16 = On(new Half[6], 2, 3);
        using var bf16 = On(new ushort[6], 3, 2);
        var e = Assert.Throws<ArgumentException>(() => Gemm.Multiply(a, f16, new GemmOptions(TransposeB: true)));
        Assert.Contains("Gemm.Multiply", e.Message);
        Assert.Contains("F16", e.Message);
        Assert.Equal("b", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => Gemm.Pack(f16, transposeB: true));
        Assert.Contains("Gemm.Pack", e.Message);
        e = Assert.Throws<ArgumentException>(() => Gemm.Multiply(bf16, bf16));
        Assert.Equal("a", e.ParamName);
        Assert.Contains("BF16", e.Message);
    }

    [Fact]
    public void Gemm_RefusesUndefinedActivation()
    {
        using var ta = On(TestData.Uniform(4, 1), 2, 2);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply(ta, ta, new GemmOptions(Activation: (GemmActivation)9)));
        Assert.Contains("Activation", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Gemm_PackedOperand_RefusesTransposeOptionAndDisposedMatrix()
    {
        using var tb = On(TestData.Uniform(6, 1), 2, 3);
        using var ta = On(TestData.Uniform(4, 2), 2, 2);
        using var tc = On(new float[6], 2, 3);
        var packed = Gemm.Pack(tb);
        var e = Assert.Throws<ArgumentException>(() => Gemm.Multiply(ta, packed, tc, new GemmOptions(TransposeB: true)));
        Assert.Contains("TransposeB", e.Message, StringComparison.Ordinal);
        packed.Dispose();
        Assert.False(tb.IsDisposed);
        e = Assert.Throws<ArgumentException>(() => Gemm.Multiply(ta, packed, tc));
        Assert.Contains("disposed", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Gemm_StridedAndTransposedViews_MatchDenseResult()
    {
        int m = 7, n = 9, k = IsEmulator ? 5 : 33;
        var wide = TestData.Uniform(m * (k + 3), 5);
        var b = TestData.Uniform(n * k, 6);
        using var full = On(wide, m, k + 3);
        using var a = full.Narrow(1, 2, k);        // [m, k] with row stride k + 3
        using var bn = On(b, n, k);
        using var bt = bn.Transpose(0, 1);        // [k, n] view with stride 1 on axis 0: folded into transB
        using var c = Gemm.Multiply(a, bt);
        var dense = new float[m * k];
        for (int i = 0; i < m; i++)
            for (int p = 0; p < k; p++) dense[i * k + p] = wide[i * (k + 3) + 2 + p];
        var expected = ReferenceGemm.Multiply(dense, b, null, null, 1, m, n, k, false, true, 1, 0, false);
        TensorAssert.Close(expected, Read(c), Adjust(Tolerance.F32Gemm.ForDot(k)), "strided gemm");
    }

    [Fact]
    public void DefaultOptions_MeanAPlainProduct_AndLlamaRope()
    {
        var a = TestData.Uniform(15, 1);
        var b = TestData.Uniform(20, 2);
        using var ta = On(a, 3, 5);
        using var tb = On(b, 5, 4);
        using var c1 = Gemm.Multiply(ta, tb);
        using var c2 = Gemm.Multiply(ta, tb, new GemmOptions());
        var expected = ReferenceGemm.Multiply(a, b, null, null, 1, 3, 4, 5, false, false, 1, 0, false);
        TensorAssert.Close(expected, Read(c1), Adjust(Tolerance.F32Gemm), "gemm default options");
        TensorAssert.Close(expected, Read(c2), Adjust(Tolerance.F32Gemm), "gemm new GemmOptions()");

        var x = TestData.Uniform(2 * 3 * 2 * 8, 3);
        using var tx = On(x, 2, 3, 2, 8);
        using var y = Rope.Apply(tx);
        var expectedRope = ReferenceRope.Apply(x, 2, 3, 2, 8, 8, 10000, true, 0, null);
        TensorAssert.Close(expectedRope, Read(y), Adjust(Tolerance.F32Reduction), "rope default options");
    }

    [Fact]
    public void AddAndMultiply_BroadcastTrailingAxes_MatchReference()
    {
        foreach (int c in Sizes)
        {
            var x = TestData.Uniform(3 * c, c);
            var y = TestData.Uniform(c, c + 1);
            using var tx = On(x, 3, c);
            using var ty = On(y, c);
            using var sum = Elementwise.Add(tx, ty);
            using var prod = Elementwise.Multiply(tx, ty);
            using var scaled = Elementwise.Scale(tx, -1.5f);
            TensorAssert.Close(ReferenceElementwise.Add(x, y), Read(sum), Adjust(Tolerance.F32Elementwise), $"add c={c}");
            TensorAssert.Close(ReferenceElementwise.Multiply(x, y), Read(prod), Adjust(Tolerance.F32Elementwise), $"mul c={c}");
            TensorAssert.Close(ReferenceElementwise.Scale(x, -1.5f), Read(scaled), Adjust(Tolerance.F32Elementwise), $"scale c={c}");
        }
    }

    [Fact]
    public void Add_InPlace_WritesIntoLeftOperand()
    {
        var x = TestData.Uniform(40, 1);
        var y = TestData.Uniform(40, 2);
        using var tx = On(x, 4, 10);
        using var ty = On(y, 4, 10);
        Elementwise.Add(tx, ty, tx);
        TensorAssert.Close(ReferenceElementwise.Add(x, y), Read(tx), Adjust(Tolerance.F32Elementwise), "in-place add");
    }

    [Fact]
    public void Activations_MatchReference()
    {
        foreach (int n in Sizes)
        {
            var x = TestData.Uniform(2 * n, n, -6f, 6f);
            var up = TestData.Uniform(2 * n, n + 7);
            using var tx = On(x, 2, n);
            using var tu = On(up, 2, n);
            using var gelu = Activations.Gelu(tx);
            using var geluTanh = Activations.GeluTanh(tx);
            using var silu = Activations.Silu(tx);
            using var swiglu = Activations.SwiGlu(tx, tu);
            var tol = Adjust(Tolerance.F32Activation);
            TensorAssert.Close(ReferenceElementwise.Gelu(x), Read(gelu), tol, $"gelu n={n}");
            TensorAssert.Close(ReferenceElementwise.GeluTanh(x), Read(geluTanh), tol, $"gelu-tanh n={n}");
            TensorAssert.Close(ReferenceElementwise.Silu(x), Read(silu), tol, $"silu n={n}");
            TensorAssert.Close(ReferenceElementwise.SwiGlu(x, up), Read(swiglu), tol, $"swiglu n={n}");
        }
    }

    [Fact]
    public void SwiGlu_InPlace_IntoGateOrUp()
    {
        foreach (int n in Sizes)
        {
            var x = TestData.Uniform(2 * n, n, -6f, 6f);
            var up = TestData.Uniform(2 * n, n + 7);
            var expected = ReferenceElementwise.SwiGlu(x, up);
            var tol = Adjust(Tolerance.F32Activation);
            using (var tx = On(x, 2, n))
            using (var tu = On(up, 2, n))
            {
                Activations.SwiGlu(tx, tu, tx);
                TensorAssert.Close(expected, Read(tx), tol, $"swiglu into gate n={n}");
            }
            using (var tx = On(x, 2, n))
            using (var tu = On(up, 2, n))
            {
                Activations.SwiGlu(tx, tu, tu);
                TensorAssert.Close(expected, Read(tu), tol, $"swiglu into up n={n}");
            }
        }
    }

    [Fact]
    public void Softmax_MatchesReference_WithHugeLogitsAndMaskedRows()
    {
        foreach (int n in Sizes)
        {
            int rows = 4;
            var x = TestData.Uniform(rows * n, n, -5f, 5f);
            for (int j = 0; j < n; j++)
            {
                x[n + j] += 1000f;                               // row 1: huge logits (naive exp overflows)
                x[2 * n + j] = float.NegativeInfinity;           // row 2: fully masked
                if (j % 2 == 1) x[3 * n + j] = float.NegativeInfinity; // row 3: partly masked
            }
            using var tx = On(x, rows, n);
            using var y = Softmax.Forward(tx);
            var actual = Read(y);
            TensorAssert.Close(ReferenceRowOps.Softmax(x, rows, n), actual, Adjust(Tolerance.F32Reduction), $"softmax n={n}");
            for (int j = 0; j < n; j++) Assert.Equal(0f, actual[2 * n + j]);
        }
    }

    [Fact]
    public void LayerNormAndRmsNorm_MatchReference()
    {
        foreach (int c in Sizes)
        {
            int rows = 3;
            var x = TestData.Normal(rows * c, c);
            for (int j = 0; j < c; j++) x[j] += 100f; // a row with |mean| >> std
            var g = TestData.Uniform(c, c + 1, 0.5f, 1.5f);
            var b = TestData.Uniform(c, c + 2);
            using var tx = On(x, rows, c);
            using var tg = On(g, c);
            using var tb = On(b, c);
            using var ln = Norms.LayerNorm(tx, tg, tb, 1e-5f);
            using var lnNoBias = Norms.LayerNorm(tx, tg, null, 1e-5f);
            using var rms = Norms.RmsNorm(tx, tg, 1e-6f);
            var tol = Adjust(Tolerance.F32Reduction);
            TensorAssert.Close(ReferenceRowOps.LayerNorm(x, g, b, rows, c, 1e-5), Read(ln), tol, $"layernorm c={c}");
            TensorAssert.Close(ReferenceRowOps.LayerNorm(x, g, null, rows, c, 1e-5), Read(lnNoBias), tol, $"layernorm no beta c={c}");
            TensorAssert.Close(ReferenceRowOps.RmsNorm(x, g, rows, c, 1e-6), Read(rms), tol, $"rmsnorm c={c}");
        }
    }

    public static TheoryData<RopeLayout, int> RopeCases => new()
    {
        { RopeLayout.Interleaved, 0 }, { RopeLayout.HalfSplit, 0 }, { RopeLayout.Interleaved, 4 }, { RopeLayout.HalfSplit, 6 },
    };

    [Theory]
    [MemberData(nameof(RopeCases))]
    public void Rope_MatchesReference(RopeLayout layout, int rotaryDim)
    {
        int b = 2, t = IsEmulator ? 3 : 33, h = 3, d = 8;
        var x = TestData.Uniform(b * t * h * d, 11);
        using var tx = On(x, b, t, h, d);
        using var y = Rope.Apply(tx, new RopeOptions(10000f, layout, rotaryDim, PositionOffset: 5));
        int r = rotaryDim == 0 ? d : rotaryDim;
        var expected = ReferenceRope.Apply(x, b, t, h, d, r, 10000, layout == RopeLayout.Interleaved, 5, null);
        TensorAssert.Close(expected, Read(y), Adjust(Tolerance.F32Reduction), $"rope {layout} r={r}");

        var positions = TestData.Ints(b * t, 12, 500);
        using var tp = On(positions, b, t);
        using var y2 = Rope.Apply(tx, new RopeOptions(10000f, layout, rotaryDim, Positions: tp));
        var expected2 = ReferenceRope.Apply(x, b, t, h, d, r, 10000, layout == RopeLayout.Interleaved, 0, positions);
        TensorAssert.Close(expected2, Read(y2), Adjust(Tolerance.F32Reduction), $"rope positions {layout} r={r}");
    }

    [Fact]
    public void Embedding_GathersRows()
    {
        int vocab = 11, dim = IsEmulator ? 7 : 33;
        var table = TestData.Uniform(vocab * dim, 3);
        var ids = new[] { 0, 10, 3, 3, 7, 1 };
        using var tt = On(table, vocab, dim);
        using var ti = On(ids, 2, 3);
        using var y = Embedding.Gather(tt, ti);
        Assert.Equal(new Shape(2, 3, dim), y.Shape);
        var expected = new double[ids.Length * dim];
        for (int i = 0; i < ids.Length; i++)
            for (int j = 0; j < dim; j++) expected[i * dim + j] = table[ids[i] * dim + j];
        TensorAssert.Close(expected, Read(y), Tolerance.F32Elementwise with { Atol = 0, Rtol = 0 }, "embedding");
    }

    [Fact]
    public void Argmax_TiesGoToLowerIndex_AndNaNIsSkipped()
    {
        int cols = IsEmulator ? 33 : 129;
        var x = TestData.Uniform(5 * cols, 9);
        for (int j = 0; j < cols; j++) x[j] = 2f;                    // row 0: all tied -> 0
        x[cols + 17 % cols] = 5f; x[cols + (cols - 1)] = 5f;        // row 1: two maxima -> the first
        for (int j = 0; j < cols; j++) x[2 * cols + j] = float.NaN;  // row 2: all NaN -> -1
        x[3 * cols] = float.NaN; x[3 * cols + 4] = 9f;               // row 3: NaN skipped
        using var tx = On(x, 5, cols);
        using var idx = Reductions.Argmax(tx);
        Backend.Synchronize();
        TensorAssert.Equal(ReferenceRowOps.Argmax(x, 5, cols), idx.ToArray<int>(), "argmax");
    }

    [Fact]
    public void Convert_RoundsToNearestEven_ForF16AndBF16()
    {
        var x = TestData.Normal(IsEmulator ? 64 : 1000, 21, 100f);
        x[0] = float.NaN; x[1] = float.PositiveInfinity; x[2] = -0f; x[3] = 1e-40f;
        x[4] = BitConverter.UInt32BitsToSingle(0x3F808000); // exactly halfway between two BF16 values: ties to even
        x[5] = BitConverter.UInt32BitsToSingle(0x3F818000); // halfway, odd lower neighbour: rounds up
        x[6] = 65520f;                                        // rounds to F16 infinity
        using var tx = On(x, x.Length);
        using var bf = Cast.To(tx, DType.BF16);
        using var f16 = Cast.To(tx, DType.F16);
        using var back = Cast.To(bf, DType.F32);
        Backend.Synchronize();
        var bfBits = bf.ToArray<ushort>();
        var f16Values = f16.ToArray<Half>();
        for (int i = 0; i < x.Length; i++)
        {
            Assert.Equal(ReferenceConvert.ToBf16(x[i]), bfBits[i]);
            Assert.Equal(BitConverter.HalfToUInt16Bits(ReferenceConvert.ToF16(x[i])), BitConverter.HalfToUInt16Bits(f16Values[i]));
        }
        var roundTrip = back.ToArray<float>();
        for (int i = 0; i < x.Length; i++)
            Assert.Equal(BitConverter.SingleToUInt32Bits(ReferenceConvert.FromBf16(bfBits[i])), BitConverter.SingleToUInt32Bits(roundTrip[i]));
    }

    [Fact]
    public void Contiguous_OfPermutedAndNarrowedViews_CopiesElementsInOrder()
    {
        int b = 2, t = 5, h = 3, d = IsEmulator ? 4 : 33;
        var x = TestData.Uniform(b * t * h * d, 31);
        using var tx = On(x, b, t, h, d);
        using var permuted = tx.Permute(0, 2, 1, 3);   // [B, H, T, D]
        using var narrowed = permuted.Narrow(2, 1, 3);  // T in [1, 4)
        using var dense = narrowed.Contiguous();
        Assert.True(dense.IsContiguous);
        var expected = new double[b * h * 3 * d];
        int o = 0;
        for (int bi = 0; bi < b; bi++)
            for (int hi = 0; hi < h; hi++)
                for (int ti = 1; ti < 4; ti++)
                    for (int di = 0; di < d; di++) expected[o++] = x[((bi * t + ti) * h + hi) * d + di];
        TensorAssert.Close(expected, Read(dense), Tolerance.F32Elementwise with { Atol = 0, Rtol = 0 }, "permute+narrow");
    }

    [Fact]
    public void Zeros_AreZero_AndPoisonedOutputsAreOverwritten()
    {
        using var z = Tensor.Zeros(new Shape(3, 17), DType.F32, Backend);
        Assert.All(Read(z), v => Assert.Equal(0f, v));
        var x = TestData.Uniform(3 * 17, 2);
        using var tx = On(x, 3, 17);
        using var dest = Poisoned(3, 17);
        Softmax.Forward(tx, dest);
        Assert.All(Read(dest), v => Assert.False(float.IsNaN(v)));
    }
}
