// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Ops;

using HpcCore.Diagnostics;
using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>Activation functions on contiguous F32 tensors (destination may be the input).</summary>
public static class Activations
{
    /// <summary>GELU, exact erf form (BERT, ViT): 0.5 x (1 + erf(x / sqrt 2)).</summary>
    public static Tensor Gelu(Tensor x) => Elementwise.Allocate("Activations.Gelu", x, d => Gelu(x, d));

    /// <summary>GELU, exact erf form, into <paramref name="destination"/>.</summary>
    public static void Gelu(Tensor x, Tensor destination) => Elementwise.Unary("Activations.Gelu", x, destination, UnaryOp.Gelu, 1f);

    /// <summary>GELU, tanh approximation (GPT-2): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).</summary>
    public static Tensor GeluTanh(Tensor x) => Elementwise.Allocate("Activations.GeluTanh", x, d => GeluTanh(x, d));

    /// <summary>GELU, tanh approximation, into <paramref name="destination"/>.</summary>
    public static void GeluTanh(Tensor x, Tensor destination) =>
        Elementwise.Unary("Activations.GeluTanh", x, destination, UnaryOp.GeluTanh, 1f);

    /// <summary>SiLU (swish): x * sigmoid(x).</summary>
    public static Tensor Silu(Tensor x) => Elementwise.Allocate("Activations.Silu", x, d => Silu(x, d));

    /// <summary>SiLU into <paramref name="destination"/>.</summary>
    public static void Silu(Tensor x, Tensor destination) => Elementwise.Unary("Activations.Silu", x, destination, UnaryOp.Silu, 1f);

    /// <summary>SwiGLU (Shazeer 2020, Llama's MLP): silu(gate) * up, for gate and up of the same shape.</summary>
    public static Tensor SwiGlu(Tensor gate, Tensor up) => Elementwise.Allocate("Activations.SwiGlu", gate, d => SwiGlu(gate, up, d));

    /// <summary>SwiGLU into <paramref name="destination"/>.</summary>
    public static void SwiGlu(Tensor gate, Tensor up, Tensor destination)
    {
        const string Op = "Activations.SwiGlu";
        Check.Live(Op, "gate", gate);
        Check.Operand(Op, "gate", gate, gate, "gate", DType.F32);
        Check.Operand(Op, "up", up, gate, "gate", DType.F32);
        Check.Shape(Op, "up", up, gate.Shape, "same as gate");
        Check.Operand(Op, "destination", destination, gate, "gate", DType.F32);
        Check.Shape(Op, "destination", destination, gate.Shape, "same as gate");
        gate.Backend.Kernels.SwiGlu(new SwiGluArgs(gate, up, destination, gate.ElementCount));
    }
}
