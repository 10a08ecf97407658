// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Validated arguments of the axis reductions, PageRank, the greedy selections and adaptive pooling
// (methods.md K3, K7, K11). All tensors contiguous F32 unless stated.
namespace HpcCore.Kernels;

using HpcCore.Tensors;

/// <summary>Reductions along one axis.</summary>
public enum AxisReduceKind
{
    /// <summary>Sum.</summary>
    Sum,
    /// <summary>Arithmetic mean.</summary>
    Mean,
    /// <summary>sqrt(mean(x^2)).</summary>
    RootMeanSquare,
}

/// <summary>
/// X viewed as [Outer, Length, Inner] reduced along the middle axis into Dest [Outer, Inner], accumulating in
/// ascending axis order.
/// </summary>
public readonly record struct AxisReduceArgs(Tensor X, Tensor Dest, AxisReduceKind Kind, long Outer, int Length, long Inner);

/// <summary>
/// Power iteration s_{t+1}[j] = sum_i s_t[i] Transition[s, i, j] for every slice s of Transition [Slices, N, N],
/// Iterations times, from Initial [Slices, N] (or 1/N everywhere when null), into Dest [Slices, N].
/// </summary>
public readonly record struct PageRankArgs(Tensor Transition, Tensor? Initial, Tensor Dest, long Slices, int N, int Iterations);

/// <summary>
/// Greedy k-center under cosine distance over Features [Batch, N, C], starting at I32 Seeds [Batch] (0 when null,
/// validated in [0, N) on host-visible tensors), writing the K chosen indices in order to I32 Dest [Batch, K].
/// </summary>
public readonly record struct FarthestPointArgs(Tensor Features, Tensor? Seeds, Tensor Dest, int Batch, int N, int C, int K);

/// <summary>
/// Greedy weighted max coverage over Similarity [Batch, U, N] with Weights [Batch, U] (1 when null), writing the K
/// picked candidates in order to I32 Dest [Batch, K].
/// </summary>
public readonly record struct CoverageArgs(Tensor Similarity, Tensor? Weights, Tensor Dest, int Batch, int U, int N, int K);

/// <summary>Adaptive 2D average pooling of X [Batch, H, W, C] into Dest [Batch, OutH, OutW, C] (torch cell bounds).</summary>
public readonly record struct AdaptivePoolArgs(Tensor X, Tensor Dest, int Batch, int H, int W, int OutH, int OutW, int C);
