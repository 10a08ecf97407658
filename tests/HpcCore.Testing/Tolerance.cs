// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Named tolerances: |actual - expected| <= Atol + Rtol * |expected|, plus an optional NMSE gate (ggml's rule).
// Tighten a preset when the observed slack is more than 10x; never write a literal tolerance in a test.
namespace HpcCore.Testing;

/// <summary>A named comparison tolerance.</summary>
/// <param name="Name">Preset name, printed in failures.</param>
/// <param name="Atol">Absolute term.</param>
/// <param name="Rtol">Relative term.</param>
/// <param name="MaxNmse">Normalised mean squared error bound (sum (a-e)^2 / sum e^2); infinity disables it.</param>
public readonly record struct Tolerance(string Name, double Atol, double Rtol, double MaxNmse)
{
    /// <summary>Single elementwise F32 operations against a double reference (add, scale, conversions to F32).</summary>
    public static Tolerance F32Elementwise { get; } = new("F32Elementwise", 1e-6, 1e-5, double.PositiveInfinity);

    /// <summary>
    /// F32 transcendental activations (GELU erf uses a 1.5e-7 erf approximation; tanh/exp a few ulp). No NMSE gate:
    /// GELU and SiLU of large negative inputs are tiny, and the absolute term already bounds them.
    /// </summary>
    public static Tolerance F32Activation { get; } = new("F32Activation", 2e-6, 2e-5, double.PositiveInfinity);

    /// <summary>F32 reductions: softmax, norms, RoPE, attention rows (float accumulation over a row).</summary>
    public static Tolerance F32Reduction { get; } = new("F32Reduction", 1e-5, 1e-4, 1e-7);

    /// <summary>
    /// F32 GEMM with K up to a few thousand: float accumulation error grows like sqrt(K) ulp of the row's
    /// absolute dot product, so the absolute term is scaled by the caller with <see cref="ForDot"/>.
    /// </summary>
    public static Tolerance F32Gemm { get; } = new("F32Gemm", 1e-5, 1e-4, 1e-9);

    /// <summary>Rounding to F16 (11-bit significand): half an ulp is 2^-11 relative.</summary>
    public static Tolerance F16Rounding { get; } = new("F16Rounding", 6.2e-5, 4.9e-4, double.PositiveInfinity);

    /// <summary>Rounding to BF16 (8-bit significand): half an ulp is 2^-8 relative.</summary>
    public static Tolerance BF16Rounding { get; } = new("BF16Rounding", 1e-38, 3.91e-3, double.PositiveInfinity);

    /// <summary>GPU (ILGPU) float kernels against the double reference: fast exp and different summation order.</summary>
    public static Tolerance GpuF32 { get; } = new("GpuF32", 2e-5, 2e-4, 1e-7);

    /// <summary>This preset with the absolute term scaled by the magnitude of a dot product of length k.</summary>
    public Tolerance ForDot(int k, double magnitude = 1) =>
        this with { Atol = Atol * Math.Sqrt(Math.Max(1, k)) * Math.Max(1, magnitude) };

    /// <summary>This preset widened term by term to at least <paramref name="floor"/> (e.g. a GPU backend's GpuF32).</summary>
    public Tolerance NoTighterThan(Tolerance floor) => this with
    {
        Name = Name + "+" + floor.Name,
        Atol = Math.Max(Atol, floor.Atol),
        Rtol = Math.Max(Rtol, floor.Rtol),
        MaxNmse = Math.Max(MaxNmse, floor.MaxNmse),
    };
}
