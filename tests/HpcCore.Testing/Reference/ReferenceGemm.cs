// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Plain-loop GEMM with double accumulation: the definition of "correct" for every GEMM kernel.
namespace HpcCore.Testing.Reference;

/// <summary>Reference GEMM over dense row-major host arrays.</summary>
public static class ReferenceGemm
{
    /// <summary>
    /// For each batch b: alpha * op(A[b]) @ op(B[b or 0]) + beta * C[b] + bias. A is batch x (transA ? [K, M] : [M, K]);
    /// B is (broadcastB ? 1 : batch) x (transB ? [N, K] : [K, N]); C (optional) and the result are batch x [M, N].
    /// </summary>
    public static double[] Multiply(float[] a, float[] b, float[]? c, float[]? bias, int batch, int m, int n, int k,
        bool transA, bool transB, float alpha, float beta, bool broadcastB)
    {
        var result = new double[(long)batch * m * n];
        for (int bi = 0; bi < batch; bi++)
        {
            long ao = (long)bi * m * k, bo = broadcastB ? 0 : (long)bi * k * n, co = (long)bi * m * n;
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int p = 0; p < k; p++)
                    {
                        double av = transA ? a[ao + (long)p * m + i] : a[ao + (long)i * k + p];
                        double bv = transB ? b[bo + (long)j * k + p] : b[bo + (long)p * n + j];
                        s += av * bv;
                    }
                    double v = alpha * s;
                    if (beta != 0 && c is not null) v += beta * (double)c[co + (long)i * n + j];
                    if (bias is not null) v += bias[j];
                    result[co + (long)i * n + j] = v;
                }
            }
        }
        return result;
    }
}
