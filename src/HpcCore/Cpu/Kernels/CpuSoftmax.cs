// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Row softmax, max-subtracted: TensorPrimitives.SoftMax does not subtract the max and returns NaN for logits
// near 1000, so we subtract it ourselves. A row whose max is -inf (fully masked) is written as zeros, never NaN.
// Three vector passes per row (max; exp and sum; scale), with SimdMath's exp (the BCL's float exp is ~25x slower).
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace HpcCore.Cpu;

using HpcCore.Kernels;

internal sealed unsafe partial class CpuKernels
{
    public void Softmax(in SoftmaxArgs a)
    {
        if (a.Rows == 0 || a.Cols == 0) return;
        var body = new SoftmaxBody { X = Ptr<float>(a.X), D = Ptr<float>(a.Dest), Rows = a.Rows, Cols = a.Cols };
        body.Items = ItemsFor(a.Rows, a.Cols);
        Pool.For(body.Items, body);
    }

    /// <summary>Softmax of one row into <paramref name="d"/> (may alias <paramref name="x"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void SoftmaxRow(ReadOnlySpan<float> x, Span<float> d)
    {
        float max = TensorPrimitives.Max(x);
        if (float.IsNegativeInfinity(max))
        {
            d.Clear();
            return;
        }
        if (float.IsNaN(max))
        {
            d.Fill(float.NaN); // a NaN logit poisons its row, as in every reference softmax
            return;
        }
        float sum = ExpAndSum(x, max, d);
        TensorPrimitives.Multiply(d, 1f / sum, d);
    }

    /// <summary>d = e^(x - max) with SimdMath's exp (may alias x); returns the sum of d.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float ExpAndSum(ReadOnlySpan<float> x, float max, Span<float> d)
    {
        int i = 0, n = x.Length;
        float sum = 0f;
        fixed (float* px = x, pd = d)
        {
            if (Vector512.IsHardwareAccelerated)
            {
                var m = Vector512.Create(max);
                var acc = Vector512<float>.Zero;
                for (; i + 16 <= n; i += 16)
                {
                    var e = SimdMath.Exp(Vector512.Load(px + i) - m);
                    e.Store(pd + i);
                    acc += e;
                }
                sum = Vector512.Sum(acc);
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                var m = Vector256.Create(max);
                var acc = Vector256<float>.Zero;
                for (; i + 8 <= n; i += 8)
                {
                    var e = SimdMath.Exp(Vector256.Load(px + i) - m);
                    e.Store(pd + i);
                    acc += e;
                }
                sum = Vector256.Sum(acc);
            }
            for (; i < n; i++)
            {
                float e = SimdMath.Exp(px[i] - max);
                pd[i] = e;
                sum += e;
            }
        }
        return sum;
    }

    private struct SoftmaxBody : IParallelBody
    {
        public float* X, D;
        public long Rows;
        public int Cols, Items;

        public readonly void Invoke(int item)
        {
            var (start, end) = Range(Rows, Items, item);
            for (long r = start; r < end; r++)
                SoftmaxRow(new ReadOnlySpan<float>(X + r * Cols, Cols), new Span<float>(D + r * Cols, Cols));
        }
    }
}
