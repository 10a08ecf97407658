// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Kernels;

using HpcCore.Tensors;

/// <summary>
/// Resolved GEMM arguments (BLAS conventions, row-major, strides in elements). For batch b:
/// <c>C[b] = Alpha * op(A[b]) @ op(B[b]) + Beta * C[b] + Bias</c> with op(A) [M, K], op(B) [K, N], C [M, N].
/// Element (i, k) of op(A) is at <c>A.Offset + b*BatchStrideA + (TransA ? k*Lda + i : i*Lda + k)</c>; B likewise
/// with (k, j) at <c>TransB ? j*Ldb + k : k*Ldb + j</c>; C (i, j) at <c>C.Offset + b*BatchStrideC + i*Ldc + j</c>.
/// A, C and Bias are F32; B is F32 or BF16 (read as F32, accumulated in F32).
/// A batch stride of 0 broadcasts one matrix over the batch. When Beta is 0, C is never read (NaN-safe).
/// <see cref="PackedB"/>, when set, is op(B) already in the backend's panel layout (from
/// <see cref="IKernels.PackGemmB"/>; B then is shared by the whole batch): the kernel may read it in place of B.
/// <see cref="Activation"/> applies to each finished output: C = act(alpha * op(A) @ op(B) + beta * C + bias).
/// </summary>
public readonly record struct GemmArgs(
    Tensor A, Tensor B, Tensor C, Tensor? Bias,
    bool TransA, bool TransB, float Alpha, float Beta,
    int Batch, int M, int N, int K,
    long BatchStrideA, long BatchStrideB, long BatchStrideC,
    long Lda, long Ldb, long Ldc,
    Tensor? PackedB = null,
    HpcCore.Ops.GemmActivation Activation = HpcCore.Ops.GemmActivation.None);
