// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Ops;

/// <summary>
/// An activation applied to each GEMM output as it is written (<see cref="GemmOptions.Activation"/>), while the tile
/// is still in cache: a transformer MLP's <c>gelu(x W1^T + b1)</c> in one pass instead of a second sweep over the
/// [rows, 4D] hidden activations. The formulas are those of <see cref="Activations"/>.
/// </summary>
public enum GemmActivation
{
    /// <summary>No activation: the plain product.</summary>
    None,

    /// <summary>GELU, exact form: 0.5 x (1 + erf(x / sqrt 2)) (BERT, ViT).</summary>
    Gelu,

    /// <summary>GELU, tanh form (GPT-2).</summary>
    GeluTanh,

    /// <summary>SiLU: x * sigmoid(x).</summary>
    Silu,
}
