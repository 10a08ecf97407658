// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Kernels;

using HpcCore.Tensors;

/// <summary>Elementwise binary operators.</summary>
public enum BinaryOp
{
    /// <summary>x + y.</summary>
    Add,
    /// <summary>x * y.</summary>
    Mul,
}

/// <summary>Elementwise unary operators.</summary>
public enum UnaryOp
{
    /// <summary>alpha * x.</summary>
    Scale,
    /// <summary>GELU, exact form: 0.5 x (1 + erf(x / sqrt 2)).</summary>
    Gelu,
    /// <summary>GELU, tanh form: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).</summary>
    GeluTanh,
    /// <summary>SiLU (swish): x * sigmoid(x).</summary>
    Silu,
}

/// <summary>
/// <c>Dest[i] = X[i] op Y[i % YCount]</c> for i in [0, Count): Y is broadcast over X's leading axes.
/// All three tensors are contiguous F32; Dest may alias X.
/// </summary>
public readonly record struct BinaryArgs(Tensor X, Tensor Y, Tensor Dest, BinaryOp Op, long Count, long YCount);

/// <summary><c>Dest[i] = op(X[i])</c> over Count contiguous F32 elements; Dest may alias X.</summary>
public readonly record struct UnaryArgs(Tensor X, Tensor Dest, UnaryOp Op, float Alpha, long Count);

/// <summary><c>Dest[i] = silu(Gate[i]) * Up[i]</c> over Count contiguous F32 elements.</summary>
public readonly record struct SwiGluArgs(Tensor Gate, Tensor Up, Tensor Dest, long Count);

/// <summary>Row-wise softmax of contiguous F32 [Rows, Cols]; a row of all -inf gives zeros.</summary>
public readonly record struct SoftmaxArgs(Tensor X, Tensor Dest, long Rows, int Cols);

/// <summary>Normalization kinds.</summary>
public enum NormKind
{
    /// <summary>(x - mean) / sqrt(var + eps) * gamma + beta.</summary>
    LayerNorm,
    /// <summary>x / sqrt(mean(x^2) + eps) * gamma.</summary>
    RmsNorm,
}

/// <summary>Row-wise normalization of contiguous F32 [Rows, Cols] with Gamma [Cols] and optional Beta [Cols].</summary>
public readonly record struct NormArgs(Tensor X, Tensor Gamma, Tensor? Beta, Tensor Dest, NormKind Kind, long Rows, int Cols, float Epsilon);
