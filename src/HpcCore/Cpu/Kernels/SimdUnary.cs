// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// One driver for elementwise float maps (TensorPrimitives' IUnaryOperator pattern): an operator is a struct with
// Vector512, Vector256 and scalar forms; the driver picks the widest accelerated width once and handles the tail.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace HpcCore.Cpu;

/// <summary>An elementwise float operator in three widths.</summary>
internal interface IUnaryVectorOp
{
    static abstract Vector512<float> Invoke(Vector512<float> x);

    static abstract Vector256<float> Invoke(Vector256<float> x);

    static abstract float Invoke(float x);
}

/// <summary>Applies an <see cref="IUnaryVectorOp"/> over a buffer (destination may alias the source).</summary>
internal static unsafe class SimdUnary
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Map<TOp>(float* x, float* d, long n) where TOp : IUnaryVectorOp
    {
        long i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= n; i += 16) TOp.Invoke(Vector512.Load(x + i)).Store(d + i);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= n; i += 8) TOp.Invoke(Vector256.Load(x + i)).Store(d + i);
        }
        for (; i < n; i++) d[i] = TOp.Invoke(x[i]);
    }
}
