// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Row softmax, max-subtracted: TensorPrimitives.SoftMax does not subtract the max and returns NaN for logits
// near 1000, so we subtract it ourselves. A row whose max is -inf (fully masked) is written as zeros, never NaN.
using System.Numerics.Tensors;

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
    internal static void SoftmaxRow(ReadOnlySpan<float> x, Span<float> d)
    {
        float max = TensorPrimitives.Max(x);
        if (float.IsNegativeInfinity(max))
        {
            d.Clear();
            return;
        }
        TensorPrimitives.Subtract(x, max, d);
        TensorPrimitives.Exp(d, d);
        float sum = TensorPrimitives.Sum(d);
        TensorPrimitives.Multiply(d, 1f / sum, d);
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
