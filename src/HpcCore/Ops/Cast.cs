// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Ops;

using HpcCore.Diagnostics;
using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>Conversion between floating-point dtypes (F32, F16, BF16), rounding to nearest even.</summary>
public static class Cast
{
    private const string Op = "Cast.To";

    /// <summary>x converted to <paramref name="dtype"/>, allocated.</summary>
    public static Tensor To(Tensor x, DType dtype)
    {
        Check.Live(Op, "x", x);
        return OutputTensor.Fill(Tensor.Empty(x.Shape, dtype, x.Backend), x, static (d, s) => To(s, d));
    }

    /// <summary>x converted into <paramref name="destination"/>'s dtype.</summary>
    public static void To(Tensor x, Tensor destination)
    {
        Check.Live(Op, "x", x);
        Check.Live(Op, "destination", destination);
        Check.SameDevice(Op, "destination", destination, x, "x");
        if (!IsFloat(x.DType)) ThrowHelper.Argument(Op, "x", $"has dtype {x.DType} (shape {x.Shape}); expected F32, F16 or BF16");
        if (!IsFloat(destination.DType))
            ThrowHelper.Argument(Op, "destination", $"has dtype {destination.DType}; expected F32, F16 or BF16");
        Check.Contiguous(Op, "x", x);
        Check.Contiguous(Op, "destination", destination);
        Check.Shape(Op, "destination", destination, x.Shape, "same as x");
        x.Backend.Kernels.Convert(new ConvertArgs(x, destination, x.ElementCount));
    }

    private static bool IsFloat(DType t) => t is DType.F32 or DType.F16 or DType.BF16;
}
