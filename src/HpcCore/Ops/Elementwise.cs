// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Ops;

using HpcCore.Diagnostics;
using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>
/// Elementwise arithmetic on contiguous F32 tensors. The right operand may be broadcast over leading axes:
/// its shape must equal a suffix of the left operand's shape (e.g. x [B, T, C] + bias [C]).
/// Destinations may be the left operand itself (in place).
/// </summary>
public static class Elementwise
{
    /// <summary>x + y, allocated.</summary>
    public static Tensor Add(Tensor x, Tensor y) => Allocate("Elementwise.Add", x, d => Add(x, y, d));

    /// <summary>x + y into <paramref name="destination"/>.</summary>
    public static void Add(Tensor x, Tensor y, Tensor destination) => Binary("Elementwise.Add", x, y, destination, BinaryOp.Add);

    /// <summary>x * y, allocated.</summary>
    public static Tensor Multiply(Tensor x, Tensor y) => Allocate("Elementwise.Multiply", x, d => Multiply(x, y, d));

    /// <summary>x * y into <paramref name="destination"/>.</summary>
    public static void Multiply(Tensor x, Tensor y, Tensor destination) => Binary("Elementwise.Multiply", x, y, destination, BinaryOp.Mul);

    /// <summary>alpha * x, allocated.</summary>
    public static Tensor Scale(Tensor x, float alpha) => Allocate("Elementwise.Scale", x, d => Scale(x, alpha, d));

    /// <summary>alpha * x into <paramref name="destination"/>.</summary>
    public static void Scale(Tensor x, float alpha, Tensor destination) =>
        Unary("Elementwise.Scale", x, destination, UnaryOp.Scale, alpha);

    internal static Tensor Allocate(string op, Tensor x, Action<Tensor> run)
    {
        Check.Live(op, "x", x);
        return OutputTensor.Fill(Tensor.Empty(x.Shape, x.DType, x.Backend), run, static (d, write) => write(d));
    }

    internal static void Unary(string op, Tensor x, Tensor destination, UnaryOp kind, float alpha)
    {
        Check.Live(op, "x", x);
        Check.Operand(op, "x", x, x, "x", DType.F32);
        Check.Operand(op, "destination", destination, x, "x", DType.F32);
        Check.Shape(op, "destination", destination, x.Shape, "same as x");
        x.Backend.Kernels.Unary(new UnaryArgs(x, destination, kind, alpha, x.ElementCount));
    }

    private static void Binary(string op, Tensor x, Tensor y, Tensor destination, BinaryOp kind)
    {
        Check.Live(op, "x", x);
        Check.Operand(op, "x", x, x, "x", DType.F32);
        Check.Operand(op, "y", y, x, "x", DType.F32);
        Check.Operand(op, "destination", destination, x, "x", DType.F32);
        Check.Shape(op, "destination", destination, x.Shape, "same as x");
        if (y.Rank > x.Rank || !IsSuffix(y.Shape, x.Shape))
            ThrowHelper.Argument(op, "y", $"has shape {y.Shape}, which does not broadcast to x's {x.Shape} (it must equal a suffix of x's shape)");
        x.Backend.Kernels.Binary(new BinaryArgs(x, y, destination, kind, x.ElementCount, y.ElementCount));
    }

    private static bool IsSuffix(Shape suffix, Shape shape)
    {
        for (int i = 1; i <= suffix.Rank; i++)
            if (suffix[-i] != shape[-i]) return false;
        return true;
    }
}
