// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Elementwise kernels: binary ops with trailing-axis broadcast, unary activations and SwiGLU.
// Transcendentals go through System.Numerics.Tensors (vectorised, accurate to a few ulp); GELU's erf form
// has no TensorPrimitives counterpart, so it uses a vectorised erf (Abramowitz & Stegun 7.1.26, |err| < 1.5e-7).
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

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
                    case UnaryOp.Silu: Silu(x, d); break;
                    case UnaryOp.GeluTanh: GeluTanh(x, d); break;
                    default: GeluErf(X + s, D + s, n); break;
                }
            }
        }
    }

    private struct SwiGluBody : IParallelBody
    {
        public float* G, U, D;
        public long Count;
        public int Items;

        public readonly void Invoke(int item)
        {
            var (start, end) = Range(Count, Items, item);
            int n = (int)(end - start);
            var d = new Span<float>(D + start, n);
            Silu(new ReadOnlySpan<float>(G + start, n), d);
            TensorPrimitives.Multiply(d, new ReadOnlySpan<float>(U + start, n), d);
        }
    }

    // silu(x) = x * sigmoid(x); d may alias x.
    private static void Silu(ReadOnlySpan<float> x, Span<float> d)
    {
        const int Chunk = 256;
        Span<float> s = stackalloc float[Chunk];
        for (int i = 0; i < x.Length; i += Chunk)
        {
            int n = Math.Min(Chunk, x.Length - i);
            TensorPrimitives.Sigmoid(x.Slice(i, n), s[..n]);
            TensorPrimitives.Multiply(x.Slice(i, n), s[..n], d.Slice(i, n));
        }
    }

    // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))); d may alias x.
    private static void GeluTanh(ReadOnlySpan<float> x, Span<float> d)
    {
        const int Chunk = 256;
        const float C = 0.7978845608028654f; // sqrt(2/pi)
        Span<float> t = stackalloc float[Chunk];
        for (int i = 0; i < x.Length; i += Chunk)
        {
            int n = Math.Min(Chunk, x.Length - i);
            var xs = x.Slice(i, n);
            TensorPrimitives.Multiply(xs, xs, t[..n]);                  // x^2
            TensorPrimitives.Multiply(t[..n], 0.044715f, t[..n]);
            TensorPrimitives.Add(t[..n], 1f, t[..n]);                   // 1 + 0.044715 x^2
            TensorPrimitives.Multiply(t[..n], xs, t[..n]);              // x + 0.044715 x^3
            TensorPrimitives.Multiply(t[..n], C, t[..n]);
            TensorPrimitives.Tanh(t[..n], t[..n]);
            TensorPrimitives.Add(t[..n], 1f, t[..n]);
            TensorPrimitives.Multiply(t[..n], xs, t[..n]);
            TensorPrimitives.Multiply(t[..n], 0.5f, d.Slice(i, n));
        }
    }

    // 0.5 x (1 + erf(x / sqrt 2)).
    private static void GeluErf(float* x, float* d, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= n; i += 16)
            {
                var v = Vector512.Load(x + i);
                var e = Erf(v * 0.70710678118654752f);
                (0.5f * v * (Vector512<float>.One + e)).Store(d + i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= n; i += 8)
            {
                var v = Vector256.Load(x + i);
                var e = Erf(v * 0.70710678118654752f);
                (0.5f * v * (Vector256<float>.One + e)).Store(d + i);
            }
        }
        for (; i < n; i++)
        {
            float v = x[i];
            d[i] = 0.5f * v * (1f + ErfScalar(v * 0.70710678118654752f));
        }
    }

    // Abramowitz & Stegun 7.1.26: erf(z) = 1 - (a1 t + ... + a5 t^5) e^{-z^2}, t = 1 / (1 + p z), for z >= 0.
    private static Vector512<float> Erf(Vector512<float> z)
    {
        var sign = z & Vector512.Create(-0f);
        var a = Vector512.Abs(z);
        var t = Vector512<float>.One / (Vector512<float>.One + 0.3275911f * a);
        var poly = t * (Vector512.Create(0.254829592f) + t * (Vector512.Create(-0.284496736f) + t * (Vector512.Create(1.421413741f)
            + t * (Vector512.Create(-1.453152027f) + t * 1.061405429f))));
        var r = Vector512<float>.One - poly * Vector512.Exp(-(a * a));
        return r | sign;
    }

    private static Vector256<float> Erf(Vector256<float> z)
    {
        var sign = z & Vector256.Create(-0f);
        var a = Vector256.Abs(z);
        var t = Vector256<float>.One / (Vector256<float>.One + 0.3275911f * a);
        var poly = t * (Vector256.Create(0.254829592f) + t * (Vector256.Create(-0.284496736f) + t * (Vector256.Create(1.421413741f)
            + t * (Vector256.Create(-1.453152027f) + t * 1.061405429f))));
        var r = Vector256<float>.One - poly * Vector256.Exp(-(a * a));
        return r | sign;
    }

    internal static float ErfScalar(float z)
    {
        float a = MathF.Abs(z);
        float t = 1f / (1f + 0.3275911f * a);
        float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
        float r = 1f - poly * MathF.Exp(-a * a);
        return z < 0 ? -r : r;
    }
}
