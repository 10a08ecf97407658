// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.TokenReduction;

using HpcCore.Tensors;

/// <summary>
/// Expedit's clustering result: the super-tokens that replace the grid, and the weights that rebuild the grid from the
/// refined super-tokens later. Owns its tensors: dispose it.
/// </summary>
public sealed class ClusterPlan : IDisposable
{
    internal ClusterPlan(Tensor centers, Tensor reconstruction, int outHeight, int outWidth)
    {
        Centers = centers;
        Reconstruction = reconstruction;
        OutHeight = outHeight;
        OutWidth = outWidth;
    }

    /// <summary>F32 [B, h' w', C]: the clustered super-tokens, row-major over the h' x w' grid.</summary>
    public Tensor Centers { get; }

    /// <summary>F32 [B, h w, h' w']: reconstruction weights, top-k per token, L2-normalised per token, zero elsewhere.</summary>
    public Tensor Reconstruction { get; }

    /// <summary>h'.</summary>
    public int OutHeight { get; }

    /// <summary>w'.</summary>
    public int OutWidth { get; }

    /// <summary>Releases the plan's tensors.</summary>
    public void Dispose()
    {
        Centers.Dispose();
        Reconstruction.Dispose();
    }
}
