// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Ops;

using HpcCore.Diagnostics;
using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>Pooling over token grids (methods.md K11): Expedit's initial cluster centres, AIM's 2x2 pooling.</summary>
public static class Pooling
{
    private const string Op = "Pooling.AdaptiveAvg2D";

    /// <summary>
    /// torch.nn.AdaptiveAvgPool2d over a channels-last token grid x F32 [B, Hg, Wg, C], giving [B, outH, outW, C]:
    /// cell (i, j) averages rows floor(i*Hg/outH) .. ceil((i+1)*Hg/outH) - 1 and the same for columns.
    /// </summary>
    public static Tensor AdaptiveAvg2D(Tensor x, int outH, int outW)
    {
        Check.Live(Op, "x", x);
        Check.Rank(Op, "x", x, 4, "[B, Hg, Wg, C]");
        if (outH < 1) ThrowHelper.OutOfRange(Op, "outH", outH, "must be >= 1");
        if (outW < 1) ThrowHelper.OutOfRange(Op, "outW", outW, "must be >= 1");
        var shape = new Shape(x.Shape[0], outH, outW, x.Shape[3]);
        return OutputTensor.Fill(Tensor.Empty(shape, DType.F32, x.Backend), (x, outH, outW), static (d, s) => AdaptiveAvg2D(s.x, s.outH, s.outW, d));
    }

    /// <summary>Adaptive average pooling into <paramref name="destination"/> [B, outH, outW, C].</summary>
    public static void AdaptiveAvg2D(Tensor x, int outH, int outW, Tensor destination)
    {
        Check.Operand(Op, "x", x, x, "x", DType.F32);
        Check.Operand(Op, "destination", destination, x, "x", DType.F32);
        Check.Rank(Op, "x", x, 4, "[B, Hg, Wg, C]");
        int b = x.Shape[0], h = x.Shape[1], w = x.Shape[2], c = x.Shape[3];
        if (h < 1 || w < 1) ThrowHelper.Argument(Op, "x", $"has shape {x.Shape}; the grid must be at least 1x1");
        if (outH < 1) ThrowHelper.OutOfRange(Op, "outH", outH, "must be >= 1");
        if (outW < 1) ThrowHelper.OutOfRange(Op, "outW", outW, "must be >= 1");
        Check.Shape(Op, "destination", destination, new Shape(b, outH, outW, c), "[B, outH, outW, C]", x, "x");
        SelectionValidation.Kernels(Op, x).AdaptiveAvgPool2D(new AdaptivePoolArgs(x, destination, b, h, w, outH, outW, c));
    }
}
