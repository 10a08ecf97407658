// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Kernels;

using HpcCore.Tensors;

/// <summary>
/// A GEMM right operand to pack once (a weight reused by every call): op(B) is [K, N], element (k, j) at
/// <c>B.Offset + (TransB ? j*Ldb + k : k*Ldb + j)</c>; B is F32 or BF16.
/// </summary>
public readonly record struct GemmPackArgs(Tensor B, bool TransB, int K, int N, long Ldb);
