// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.TokenReduction;

/// <summary>
/// Options of <see cref="ToMe.Plan(HpcCore.Tensors.Tensor, int, in ToMeOptions)"/>. <c>default</c> protects nothing and
/// keeps ToMe's output order.
/// </summary>
/// <param name="ClassToken">Token 0 is a [CLS] token: never merged (ToMe sets its row of scores to -inf).</param>
/// <param name="DistillationToken">
/// Token 1 is a distillation token (DeiT): never a merge destination (ToMe sets its column of scores to -inf).
/// </param>
/// <param name="PreserveOrder">
/// Output tokens in the order of their kept input token's position instead of ToMe's [unmerged A..., B...] order
/// (which changes positional meaning for models that read token order).
/// </param>
public readonly record struct ToMeOptions(bool ClassToken = false, bool DistillationToken = false, bool PreserveOrder = false)
{
    /// <summary>Number of protected tokens (ToMe's <c>protected</c>).</summary>
    public int Protected => (ClassToken ? 1 : 0) + (DistillationToken ? 1 : 0);
}
