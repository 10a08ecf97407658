// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// One attention test case: builds seeded inputs and options, runs Attention.Forward, and compares the output and
// the score exports with ReferenceAttention.
namespace HpcCore.Tests.Ops;

using HpcCore.Cpu;
using HpcCore.Kernels;
using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.Testing;
using HpcCore.Testing.Reference;

/// <summary>Shapes and options of one case; Bias is 0 (none), 2 ([B, Tk]) or 3 ([B, Hkv, Tk]).</summary>
internal sealed record AttentionCase(int B, int Tq, int Tk, int H, int Hkv, int D)
{
    public bool Causal { get; init; }
    public int? Left { get; init; }
    public int? Right { get; init; }
    public float SoftCap { get; init; }
    public bool Pad { get; init; }
    public int[]? Lengths { get; init; }
    public int Bias { get; init; }
    public bool Rel { get; init; }
    public int Selected { get; init; }
    public int[]? Rows { get; init; }
    public bool Totals { get; init; }
    public float Magnitude { get; init; } = 1f;

    /// <summary>q, k, v as slices of one packed [B, T, 3H, D] projection (needs Tq = Tk, H = Hkv) and a strided destination.</summary>
    public bool Packed { get; init; }
    public int Seed { get; init; } = 1;

    public void Check(CpuBackend cpu, AttentionVariant variant)
    {
        var owned = new List<Tensor>();
        Tensor Own(Tensor t)
        {
            owned.Add(t);
            return t;
        }
        try
        {
            int n = Selected > 0 ? Selected : Tk;
            float[] q = Scaled(TestData.Uniform(B * Tq * H * D, Seed)), k = Scaled(TestData.Uniform(B * Tk * Hkv * D, Seed + 1));
            float[] v = TestData.Uniform(B * Tk * Hkv * D, Seed + 2);
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
                var all = Own(Tensor.From<float>(packed, new Shape(B, Tq, 3 * H, D), cpu));
                (tq, tk, tv) = (all.Narrow(2, 0, H), all.Narrow(2, H, H), all.Narrow(2, 2 * H, H));
                dest = Own(Tensor.Zeros(new Shape(B, Tq, H, D + 3), DType.F32, cpu)).Narrow(3, 1, D);
            }
            else
            {
                tq = Own(Tensor.From<float>(q, new Shape(B, Tq, H, D), cpu));
                tk = Own(Tensor.From<float>(k, new Shape(B, Tk, Hkv, D), cpu));
                tv = Own(Tensor.From<float>(v, new Shape(B, Tk, Hkv, D), cpu));
                dest = Own(Tensor.Empty(new Shape(B, Tq, H, D), DType.F32, cpu));
            }
            bool[]? keep = Pad ? TestData.Ints(B * Tk, Seed + 3, 4).Select(x => x != 0).ToArray() : null;
            float[]? bias = Bias == 0 ? null : TestData.Uniform(B * (Bias == 3 ? Hkv : 1) * Tk, Seed + 4, -2f, 2f);
            float[]? rel = Rel ? TestData.Uniform(H * Tq * Tk, Seed + 5, -3f, 3f) : null;
            int[]? sel = Selected > 0 ? TestData.Ints(B * Hkv * Selected, Seed + 6, Tk) : null;
            var options = new AttentionOptions(
                Causal: Causal, WindowLeft: Left, WindowRight: Right, SoftCap: SoftCap,
                KeyPaddingMask: keep is null ? null : Own(Tensor.From<bool>(keep, new Shape(B, Tk), cpu)),
                KeyLengths: Lengths is null ? null : Own(Tensor.From<int>(Lengths, new Shape(B), cpu)),
                KeyBias: bias is null ? null : Own(Tensor.From<float>(bias, Bias == 3 ? new Shape(B, Hkv, Tk) : new Shape(B, Tk), cpu)),
                PositionBias: rel is null ? null : Own(Tensor.From<float>(rel, new Shape(H, Tq, Tk), cpu)),
                SelectedKeys: sel is null ? null : Own(Tensor.From<int>(sel, new Shape(B, Hkv, Selected), cpu)),
                KeyTotals: Totals ? Own(NaNs(new Shape(B, H, n), cpu)) : null,
                RowIndices: Rows is null ? null : Own(Tensor.From<int>(Rows, new Shape(Rows.Length), cpu)),
                RowProbabilities: Rows is null ? null : Own(NaNs(new Shape(B, H, Rows.Length, n), cpu)),
                Variant: variant);
            Attention.Forward(tq, tk, tv, dest, options);

            var expected = ReferenceAttention.Forward(q, k, v, B, Tq, Tk, H, Hkv, D, new ReferenceAttentionOptions
            {
                Scale = 1.0 / Math.Sqrt(D), Causal = Causal, WindowLeft = Left, WindowRight = Right, SoftCap = SoftCap,
                Keep = keep, Lengths = Lengths, KeyBias = bias, KeyBiasPerKvHead = Bias == 3, PositionBias = rel,
                Selected = sel, SelectedCount = Selected, Rows = Rows,
            });
            string what = $"{this} {variant}";
            // Logits of magnitude M carry float rounding of about M * 1e-7 into every probability.
            var tol = Tolerance.F32Reduction.ForDot(1, Magnitude * Magnitude);
            TensorAssert.Close(expected.Output, dest.Contiguous().ToArray<float>(), tol, what + " output");
            if (Totals) TensorAssert.Close(expected.Totals, options.KeyTotals!.ToArray<float>(), tol.ForDot(Tq), what + " totals");
            if (Rows is not null) TensorAssert.Close(expected.RowProbabilities, options.RowProbabilities!.ToArray<float>(), tol, what + " rows");
        }
        finally
        {
            foreach (var t in owned) t.Dispose();
        }
    }

    /// <summary>A tensor filled with NaN, so that any element a kernel fails to write shows up.</summary>
    private static Tensor NaNs(Shape shape, CpuBackend cpu) =>
        Tensor.From<float>(Enumerable.Repeat(float.NaN, (int)shape.ElementCount).ToArray(), shape, cpu);

    private float[] Scaled(float[] x)
    {
        for (int i = 0; i < x.Length; i++) x[i] *= Magnitude;
        return x;
    }
}
