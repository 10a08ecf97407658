// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vit;

using HpcCore.Tensors;

/// <summary>
/// One reduction call inside block <see cref="Layer"/>, between the attention residual and the MLP (where ToMe and
/// EViT reduce). Every tensor is preallocated by the session; the reducer fills <see cref="Output"/> (and
/// <see cref="SizesOut"/>, <see cref="TokenMap"/> when given).
/// </summary>
/// <param name="Layer">Block index.</param>
/// <param name="Input">Tokens after the attention residual, F32 [B, T, D]; token 0 is [CLS].</param>
/// <param name="Output">Destination F32 [B, T', D] with T' from <see cref="IVitTokenReducer.TokensAfter"/>; token 0 must stay [CLS].</param>
/// <param name="Sizes">Tokens each input token stands for, F32 [B, T] (null unless the reducer tracks sizes).</param>
/// <param name="SizesOut">Destination F32 [B, T'] for the output tokens' sizes (null unless tracked).</param>
/// <param name="KeyMeans">This block's keys averaged over heads F32 [B, T, Dh] when requested.</param>
/// <param name="ClassRow">This block's [CLS] attention rows F32 [B, H, 1, T], or every row F32 [B, H, T, T] with
/// <see cref="VitScoreExports.AllRows"/>, when requested.</param>
/// <param name="KeyTotals">Attention received per key F32 [B, H, T] when requested.</param>
/// <param name="TokenMap">Destination I32 [B, T]: output slot of every input token, -1 if dropped (null unless the
/// session tracks sources for visualisation).</param>
public readonly record struct VitReductionStep(
    int Layer, Tensor Input, Tensor Output, Tensor? Sizes, Tensor? SizesOut,
    Tensor? KeyMeans, Tensor? ClassRow, Tensor? KeyTotals, Tensor? TokenMap);
