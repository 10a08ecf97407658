// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// One attention test case for every backend: builds seeded inputs and options, runs Attention.Forward, and compares
// the output and the score exports with ReferenceAttention.
namespace HpcCore.Testing;

using HpcCore.Devices;
using HpcCore.Kernels;
using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.Testing.Reference;

/// <summary>
/// One attention test case, shared by every backend's tests: seeded inputs and options, Attention.Forward on a backend
/// (outputs poisoned with NaN first), and the double reference. Pad is the mask dtype (Bool or U8) or null; Bias is
/// 0 (none), 2 ([B, Tk]) or 3 ([B, Hkv, Tk]). Block &gt; 0 adds a random block mask of that edge ([B, H, ...], or
/// [1, 1, ...] with BlockBroadcast); Means exports KeyMeans; DType F16 or BF16 runs on rounded operands.
/// </summary>
public sealed record AttentionCase(int B, int Tq, int Tk, int H, int Hkv, int D)
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
    public int Block { get; init; }
    public bool BlockBroadcast { get; init; }
    public bool Means { get; init; }
    public DType DType { get; init; } = DType.F32;

    /// <summary>q, k, v as slices of one packed [B, T, 3H, D] projection (Tq = Tk, H = Hkv) and a strided destination.</summary>
    public bool Packed { get; init; }
    public int Seed { get; init; } = 1;

    private int Slots => Selected > 0 ? Selected : Tk;
    private float[] Q => Rounded(Scaled(TestData.Uniform(B * Tq * H * D, Seed)));
    private float[] K => Rounded(Scaled(TestData.Uniform(B * Tk * Hkv * D, Seed + 1)));
    private float[] V => Rounded(TestData.Uniform(B * Tk * Hkv * D, Seed + 2));
    private int BlockMaskBatch => BlockBroadcast ? 1 : B;
    private int BlockMaskHeads => BlockBroadcast ? 1 : H;
    private Shape BlockMaskShape => new(BlockMaskBatch, BlockMaskHeads, (Tq + Block - 1) / Block, (Tk + Block - 1) / Block);
    private bool[]? BlockKeep => Block == 0 ? null
        : TestData.Ints((int)BlockMaskShape.ElementCount, Seed + 7, 5).Select(x => x >= 2).ToArray();
    private bool[]? Keep => Pad is null ? null : TestData.Ints(B * Tk, Seed + 3, 4).Select(x => x != 0).ToArray();
    private float[]? KeyBias => Bias == 0 ? null : TestData.Uniform(B * (Bias == 3 ? Hkv : 1) * Tk, Seed + 4, -2f, 2f);
    private float[]? PosBias => Rel ? TestData.Uniform(H * Tq * Tk, Seed + 5, -3f, 3f) : null;
    private int[]? Sel => Selected > 0 ? TestData.Ints(B * Hkv * Selected, Seed + 6, Tk) : null;

    /// <summary>Runs Attention.Forward on <paramref name="backend"/>: output, key totals and probability rows.</summary>
    public (float[] Output, float[]? Totals, float[]? Rows, float[]? Means) Run(IBackend backend, AttentionVariant variant = AttentionVariant.Fused)
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
            if (DType != DType.F32)
            {
                (tq, tk, tv, dest) = (Own(Cast.To(tq, DType)), Own(Cast.To(tk, DType)), Own(Cast.To(tv, DType)), Own(Cast.To(dest, DType)));
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
                Variant: variant,
                BlockMask: BlockKeep is { } blocks ? Own(Tensor.From<bool>(blocks, BlockMaskShape, backend)) : null,
                BlockSize: Block,
                KeyMeans: Means ? Own(Tensor.From<float>(NaNs(B * Tk * D), new Shape(B, Tk, D), backend)) : null);
            Attention.Forward(tq, tk, tv, dest, options);
            var output = DType == DType.F32 ? dest.Contiguous() : Own(Cast.To(dest, DType.F32));
            return (output.Contiguous().ToArray<float>(), options.KeyTotals?.ToArray<float>(), options.RowProbabilities?.ToArray<float>(),
                options.KeyMeans?.ToArray<float>());
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
            BlockMask = BlockKeep, BlockMaskBatch = BlockMaskBatch, BlockMaskHeads = BlockMaskHeads, BlockSize = Math.Max(1, Block),
        });

    /// <summary>
    /// Runs on <paramref name="backend"/> and compares output and exports with the reference, with
    /// <paramref name="tolerance"/> (default <see cref="Tolerance.F32Reduction"/>) scaled for the logit magnitude:
    /// logits of magnitude M carry float rounding of about M * 1e-7 into every probability.
    /// </summary>
    public void Check(IBackend backend, AttentionVariant variant = AttentionVariant.Fused, Tolerance? tolerance = null)
    {
        var (output, totals, rows, means) = Run(backend, variant);
        var expected = Expected();
        var tol = (tolerance ?? Tolerance.F32Reduction).ForDot(1, Magnitude * Magnitude);
        string what = $"{this} {variant}";
        // A reduced-precision destination adds one rounding of the output to the F32 accumulation error.
        var outTol = DType switch
        {
            DType.F16 => new Tolerance("F16Attention", tol.Atol + Tolerance.F16Rounding.Atol, tol.Rtol + Tolerance.F16Rounding.Rtol, double.PositiveInfinity),
            DType.BF16 => new Tolerance("BF16Attention", tol.Atol + 1e-6, tol.Rtol + Tolerance.BF16Rounding.Rtol, double.PositiveInfinity),
            _ => tol,
        };
        TensorAssert.Close(expected.Output, output, outTol, what + " output");
        if (Means) TensorAssert.Close(ReferenceAttention.KeyMeans(K, B, Tk, Hkv, D), means!, Tolerance.F32Reduction.ForDot(Hkv), what + " key means");
        if (Totals) TensorAssert.Close(expected.Totals, totals!, tol.ForDot(Tq), what + " totals");
        if (Rows is not null) TensorAssert.Close(expected.RowProbabilities, rows!, tol, what + " rows");
    }

    private float[] Rounded(float[] x)
    {
        for (int i = 0; i < x.Length; i++)
            x[i] = DType switch
            {
                DType.F16 => (float)ReferenceConvert.ToF16(x[i]),
                DType.BF16 => ReferenceConvert.FromBf16(ReferenceConvert.ToBf16(x[i])),
                _ => x[i],
            };
        return x;
    }

    private static float[] NaNs(int count) => Enumerable.Repeat(float.NaN, count).ToArray();

    private float[] Scaled(float[] x)
    {
        for (int i = 0; i < x.Length; i++) x[i] *= Magnitude;
        return x;
    }
}
