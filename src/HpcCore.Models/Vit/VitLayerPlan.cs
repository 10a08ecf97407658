// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vit;

using HpcCore.Ops;
using HpcCore.Tensors;

// The preallocated views one block runs on (shapes fixed by the reduction schedule), built once per session.
internal sealed class VitLayerPlan
{
    public required int Tokens { get; init; }
    public required int TokensAfter { get; init; }
    public required Tensor X { get; init; }          // [B, T, D], input and attention residual
    public required Tensor XRows { get; init; }      // [B*T, D]
    public required Tensor Normed { get; init; }     // [B*T, D]
    public required Tensor Qkv { get; init; }        // [B*T, 3D]
    public required Tensor Q { get; init; }          // [B, T, H, Dh] views of Qkv
    public required Tensor K { get; init; }
    public required Tensor V { get; init; }
    public required Tensor Attended { get; init; }   // [B, T, H, Dh]
    public required Tensor AttendedRows { get; init; } // [B*T, D]
    public required AttentionOptions Attention { get; init; }
    public required VitReductionStep? Step { get; init; }
    public required Tensor Y { get; init; }          // [B, T', D]: the reduced tokens (X itself without reduction)
    public required Tensor YRows { get; init; }      // [B*T', D]
    public required Tensor Normed2 { get; init; }    // [B*T', D]
    public required Tensor Hidden { get; init; }     // [B*T', hidden]
    public required Tensor? KeyBiasSource { get; init; } // sizes [B, T] whose log feeds this block's KeyBias
}
