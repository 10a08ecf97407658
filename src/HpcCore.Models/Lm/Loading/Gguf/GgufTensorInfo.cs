// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm.Loading.Gguf;

/// <summary>
/// One tensor's entry in a GGUF file. <see cref="Dims"/> is in ggml order (ne[0], the contiguous dimension, first),
/// so a [rows, cols] matrix is stored as dims (cols, rows). <see cref="Offset"/> is absolute in the file (already
/// validated to lie inside it).
/// </summary>
public sealed record GgufTensorInfo(string Name, long[] Dims, GgufTensorType Type, long Offset, long ByteSize)
{
    /// <summary>Number of values.</summary>
    public long ElementCount => Dims.Aggregate(1L, (a, d) => checked(a * d));

    /// <summary>The shape in row-major order (the reverse of <see cref="Dims"/>), as written in this repository: [rows, cols].</summary>
    public long[] RowMajorShape => Dims.Reverse().ToArray();
}
