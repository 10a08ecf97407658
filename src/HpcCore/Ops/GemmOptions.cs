// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Ops;

using HpcCore.Tensors;

/// <summary>
/// Options for <see cref="Gemm.Multiply(Tensor, Tensor, in GemmOptions)"/>. Every member's zero value is its
/// default (Alpha is nullable for that reason), so <c>default(GemmOptions)</c> and <c>new GemmOptions()</c>,
/// which C# builds without running the primary constructor, mean a plain product.
/// </summary>
/// <param name="TransposeA">Use A's last two axes transposed: A is [..., K, M].</param>
/// <param name="TransposeB">Use B's last two axes transposed: B is [..., N, K] (the layout of nn.Linear weights).</param>
/// <param name="Alpha">Scale of the product; null means 1.</param>
/// <param name="Beta">Scale of the destination's previous contents (0: not read).</param>
/// <param name="Bias">Optional F32 [N] added to every output row, fused into the kernel.</param>
/// <param name="Activation">Applied last, to <c>Alpha * op(A) @ op(B) + Beta * C + Bias</c>, fused into the kernel.</param>
public readonly record struct GemmOptions(
    bool TransposeA = false,
    bool TransposeB = false,
    float? Alpha = null,
    float Beta = 0f,
    Tensor? Bias = null,
    GemmActivation Activation = GemmActivation.None);
