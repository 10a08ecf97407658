// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The softmax of one short score row, in place. A decode step over a small head (D = 8, 64..512 tokens) runs one
// softmax per query head on a few dozen to a few hundred logits, where CpuKernels.SoftmaxRow's three TensorPrimitives
// calls (max, exp-and-sum, scale) cost as much as the arithmetic; here the max and the scale are inline vector loops
// around one ExpAndSum (SimdMath's exp). Same rules: max-subtracted, a NaN logit makes the row NaN, an all -inf row
// gives zeros.
using System.Runtime.Intrinsics;

namespace HpcCore.Cpu;

/// <summary>In-place max-subtracted softmax of a short row.</summary>
internal static unsafe class PagedSoftmax
{
    public static void Row(float* x, int n)
    {
        if (n <= 0) return;
        float max = float.NegativeInfinity;
        bool nan = false;
        int i = 0;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var m = Vector256.Create(float.NegativeInfinity);
            var unordered = Vector256<float>.Zero;
            for (; i + 8 <= n; i += 8)
            {
                var v = Vector256.Load(x + i);
                m = Vector256.Max(m, v);
                unordered |= ~Vector256.Equals(v, v);
            }
            nan = unordered != Vector256<float>.Zero;
            for (int k = 0; k < 8; k++) max = MathF.Max(max, m.GetElement(k));
        }
        for (; i < n; i++)
        {
            nan |= float.IsNaN(x[i]);
            max = MathF.Max(max, x[i]);
        }
        var row = new Span<float>(x, n);
        if (nan)
        {
            row.Fill(float.NaN); // as every reference softmax
            return;
        }
        if (float.IsNegativeInfinity(max))
        {
            row.Clear();
            return;
        }
        float inv = 1f / CpuKernels.ExpAndSum(row, max, row);
        i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var s = Vector256.Create(inv);
            for (; i + 8 <= n; i += 8) (Vector256.Load(x + i) * s).Store(x + i);
        }
        for (; i < n; i++) x[i] *= inv;
    }
}
