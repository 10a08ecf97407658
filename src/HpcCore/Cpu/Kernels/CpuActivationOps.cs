// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Activation operators for SimdUnary.Map, built on SimdMath.Exp:
//   SiLU(x)      = x / (1 + e^-x)
//   GELU-tanh(x) = 0.5 x (1 + tanh(y)) = x / (1 + e^(-2y)),  y = sqrt(2/pi) (x + 0.044715 x^3)   (an exact identity)
//   GELU(x)      = 0.5 x (1 + erf(x / sqrt 2)), erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7):
//                  erf(z) = 1 - (a1 t + a2 t^2 + a3 t^3 + a4 t^4 + a5 t^5) e^(-z^2), t = 1 / (1 + p z), z >= 0.
using System.Runtime.Intrinsics;

namespace HpcCore.Cpu;

internal readonly struct SiluOp : IUnaryVectorOp
{
    public static Vector512<float> Invoke(Vector512<float> x) => x / (Vector512<float>.One + SimdMath.Exp(-x));

    public static Vector256<float> Invoke(Vector256<float> x) => x / (Vector256<float>.One + SimdMath.Exp(-x));

    public static float Invoke(float x) => x / (1f + SimdMath.Exp(-x));
}

internal readonly struct GeluTanhOp : IUnaryVectorOp
{
    private const float C = 0.7978845608028654f; // sqrt(2/pi)
    private const float K = 0.044715f;

    public static Vector512<float> Invoke(Vector512<float> x)
    {
        var y = C * x * (Vector512<float>.One + K * x * x);
        return x / (Vector512<float>.One + SimdMath.Exp(-2f * y));
    }

    public static Vector256<float> Invoke(Vector256<float> x)
    {
        var y = C * x * (Vector256<float>.One + K * x * x);
        return x / (Vector256<float>.One + SimdMath.Exp(-2f * y));
    }

    public static float Invoke(float x) => x / (1f + SimdMath.Exp(-2f * C * x * (1f + K * x * x)));
}

internal readonly struct GeluErfOp : IUnaryVectorOp
{
    private const float InvSqrt2 = 0.70710678118654752f;
    private const float P = 0.3275911f, A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f, A4 = -1.453152027f, A5 = 1.061405429f;

    public static Vector512<float> Invoke(Vector512<float> x)
    {
        var z = x * InvSqrt2;
        var a = Vector512.Abs(z);
        var t = Vector512<float>.One / (Vector512<float>.One + P * a);
        var poly = t * (Vector512.Create(A1) + t * (Vector512.Create(A2) + t * (Vector512.Create(A3) + t * (Vector512.Create(A4) + t * A5))));
        var erf = (Vector512<float>.One - poly * SimdMath.Exp(-(a * a))) | (z & Vector512.Create(-0f));
        return 0.5f * x * (Vector512<float>.One + erf);
    }

    public static Vector256<float> Invoke(Vector256<float> x)
    {
        var z = x * InvSqrt2;
        var a = Vector256.Abs(z);
        var t = Vector256<float>.One / (Vector256<float>.One + P * a);
        var poly = t * (Vector256.Create(A1) + t * (Vector256.Create(A2) + t * (Vector256.Create(A3) + t * (Vector256.Create(A4) + t * A5))));
        var erf = (Vector256<float>.One - poly * SimdMath.Exp(-(a * a))) | (z & Vector256.Create(-0f));
        return 0.5f * x * (Vector256<float>.One + erf);
    }

    public static float Invoke(float x)
    {
        float z = x * InvSqrt2, a = MathF.Abs(z);
        float t = 1f / (1f + P * a);
        float poly = t * (A1 + t * (A2 + t * (A3 + t * (A4 + t * A5))));
        float erf = 1f - poly * SimdMath.Exp(-a * a);
        return 0.5f * x * (1f + (z < 0 ? -erf : erf));
    }
}
