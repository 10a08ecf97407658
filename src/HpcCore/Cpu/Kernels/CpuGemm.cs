// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// GEMM: placeholder row-axpy version, replaced by the packed register-blocked micro-kernel.
namespace HpcCore.Cpu;

using HpcCore.Kernels;

internal sealed unsafe partial class CpuKernels
{
    public void Gemm(in GemmArgs a)
    {
        float* A = Ptr<float>(a.A), B = Ptr<float>(a.B), C = Ptr<float>(a.C);
        float* bias = a.Bias is null ? null : Ptr<float>(a.Bias);
        for (int b = 0; b < a.Batch; b++)
        {
            float* pa = A + b * a.BatchStrideA, pb = B + b * a.BatchStrideB, pc = C + b * a.BatchStrideC;
            for (int i = 0; i < a.M; i++)
            {
                float* crow = pc + i * a.Ldc;
                for (int j = 0; j < a.N; j++)
                {
                    float s = 0;
                    for (int k = 0; k < a.K; k++)
                    {
                        float av = a.TransA ? pa[k * a.Lda + i] : pa[i * a.Lda + k];
                        float bv = a.TransB ? pb[j * a.Ldb + k] : pb[k * a.Ldb + j];
                        s += av * bv;
                    }
                    float prev = a.Beta == 0 ? 0 : a.Beta * crow[j];
                    crow[j] = a.Alpha * s + prev + (bias is null ? 0 : bias[j]);
                }
            }
        }
    }
}
