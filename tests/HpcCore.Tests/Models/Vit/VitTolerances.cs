// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.Vit;

using HpcCore.Testing;

// Named tolerances for whole-model comparisons: a forward is a chain of F32 GEMMs, norms and a softmax, so the
// GEMM preset is widened by the longest dot product and by depth.
internal static class VitTolerances
{
    /// <summary>VitSession against the double reference: F32 accumulation over K = max(D, hidden) per GEMM, a few layers.</summary>
    public static Tolerance ForwardF32(int dim, int hidden) =>
        new Tolerance("VitForwardF32", 2e-5, 2e-4, 1e-8).ForDot(Math.Max(dim, hidden));

    /// <summary>
    /// Our logits against PyTorch's for the trained Fashion-MNIST model (golden.json): two F32 implementations with
    /// different summation orders and GELU/exp approximations through 8 blocks; logits are O(10).
    /// </summary>
    public static Tolerance GoldenLogits { get; } = new("VitGoldenLogits", 1e-3, 1e-3, 1e-9);
}
