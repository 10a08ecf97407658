// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The fused ILGPU attention kernel on the CPU emulator (32-thread groups, 4 x 4 tiles) against the double reference
// at tiny shapes, one option at a time, plus one combined case against the CPU backend. Shapes cross several query
// blocks and key tiles with ragged edges.
namespace HpcCore.Gpu.Tests;

using HpcCore.Devices;
using HpcCore.Kernels;
using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.Testing;
using HpcCore.Testing.Reference;

/// <summary>One attention case (a trimmed copy of HpcCore.Tests' AttentionCase); Bias is 0, 2 ([B, Tk]) or 3 ([B, Hkv, Tk]).</summary>
internal sealed record GpuAttentionCase(int B, int Tq, int Tk, int H, int Hkv, int D)
{
    public bool Causal { get; init; }
    public int? Left { get; init; }
    public int? Right { get; init; }
    public float SoftCap { get; init; }
    public DType? Pad { get; init; }
    public int[]? Lengths { get; init; }
    public int Bias { get; init; }
    public bool Rel { get; init; }
    public int Selected { get; init; }
    public int[]? Rows { get; init; }
    public bool Totals { get; init; }
    public float Magnitude { get; init; } = 1f;

    /// <summary>q, k, v as slices of one packed [B, T, 3H, D] projection (Tq = Tk, H = Hkv) and a strided destination.</summary>
    public bool Packed { get; init; }
    public int Seed { get; init; } = 1;

    private int Slots => Selected > 0 ? Selected : Tk;
    private float[] Q => Scaled(TestData.Uniform(B * Tq * H * D, Seed));
    private float[] K => Scaled(TestData.Uniform(B * Tk * Hkv * D, Seed + 1));
    private float[] V => TestData.Uniform(B * Tk * Hkv * D, Seed + 2);
    private bool[]? Keep => Pad is null ? null : TestData.Ints(B * Tk, Seed + 3, 4).Select(x => x != 0).ToArray();
    private float[]? KeyBias => Bias == 0 ? null : TestData.Uniform(B * (Bias == 3 ? Hkv : 1) * Tk, Seed + 4, -2f, 2f);
    private float[]? PosBias => Rel ? TestData.Uniform(H * Tq * Tk, Seed + 5, -3f, 3f) : null;
    private int[]? Sel => Selected > 0 ? TestData.Ints(B * Hkv * Selected, Seed + 6, Tk) : null;

    /// <summary>Runs Attention.Forward on <paramref name="backend"/>: output, key totals and probability rows.</summary>
    public (float[] Output, float[]? Totals, float[]? Rows) Run(IBackend backend, AttentionVariant variant = AttentionVariant.Fused)
    {
        var owned = new List<Tensor>();
        Tensor Own(Tensor t)
        {
            owned.Add(t);
            return t;
        }
        try
        {
            float[] q = Q, k = K, v = V;
            Tensor tq, tk, tv, dest;
            if (Packed)
            {
                var packed = new float[B * Tq * 3 * H * D];
                for (int bt = 0; bt < B * Tq; bt++)
                {
                    Array.Copy(q, bt * H * D, packed, (bt * 3 + 0) * H * D, H * D);
                    Array.Copy(k, bt * H * D, packed, (bt * 3 + 1) * H * D, H * D);
                    Array.Copy(v, bt * H * D, packed, (bt * 3 + 2) * H * D, H * D);
                }
                var all = Own(Tensor.From<float>(packed, new Shape(B, Tq, 3 * H, D), backend));
                (tq, tk, tv) = (all.Narrow(2, 0, H), all.Narrow(2, H, H), all.Narrow(2, 2 * H, H));
                dest = Own(Tensor.From<float>(NaNs(B * Tq * H * (D + 3)), new Shape(B, Tq, H, D + 3), backend)).Narrow(3, 1, D);
            }
            else
            {
                tq = Own(Tensor.From<float>(q, new Shape(B, Tq, H, D), backend));
                tk = Own(Tensor.From<float>(k, new Shape(B, Tk, Hkv, D), backend));
                tv = Own(Tensor.From<float>(v, new Shape(B, Tk, Hkv, D), backend));
                dest = Own(Tensor.From<float>(NaNs(B * Tq * H * D), new Shape(B, Tq, H, D), backend));
            }
            Tensor? pad = null;
            if (Keep is { } keep)
            {
                pad = Pad == DType.Bool
                    ? Own(Tensor.From<bool>(keep, new Shape(B, Tk), backend))
                    : Own(Tensor.From<byte>(keep.Select(x => x ? (byte)7 : (byte)0).ToArray(), new Shape(B, Tk), backend));
            }
            var bias = KeyBias;
            var rel = PosBias;
            var sel = Sel;
            var options = new AttentionOptions(
                Causal: Causal, WindowLeft: Left, WindowRight: Right, SoftCap: SoftCap,
                KeyPaddingMask: pad,
                KeyLengths: Lengths is null ? null : Own(Tensor.From<int>(Lengths, new Shape(B), backend)),
                KeyBias: bias is null ? null : Own(Tensor.From<float>(bias, Bias == 3 ? new Shape(B, Hkv, Tk) : new Shape(B, Tk), backend)),
                PositionBias: rel is null ? null : Own(Tensor.From<float>(rel, new Shape(H, Tq, Tk), backend)),
                SelectedKeys: sel is null ? null : Own(Tensor.From<int>(sel, new Shape(B, Hkv, Selected), backend)),
                KeyTotals: Totals ? Own(Tensor.From<float>(NaNs(B * H * Slots), new Shape(B, H, Slots), backend)) : null,
                RowIndices: Rows is null ? null : Own(Tensor.From<int>(Rows, new Shape(Rows.Length), backend)),
                RowProbabilities: Rows is null ? null
                    : Own(Tensor.From<float>(NaNs(B * H * Rows.Length * Slots), new Shape(B, H, Rows.Length, Slots), backend)),
                Variant: variant);
            Attention.Forward(tq, tk, tv, dest, options);
            return (dest.Contiguous().ToArray<float>(), options.KeyTotals?.ToArray<float>(), options.RowProbabilities?.ToArray<float>());
        }
        finally
        {
            foreach (var t in owned) t.Dispose();
        }
    }

    /// <summary>The double-precision reference of this case.</summary>
    public (double[] Output, double[] Totals, double[] RowProbabilities) Expected() =>
        ReferenceAttention.Forward(Q, K, V, B, Tq, Tk, H, Hkv, D, new ReferenceAttentionOptions
        {
            Scale = 1.0 / Math.Sqrt(D), Causal = Causal, WindowLeft = Left, WindowRight = Right, SoftCap = SoftCap,
            Keep = Keep, Lengths = Lengths, KeyBias = KeyBias, KeyBiasPerKvHead = Bias == 3, PositionBias = PosBias,
            Selected = Sel, SelectedCount = Selected, Rows = Rows,
        });

    /// <summary>Runs on <paramref name="backend"/> and compares output and exports with the reference (Tolerance.GpuF32).</summary>
    public void Check(IBackend backend)
    {
        var (output, totals, rows) = Run(backend);
        var expected = Expected();
        var tol = Tolerance.GpuF32.ForDot(1, Magnitude * Magnitude);
        TensorAssert.Close(expected.Output, output, tol, $"{this} output");
        if (Totals) TensorAssert.Close(expected.Totals, totals!, tol.ForDot(Tq), $"{this} totals");
        if (Rows is not null) TensorAssert.Close(expected.RowProbabilities, rows!, tol, $"{this} rows");
    }

    private static float[] NaNs(int count) => Enumerable.Repeat(float.NaN, count).ToArray();

    private float[] Scaled(float[] x)
    {
        for (int i = 0; i < x.Length; i++) x[i] *= Magnitude;
        return x;
    }
}

/// <summary>Fused attention on the emulator against ReferenceAttention and the CPU backend.</summary>
[Collection(IlgpuCpuGroup.Name)]
public sealed class IlgpuAttentionTests(IlgpuCpuFixture fixture)
{
    private void Check(GpuAttentionCase c) => c.Check(fixture.Backend);

    [Theory]
    [InlineData(1, 1, 1, 8)]
    [InlineData(1, 5, 7, 8)]
    [InlineData(2, 9, 3, 16)]
    [InlineData(1, 3, 5, 1)]
    [InlineData(1, 2, 6, 37)]
    public void Plain(int b, int tq, int tk, int d) => Check(new GpuAttentionCase(b, tq, tk, 2, 2, d));

    [Theory]
    [InlineData(4, 2)]
    [InlineData(4, 1)]
    public void GroupedAndMultiQuery(int h, int hkv) => Check(new GpuAttentionCase(2, 5, 6, h, hkv, 8));

    [Theory]
    [InlineData(3, 9)]
    [InlineData(9, 5)] // Tq > Tk: the first rows see no key at all (zeros)
    public void Causal_IsBottomRightAligned(int tq, int tk) =>
        Check(new GpuAttentionCase(2, tq, tk, 4, 2, 8) { Causal = true });

    [Fact]
    public void SlidingWindow_LeftAndRight() => Check(new GpuAttentionCase(1, 7, 9, 2, 2, 8) { Left = 2, Right = 1 });

    [Fact]
    public void SlidingWindow_WithCausal() => Check(new GpuAttentionCase(1, 9, 9, 2, 1, 8) { Left = 3, Causal = true });

    [Theory]
    [InlineData(DType.Bool)]
    [InlineData(DType.U8)]
    public void PaddingMask(DType dtype) => Check(new GpuAttentionCase(2, 5, 9, 2, 2, 8) { Pad = dtype });

    [Fact]
    public void KeyLengths_WithCausalAlignment() =>
        Check(new GpuAttentionCase(2, 4, 9, 2, 1, 8) { Lengths = [9, 6], Causal = true });

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void KeyBias(int layout) => Check(new GpuAttentionCase(2, 5, 7, 4, 2, 8) { Bias = layout });

    [Fact]
    public void PositionBias() => Check(new GpuAttentionCase(1, 6, 6, 3, 3, 8) { Rel = true });

    [Fact]
    public void SoftCap_WithLargeLogits() => Check(new GpuAttentionCase(1, 5, 9, 2, 2, 16) { SoftCap = 5f, Magnitude = 4f });

    [Fact]
    public void SelectedKeys_WithMasksAndExports() =>
        Check(new GpuAttentionCase(2, 4, 9, 4, 2, 8) { Selected = 5, Causal = true, Pad = DType.Bool, Totals = true, Rows = [3, 0] });

    [Fact]
    public void Exports_TotalsAndRows() =>
        Check(new GpuAttentionCase(2, 9, 9, 4, 2, 8) { Totals = true, Rows = [0, 4, 8, 4], Causal = true });

    [Fact]
    public void FullyMaskedRows_GiveZerosAndZeroExports() =>
        Check(new GpuAttentionCase(2, 5, 7, 2, 2, 8) { Lengths = [0, 7], Left = 1, Right = 0, Totals = true, Rows = [0, 4] });

    [Fact]
    public void PackedQkvViews_AndStridedDestination() =>
        Check(new GpuAttentionCase(2, 6, 6, 2, 2, 8) { Packed = true, Causal = true });

    [Fact]
    public void CombinedCase_MatchesCpuBackend()
    {
        var c = new GpuAttentionCase(2, 6, 9, 4, 2, 16)
        {
            Causal = true, Left = 4, Pad = DType.U8, Lengths = [9, 7], Bias = 3, Rel = true, SoftCap = 8f,
            Totals = true, Rows = [5, 1],
        };
        var gpu = c.Run(fixture.Backend);
        var cpu = c.Run(fixture.Cpu);
        TensorAssert.Close(cpu.Output.Select(x => (double)x).ToArray(), gpu.Output, Tolerance.GpuF32, "output vs CPU");
        TensorAssert.Close(cpu.Totals!.Select(x => (double)x).ToArray(), gpu.Totals!, Tolerance.GpuF32.ForDot(c.Tq), "totals vs CPU");
        TensorAssert.Close(cpu.Rows!.Select(x => (double)x).ToArray(), gpu.Rows!, Tolerance.GpuF32, "rows vs CPU");
        c.Check(fixture.Backend);
    }

    [Theory]
    [InlineData(0, 5)]
    [InlineData(3, 0)]
    public void EmptyQueriesOrKeys_GiveZeros(int tq, int tk) =>
        Check(new GpuAttentionCase(1, tq, tk, 2, 2, 8) { Totals = true });

    [Fact]
    public void Tiles_FitSharedMemory_ForEveryHeadDimUpToTheLimit()
    {
        Assert.Equal((32, 32), LaunchPolicy.AttentionTilesFor(64, 32));
        for (int d = 1; d <= LaunchPolicy.MaxAttentionHeadDim; d++)
        {
            var (bq, bk) = LaunchPolicy.AttentionTilesFor(d, 32);
            Assert.True(bq >= 1 && bk >= 1, $"D = {d}");
            Assert.True(LaunchPolicy.AttentionSharedFloats(d, bq, bk) * sizeof(float) <= LaunchPolicy.MaxAttentionSharedBytes, $"D = {d}");
        }
    }

    [Fact]
    public void HeadDimAboveTheLimit_IsNotSupported() =>
        Assert.Throws<NotSupportedException>(() =>
            new GpuAttentionCase(1, 1, 1, 1, 1, LaunchPolicy.MaxAttentionHeadDim + 1).Run(fixture.Backend));

    [Fact]
    public void UnfusedVariant_IsNotSupported() =>
        Assert.Throws<NotSupportedException>(() => new GpuAttentionCase(1, 2, 2, 2, 2, 8).Run(fixture.Backend, AttentionVariant.Unfused));
}
