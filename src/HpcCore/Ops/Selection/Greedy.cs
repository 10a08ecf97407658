// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Ops;

using HpcCore.Diagnostics;
using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>Greedy selection loops (methods.md K7): ToDRE's diversity stage and MMTok's maximum coverage.</summary>
public static class Greedy
{
    private const string FarthestOp = "Greedy.FarthestPoint";
    private const string CoverageOp = "Greedy.Coverage";

    /// <summary>
    /// Greedy k-center (farthest point) under cosine distance 1 - cos over features F32 [B, N, C]: starts at
    /// seeds[b] (I32 [B], default 0), then repeatedly adds the unchosen point with the largest distance to the chosen
    /// set (ties: lower index). Gives the k chosen indices in pick order, I32 [B, k] (ToDRE stage 1).
    /// </summary>
    public static Tensor FarthestPoint(Tensor features, int k, Tensor? seeds = null)
    {
        Check.Live(FarthestOp, "features", features);
        SelectionValidation.Rank3(FarthestOp, "features", features, "[B, N, C]");
        SelectionValidation.Count(FarthestOp, "k", k, features.Shape[1], features, "features");
        return OutputTensor.Fill(Tensor.Empty(new Shape(features.Shape[0], k), DType.I32, features.Backend), (features, k, seeds),
            static (d, s) => FarthestPoint(s.features, s.k, s.seeds, d));
    }

    /// <summary>
    /// Greedy farthest-point selection into I32 <paramref name="destination"/> [B, k] (<paramref name="seeds"/> may be
    /// null; it comes before the destination so that a three-argument call is never mistaken for this overload).
    /// </summary>
    public static void FarthestPoint(Tensor features, int k, Tensor? seeds, Tensor destination)
    {
        Check.Operand(FarthestOp, "features", features, features, "features", DType.F32);
        if (seeds is not null) Check.Operand(FarthestOp, "seeds", seeds, features, "features", DType.I32);
        Check.Operand(FarthestOp, "destination", destination, features, "features", DType.I32);
        SelectionValidation.Rank3(FarthestOp, "features", features, "[B, N, C]");
        int b = features.Shape[0], n = features.Shape[1], c = features.Shape[2];
        if (seeds is not null) Check.Shape(FarthestOp, "seeds", seeds, new Shape(b), "[B]", features, "features");
        SelectionValidation.Count(FarthestOp, "k", k, n, features, "features");
        Check.Shape(FarthestOp, "destination", destination, new Shape(b, k), "[B, k]", features, "features");
        if (seeds is not null && k > 0) SelectionValidation.IndexRange(FarthestOp, "seeds", seeds, 0, n, features, "features");
        SelectionValidation.Kernels(FarthestOp, features)
            .FarthestPoint(new FarthestPointArgs(features, seeds, destination, b, n, c, k));
    }

    /// <summary>
    /// Greedy weighted max coverage (MMTok): similarity F32 [B, U, N] (U items to cover, N candidates), weights
    /// F32 [B, U] or null (= 1). Each step picks argmax_v sum_u w_u * relu(S[u, v] - cov_u) over unpicked v (ties:
    /// lower v), then cov_u = max(cov_u, S[u, v*]); cov starts at 0. Gives I32 [B, k] in pick order.
    /// </summary>
    public static Tensor Coverage(Tensor similarity, int k, Tensor? weights = null)
    {
        Check.Live(CoverageOp, "similarity", similarity);
        SelectionValidation.Rank3(CoverageOp, "similarity", similarity, "[B, U, N]");
        SelectionValidation.Count(CoverageOp, "k", k, similarity.Shape[2], similarity, "similarity");
        return OutputTensor.Fill(Tensor.Empty(new Shape(similarity.Shape[0], k), DType.I32, similarity.Backend), (similarity, k, weights),
            static (d, s) => Coverage(s.similarity, s.k, s.weights, d));
    }

    /// <summary>Greedy weighted max coverage into I32 <paramref name="destination"/> [B, k] (<paramref name="weights"/> may be null).</summary>
    public static void Coverage(Tensor similarity, int k, Tensor? weights, Tensor destination)
    {
        Check.Operand(CoverageOp, "similarity", similarity, similarity, "similarity", DType.F32);
        if (weights is not null) Check.Operand(CoverageOp, "weights", weights, similarity, "similarity", DType.F32);
        Check.Operand(CoverageOp, "destination", destination, similarity, "similarity", DType.I32);
        SelectionValidation.Rank3(CoverageOp, "similarity", similarity, "[B, U, N]");
        int b = similarity.Shape[0], u = similarity.Shape[1], n = similarity.Shape[2];
        if (weights is not null) Check.Shape(CoverageOp, "weights", weights, new Shape(b, u), "[B, U]", similarity, "similarity");
        SelectionValidation.Count(CoverageOp, "k", k, n, similarity, "similarity");
        Check.Shape(CoverageOp, "destination", destination, new Shape(b, k), "[B, k]", similarity, "similarity");
        SelectionValidation.Kernels(CoverageOp, similarity)
            .Coverage(new CoverageArgs(similarity, weights, destination, b, u, n, k));
    }
}
