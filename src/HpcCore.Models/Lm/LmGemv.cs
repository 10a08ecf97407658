// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm;

using HpcCore.Ops;
using HpcCore.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

/// <summary>
/// The decoder's linear layers. A single decode row against a small weight is a matrix-vector product whose cost
/// is dominated by per-call overhead in the general GEMM (validation, planning, packing, dispatch): there it runs as
/// one SIMD dot product per output row on the calling thread. Everything else goes to <see cref="Gemm"/>.
/// Checked end to end against the double-precision reference forward (LmDecoderTests).
/// </summary>
internal static class LmGemv
{
    /// <summary>Weights up to this many floats use the single-thread path for one row (larger ones gain from threads).</summary>
    private const long SmallWeight = 1 << 20;

    /// <summary>destination = x W^T (+ bias) (+ destination when <paramref name="accumulate"/>), x [rows, in], W [out, in].</summary>
    public static void Linear(Tensor x, Tensor w, Tensor? bias, Tensor destination, bool accumulate)
    {
        if (x.Shape[0] != 1 || w.ElementCount > SmallWeight)
        {
            Gemm.Multiply(x, w, destination, new GemmOptions(TransposeB: true, Beta: accumulate ? 1f : 0f, Bias: bias));
            return;
        }
        var xs = x.AsSpan<float>();
        var ws = w.AsSpan<float>();
        var ys = destination.AsSpan<float>();
        var bs = bias is null ? default : bias.AsSpan<float>();
        int n = xs.Length;
        for (int o = 0; o < ys.Length; o++)
        {
            float v = TensorPrimitives.Dot(xs, ws.Slice(o * n, n));
            if (!bs.IsEmpty) v += bs[o];
            ys[o] = accumulate ? ys[o] + v : v;
        }
    }
}
