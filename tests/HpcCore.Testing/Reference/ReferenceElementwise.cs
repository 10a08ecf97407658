// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Plain-loop elementwise ops and activations in double precision.
namespace HpcCore.Testing.Reference;

/// <summary>Reference elementwise ops.</summary>
public static class ReferenceElementwise
{
    /// <summary>x + y with y broadcast (y index = i mod y.Length).</summary>
    public static double[] Add(float[] x, float[] y) => Map2(x, y, (a, b) => a + b);

    /// <summary>x * y with y broadcast.</summary>
    public static double[] Multiply(float[] x, float[] y) => Map2(x, y, (a, b) => a * b);

    /// <summary>alpha * x.</summary>
    public static double[] Scale(float[] x, float alpha) => Map(x, a => alpha * a);

    /// <summary>Exact GELU: 0.5 x (1 + erf(x / sqrt 2)).</summary>
    public static double[] Gelu(float[] x) => Map(x, a => 0.5 * a * (1 + Erf(a / Math.Sqrt(2))));

    /// <summary>Tanh GELU.</summary>
    public static double[] GeluTanh(float[] x) =>
        Map(x, a => 0.5 * a * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (a + 0.044715 * a * a * a))));

    /// <summary>SiLU: x / (1 + e^-x).</summary>
    public static double[] Silu(float[] x) => Map(x, a => a / (1 + Math.Exp(-a)));

    /// <summary>SwiGLU: silu(gate) * up.</summary>
    public static double[] SwiGlu(float[] gate, float[] up) => Map2(gate, up, (g, u) => g / (1 + Math.Exp(-g)) * u);

    /// <summary>erf to ~1e-16 by its Maclaurin series (|z| &lt; 3) or the continued fraction of erfc.</summary>
    public static double Erf(double z)
    {
        double a = Math.Abs(z);
        double r;
        if (a < 3)
        {
            // erf z = 2/sqrt(pi) * sum_n (-1)^n z^(2n+1) / (n! (2n+1))
            double term = a, sum = a;
            for (int n = 1; n < 200; n++)
            {
                term *= -a * a / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
            }
            r = 2 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            // erfc z = e^{-z^2} / sqrt(pi) * 1/(z + 1/2/(z + 1/(z + 3/2/(z + ...)))), evaluated bottom-up.
            double f = a;
            for (int n = 60; n >= 1; n--) f = a + n / 2.0 / f;
            r = 1 - Math.Exp(-a * a) / Math.Sqrt(Math.PI) / f;
        }
        return z < 0 ? -r : r;
    }

    private static double[] Map(float[] x, Func<double, double> f)
    {
        var r = new double[x.Length];
        for (int i = 0; i < x.Length; i++) r[i] = f(x[i]);
        return r;
    }

    private static double[] Map2(float[] x, float[] y, Func<double, double, double> f)
    {
        var r = new double[x.Length];
        for (int i = 0; i < x.Length; i++) r[i] = f(x[i], y[i % y.Length]);
        return r;
    }
}
