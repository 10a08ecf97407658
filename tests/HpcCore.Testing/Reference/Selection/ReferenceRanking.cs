// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Ranking references written from the contract's definition (primitives-api.md): scores compare as numbers in
// double (so -0 == +0), NaN ranks below every number (-inf included), equal scores keep the lower index first.
// Plain comparison sorts, no bit tricks, so that they check the kernels' sortable-key encoding independently.
namespace HpcCore.Testing.Reference;

/// <summary>Reference top-k, argsort, index sort, threshold and compaction over row-major [rows, n] arrays.</summary>
public static class ReferenceRanking
{
    /// <summary>True when score a (at index ia) ranks before score b (at index ib) in the given direction.</summary>
    public static bool Before(float a, int ia, float b, int ib, bool descending)
    {
        bool nanA = float.IsNaN(a), nanB = float.IsNaN(b);
        double x = a, y = b;
        int order; // > 0 when a is the larger
        if (nanA || nanB) order = nanA == nanB ? 0 : nanA ? -1 : 1;
        else order = x > y ? 1 : x < y ? -1 : 0;
        if (order == 0) return ia < ib;
        return descending ? order > 0 : order < 0;
    }

    /// <summary>Indices of the k best of each row, best first.</summary>
    public static int[] TopK(float[] scores, int rows, int n, int k, bool descending = true)
    {
        var result = new int[rows * k];
        var order = new int[n];
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < n; i++) order[i] = i;
            int row = r * n;
            Array.Sort(order, (i, j) => i == j ? 0 : Before(scores[row + i], i, scores[row + j], j, descending) ? -1 : 1);
            Array.Copy(order, 0, result, r * k, k);
        }
        return result;
    }

    /// <summary>Scores at the given per-row indices.</summary>
    public static float[] Take(float[] scores, int[] indices, int rows, int n, int k)
    {
        var v = new float[rows * k];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < k; j++) v[r * k + j] = scores[r * n + indices[r * k + j]];
        return v;
    }

    /// <summary>Each row sorted ascending.</summary>
    public static int[] SortRows(int[] x, int rows, int n)
    {
        var r = (int[])x.Clone();
        for (int i = 0; i < rows; i++) Array.Sort(r, i * n, n);
        return r;
    }

    /// <summary>x &gt; t as 0/1 bytes.</summary>
    public static byte[] Threshold(float[] x, float t)
    {
        var r = new byte[x.Length];
        for (int i = 0; i < x.Length; i++) r[i] = x[i] > t ? (byte)1 : (byte)0;
        return r;
    }

    /// <summary>Nonzero positions per row, ascending, padded with -1; and counts.</summary>
    public static (int[] Indices, int[] Counts) Compact(byte[] mask, int rows, int n)
    {
        var idx = new int[rows * n];
        var counts = new int[rows];
        Array.Fill(idx, -1);
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < n; j++)
                if (mask[r * n + j] != 0) idx[r * n + counts[r]++] = j;
        return (idx, counts);
    }
}
