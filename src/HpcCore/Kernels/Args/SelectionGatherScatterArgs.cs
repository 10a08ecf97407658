// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Validated arguments of the row gather and scatter-reduce kernels (methods.md K5, K6). All tensors contiguous.
namespace HpcCore.Kernels;

using HpcCore.Ops;
using HpcCore.Tensors;

/// <summary>
/// Dest[b, i, :] = X[b, Indices[b, i], :] for F32 X [Batch, N, C], I32 Indices [Batch, K], Dest [Batch, K, C].
/// Indices were range-checked on host-visible tensors; a kernel writes a zero row for an index outside [0, N).
/// </summary>
public readonly record struct GatherRowsArgs(Tensor X, Tensor Indices, Tensor Dest, int Batch, int N, int K, int C);

/// <summary>
/// Scatter-reduce of F32 Source [Batch, N, C] into Dest [Batch, M, C] at rows I32 Index [Batch, N] (-1 skips a
/// source row; others are in [0, M)), with optional F32 Weights [Batch, N] (Sum and Mean only). See
/// <see cref="ScatterMode"/> for the reductions.
/// </summary>
public readonly record struct ScatterReduceArgs(
    Tensor Dest, Tensor Index, Tensor Source, Tensor? Weights, ScatterMode Mode, int Batch, int M, int N, int C);
