// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// One tensor's header record, already validated against the file.
namespace HpcCore.Models.Weights;

using HpcCore.Tensors;

/// <summary>
/// A tensor listed in a safetensors header. By the time a reader exposes an entry, its byte range has been checked
/// to lie inside the data section and to hold exactly <c>Shape.ElementCount * DType.SizeInBytes()</c> bytes.
/// </summary>
/// <param name="Name">The tensor's key in the header, e.g. <c>blocks.0.attn.qkv.weight</c>.</param>
/// <param name="DType">Element type.</param>
/// <param name="Shape">Dimensions, outermost first (row-major, as the format requires).</param>
/// <param name="DataOffset">
/// Start of the tensor's bytes relative to the data section (the first number of <c>data_offsets</c>).
/// </param>
/// <param name="ByteLength">Length of the tensor's bytes.</param>
public sealed record SafetensorsEntry(string Name, DType DType, Shape Shape, long DataOffset, long ByteLength)
{
    /// <summary>Number of elements (1 for a rank-0 scalar, 0 when any dimension is 0).</summary>
    public long ElementCount => Shape.ElementCount;
}
