// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Plain-loop row operations (softmax, LayerNorm, RMSNorm, argmax) with double accumulation.
namespace HpcCore.Testing.Reference;

/// <summary>Reference row-wise ops over [rows, cols] row-major arrays.</summary>
public static class ReferenceRowOps
{
    /// <summary>Max-subtracted softmax; an all -inf row gives zeros.</summary>
    public static double[] Softmax(float[] x, int rows, int cols)
    {
        var r = new double[x.Length];
        for (int i = 0; i < rows; i++)
        {
            double max = double.NegativeInfinity;
            for (int j = 0; j < cols; j++) max = Math.Max(max, x[i * cols + j]);
            if (double.IsNegativeInfinity(max)) continue;
            double sum = 0;
            for (int j = 0; j < cols; j++) sum += Math.Exp(x[i * cols + j] - max);
            for (int j = 0; j < cols; j++) r[i * cols + j] = Math.Exp(x[i * cols + j] - max) / sum;
        }
        return r;
    }

    /// <summary>LayerNorm with population variance; beta optional.</summary>
    public static double[] LayerNorm(float[] x, float[] gamma, float[]? beta, int rows, int cols, double eps)
    {
        var r = new double[x.Length];
        for (int i = 0; i < rows; i++)
        {
            double mean = 0, var = 0;
            for (int j = 0; j < cols; j++) mean += x[i * cols + j];
            mean /= cols;
            for (int j = 0; j < cols; j++) var += (x[i * cols + j] - mean) * (x[i * cols + j] - mean);
            var /= cols;
            double inv = 1 / Math.Sqrt(var + eps);
            for (int j = 0; j < cols; j++)
                r[i * cols + j] = (x[i * cols + j] - mean) * inv * gamma[j] + (beta is null ? 0 : beta[j]);
        }
        return r;
    }

    /// <summary>RMSNorm.</summary>
    public static double[] RmsNorm(float[] x, float[] gamma, int rows, int cols, double eps)
    {
        var r = new double[x.Length];
        for (int i = 0; i < rows; i++)
        {
            double ms = 0;
            for (int j = 0; j < cols; j++) ms += (double)x[i * cols + j] * x[i * cols + j];
            double inv = 1 / Math.Sqrt(ms / cols + eps);
            for (int j = 0; j < cols; j++) r[i * cols + j] = x[i * cols + j] * inv * gamma[j];
        }
        return r;
    }

    /// <summary>First index of the maximum (strict &gt; keeps the lower index on ties); NaN skipped; -1 if all NaN.</summary>
    public static int[] Argmax(float[] x, int rows, int cols)
    {
        var r = new int[rows];
        for (int i = 0; i < rows; i++)
        {
            int best = -1;
            float max = 0;
            for (int j = 0; j < cols; j++)
            {
                float v = x[i * cols + j];
                if (float.IsNaN(v)) continue;
                if (best < 0 || v > max)
                {
                    best = j;
                    max = v;
                }
            }
            r[i] = best;
        }
        return r;
    }
}
