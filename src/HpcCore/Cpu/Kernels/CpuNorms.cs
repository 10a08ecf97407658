// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// LayerNorm (Ba et al. 2016) and RMSNorm (Zhang & Sennrich 2019) along the last axis. LayerNorm takes the
// variance as the mean of squared deviations (two passes), which stays accurate when |mean| >> std.
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace HpcCore.Cpu;

using HpcCore.Kernels;

internal sealed unsafe partial class CpuKernels
{
    public void Norm(in NormArgs a)
    {
        if (a.Rows == 0 || a.Cols == 0) return;
        var body = new NormBody
        {
            X = Ptr<float>(a.X), G = Ptr<float>(a.Gamma), B = a.Beta is null ? null : Ptr<float>(a.Beta),
            D = Ptr<float>(a.Dest), Rows = a.Rows, Cols = a.Cols, Eps = a.Epsilon, Rms = a.Kind == NormKind.RmsNorm,
        };
        body.Items = ItemsFor(a.Rows, a.Cols);
        Pool.For(body.Items, body);
    }

    private struct NormBody : IParallelBody
    {
        public float* X, G, B, D;
        public long Rows;
        public int Cols, Items;
        public float Eps;
        public bool Rms;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Invoke(int item)
        {
            var (start, end) = Range(Rows, Items, item);
            var gamma = new ReadOnlySpan<float>(G, Cols);
            for (long r = start; r < end; r++)
            {
                var x = new ReadOnlySpan<float>(X + r * Cols, Cols);
                var d = new Span<float>(D + r * Cols, Cols);
                if (Rms)
                {
                    float ms = TensorPrimitives.SumOfSquares(x) / Cols;
                    float inv = 1f / MathF.Sqrt(ms + Eps);
                    TensorPrimitives.Multiply(x, inv, d);
                    TensorPrimitives.Multiply(d, gamma, d);
                }
                else
                {
                    float mean = TensorPrimitives.Sum(x) / Cols;
                    TensorPrimitives.Subtract(x, mean, d);
                    float var = TensorPrimitives.SumOfSquares(d) / Cols;
                    float inv = 1f / MathF.Sqrt(var + Eps);
                    TensorPrimitives.Multiply(d, inv, d);
                    if (B is null) TensorPrimitives.Multiply(d, gamma, d);
                    else TensorPrimitives.FusedMultiplyAdd(d, gamma, new ReadOnlySpan<float>(B, Cols), d);
                }
            }
        }
    }
}
