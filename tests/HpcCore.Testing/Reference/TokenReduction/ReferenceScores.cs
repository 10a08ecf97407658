// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The library's ranking rule, written plainly: score descending, ties to the lower index, NaN below everything.
namespace HpcCore.Testing.Reference.TokenReduction;

/// <summary>Ranking and score helpers shared by the token-reduction references (double-precision scores).</summary>
public static class ReferenceScores
{
    /// <summary>All indices of <paramref name="scores"/> by descending score (ties: lower index; NaN last).</summary>
    public static int[] Order(IReadOnlyList<double> scores) =>
        Enumerable.Range(0, scores.Count)
            .OrderBy(i => double.IsNaN(scores[i]) ? 1 : 0)
            .ThenByDescending(i => double.IsNaN(scores[i]) ? 0 : scores[i])
            .ThenBy(i => i)
            .ToArray();

    /// <summary>The <paramref name="k"/> best indices, in rank order.</summary>
    public static int[] Top(IReadOnlyList<double> scores, int k) => Order(scores)[..k];

    /// <summary>Row <paramref name="row"/> of a row-major [rows, cols] float array, as doubles.</summary>
    public static double[] Row(float[] x, int row, int cols)
    {
        var r = new double[cols];
        for (int j = 0; j < cols; j++) r[j] = x[row * cols + j];
        return r;
    }

    /// <summary>Cosine similarity of two float vectors (0 when a norm is 0).</summary>
    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.Sqrt(na * nb);
    }
}
