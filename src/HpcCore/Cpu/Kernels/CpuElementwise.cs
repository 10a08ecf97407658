// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Elementwise kernels: binary ops with trailing-axis broadcast, unary activations (CpuActivationOps.cs) and SwiGLU.
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace HpcCore.Cpu;

using HpcCore.Kernels;

internal sealed unsafe partial class CpuKernels
{
    public void Binary(in BinaryArgs a)
    {
        var body = new BinaryBody
        {
            X = Ptr<float>(a.X), Y = Ptr<float>(a.Y), D = Ptr<float>(a.Dest), Op = a.Op,
            YCount = a.YCount, Rows = a.Count / Math.Max(1, a.YCount),
        };
        if (a.YCount == 0 || a.Count == 0) return;
        body.Items = ItemsFor(body.Rows, a.YCount);
        Pool.For(body.Items, body);
    }

    public void Unary(in UnaryArgs a)
    {
        if (a.Count == 0) return;
        var body = new UnaryBody { X = Ptr<float>(a.X), D = Ptr<float>(a.Dest), Op = a.Op, Alpha = a.Alpha, Count = a.Count };
        body.Items = ItemsFor(a.Count, 1);
        Pool.For(body.Items, body);
    }

    public void SwiGlu(in SwiGluArgs a)
    {
        if (a.Count == 0) return;
        var body = new SwiGluBody { G = Ptr<float>(a.Gate), U = Ptr<float>(a.Up), D = Ptr<float>(a.Dest), Count = a.Count };
        body.Items = ItemsFor(a.Count, 1);
        Pool.For(body.Items, body);
    }

    private struct BinaryBody : IParallelBody
    {
        public float* X, Y, D;
        public BinaryOp Op;
        public long YCount, Rows;
        public int Items;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Invoke(int item)
        {
            var (start, end) = Range(Rows, Items, item);
            int n = (int)YCount;
            var y = new ReadOnlySpan<float>(Y, n);
            for (long r = start; r < end; r++)
            {
                var x = new ReadOnlySpan<float>(X + r * YCount, n);
                var d = new Span<float>(D + r * YCount, n);
                if (Op == BinaryOp.Add) TensorPrimitives.Add(x, y, d);
                else TensorPrimitives.Multiply(x, y, d);
            }
        }
    }

    private struct UnaryBody : IParallelBody
    {
        public float* X, D;
        public UnaryOp Op;
        public float Alpha;
        public long Count;
        public int Items;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Invoke(int item)
        {
            var (start, end) = Range(Count, Items, item);
            for (long s = start; s < end; s += int.MaxValue / 2)
            {
                int n = (int)Math.Min(end - s, int.MaxValue / 2);
                var x = new ReadOnlySpan<float>(X + s, n);
                var d = new Span<float>(D + s, n);
                switch (Op)
                {
                    case UnaryOp.Scale: TensorPrimitives.Multiply(x, Alpha, d); break;
                    case UnaryOp.Silu: SimdUnary.Map<SiluOp>(X + s, D + s, n); break;
                    case UnaryOp.GeluTanh: SimdUnary.Map<GeluTanhOp>(X + s, D + s, n); break;
                    default: SimdUnary.Map<GeluErfOp>(X + s, D + s, n); break;
                }
            }
        }
    }

    private struct SwiGluBody : IParallelBody
    {
        public float* G, U, D;
        public long Count;
        public int Items;

        // silu(gate) goes to a stack chunk, not to D, so that D may alias gate or up (in-place SwiGLU into up read
        // up after D had been overwritten).
        private const int Chunk = 1024;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Invoke(int item)
        {
            var (start, end) = Range(Count, Items, item);
            float* silu = stackalloc float[Chunk];
            for (long i = start; i < end; i += Chunk)
            {
                int n = (int)Math.Min(Chunk, end - i);
                SimdUnary.Map<SiluOp>(G + i, silu, n);
                TensorPrimitives.Multiply(new ReadOnlySpan<float>(silu, n), new ReadOnlySpan<float>(U + i, n), new Span<float>(D + i, n));
            }
        }
    }
}
