// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Validated arguments of the sorting and selection kernels (TopK, argsort, index sort, threshold, compaction).
// Every tensor is contiguous; rows are the flattened leading axes.
namespace HpcCore.Kernels;

using HpcCore.Tensors;

/// <summary>
/// Top-k of each of Rows rows of F32 Scores [Rows, Cols] into I32 Indices [Rows, K] (and F32 Values [Rows, K] when
/// not null), ordered by score (descending when Descending, else ascending), ties to the lower index, NaN below
/// every number and -0 equal to +0. K equal to Cols is a full stable argsort.
/// </summary>
public readonly record struct TopKArgs(Tensor Scores, Tensor? Values, Tensor Indices, long Rows, int Cols, int K, bool Descending);

/// <summary>Each row of I32 Source [Rows, Cols] sorted ascending into Dest [Rows, Cols] (Dest may alias Source).</summary>
public readonly record struct SortIndicesArgs(Tensor Source, Tensor Dest, long Rows, int Cols);

/// <summary>U8 Dest[i] = F32 Scores[i] &gt; Threshold (NaN gives 0) over Count elements.</summary>
public readonly record struct ThresholdArgs(Tensor Scores, Tensor Dest, float Threshold, long Count);

/// <summary>
/// For each row of a U8/Bool Mask [Rows, Cols]: I32 Indices [Rows, Cols] gets the positions of nonzero entries in
/// ascending order, then -1 up to Cols; I32 Counts [Rows] gets how many there are.
/// </summary>
public readonly record struct CompactArgs(Tensor Mask, Tensor Indices, Tensor Counts, long Rows, int Cols);
