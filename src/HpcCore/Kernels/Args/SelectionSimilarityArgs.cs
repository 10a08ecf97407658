// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Validated arguments of the similarity kernels (methods.md K4: ToMe's bipartite matching and its relatives).
namespace HpcCore.Kernels;

using HpcCore.Tensors;

/// <summary>
/// Dest[b, i, j] = A[b, i] . B[b, j] / (|A[b, i]| |B[b, j]|), 0 where a norm is 0, for F32 A [Batch, N, C],
/// B [Batch, M, C], Dest [Batch, N, M]; all contiguous.
/// </summary>
public readonly record struct CosineArgs(Tensor A, Tensor B, Tensor Dest, int Batch, int N, int M, int C);

/// <summary>
/// Max [Batch, N] and Argmax [Batch, N] of the cosine similarity of each row of A against the rows j &gt;=
/// ExcludeLeadingColumns of B (ties to the lower j, NaN skipped); -inf and -1 when no column remains.
/// </summary>
public readonly record struct BestMatchArgs(
    Tensor A, Tensor B, Tensor Max, Tensor Argmax, int Batch, int N, int M, int C, int ExcludeLeadingColumns);

/// <summary>
/// Max [Rows] and Argmax [Rows] of each row of F32 X [Rows, Cols]: NaN skipped, ties to the lower index, -inf and
/// -1 for a row without a number.
/// </summary>
public readonly record struct RowMaxArgs(Tensor X, Tensor Max, Tensor Argmax, long Rows, int Cols);
