// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vlm.Reducers;

using HpcCore.Devices;
using HpcCore.Tensors;
using HpcCore.TokenReduction;

/// <summary>Host/tensor plumbing shared by the VLM adapters.</summary>
internal static class VisualScores
{
    /// <summary>Scores [1, N] on <paramref name="backend"/>.</summary>
    public static Tensor Row(float[] scores, IBackend backend) => Tensor.From<float>(scores, new Shape(1, scores.Length), backend);

    /// <summary>Row 0 of an I32 [1, K] index tensor, disposed.</summary>
    public static int[] Take(Tensor indices)
    {
        using (indices) return indices.ToArray<int>();
    }

    /// <summary>Sum of <paramref name="rows"/> (VTC-CLS's layer ensemble, as <see cref="AttentionScores.ClassRowSum"/>).</summary>
    public static float[] Sum(IEnumerable<float[]> rows)
    {
        float[]? total = null;
        foreach (var r in rows)
        {
            total ??= new float[r.Length];
            for (int i = 0; i < r.Length; i++) total[i] += r[i];
        }
        return total ?? throw new ArgumentException("VisualScores.Sum: no rows");
    }
}
