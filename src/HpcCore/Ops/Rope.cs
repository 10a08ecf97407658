// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Ops;

using HpcCore.Diagnostics;
using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>
/// Rotary position embedding (Su et al. 2021) over x [B, T, H, D], contiguous F32. Pair i of each head rotates
/// by <c>pos * theta^(-2i/R)</c>; the pairs are (2i, 2i+1) or (i, i+R/2) by <see cref="RopeLayout"/>.
/// </summary>
public static class Rope
{
    private const string Op = "Rope.Apply";

    /// <summary>Rotated copy of x [B, T, H, D].</summary>
    public static Tensor Apply(Tensor x, in RopeOptions options = default)
    {
        var o = options;
        return Elementwise.Allocate(Op, x, d => Apply(x, d, o));
    }

    /// <summary>Rotates x [B, T, H, D] into <paramref name="destination"/> (may be x).</summary>
    public static void Apply(Tensor x, Tensor destination, in RopeOptions options = default)
    {
        var o = options;
        float theta = o.Theta ?? 10000f;
        Check.Live(Op, "x", x);
        Check.Operand(Op, "x", x, x, "x", DType.F32);
        Check.Rank(Op, "x", x, 4, "[B, T, H, D]");
        Check.Operand(Op, "destination", destination, x, "x", DType.F32);
        Check.Shape(Op, "destination", destination, x.Shape, "same as x");
        int b = x.Shape[0], t = x.Shape[1], h = x.Shape[2], d = x.Shape[3];
        int r = o.RotaryDim == 0 ? d : o.RotaryDim;
        if (r < 0 || r > d || r % 2 != 0)
            ThrowHelper.OutOfRange(Op, "RotaryDim", o.RotaryDim, $"it must be even and within head dim {d} of x {x.Shape}");
        if (!(theta > 1f) || float.IsInfinity(theta)) ThrowHelper.OutOfRange(Op, "Theta", theta, "it must be finite and > 1");
        if (o.PositionOffset < 0) ThrowHelper.OutOfRange(Op, "PositionOffset", o.PositionOffset, "it must be >= 0");
        if (o.Positions is { } p)
        {
            Check.Operand(Op, "Positions", p, x, "x", DType.I32);
            Check.Shape(Op, "Positions", p, new Shape(b, t), "one position per token", x, "x");
        }
        x.Backend.Kernels.Rope(new RopeArgs(x, destination, o.Positions, b, t, h, d, r, o.PositionOffset, theta, o.Layout));
    }
}
