// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Encoder;

/// <summary>
/// Retrieval quality of paired embeddings: query i's answer is document i; every document is ranked by cosine
/// (dot product of L2-normalised vectors), ties ranked against the query (a tie counts as a miss).
/// </summary>
public static class RetrievalMetrics
{
    /// <summary>Recall@1 (fraction of queries whose answer ranks first) and mean reciprocal rank.</summary>
    public static (double RecallAt1, double Mrr) Score(float[][] queries, float[][] documents)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(documents);
        if (queries.Length != documents.Length)
            throw new ArgumentException($"RetrievalMetrics.Score: {queries.Length} queries but {documents.Length} documents; they pair up.", nameof(documents));
        int hits = 0;
        double mrr = 0;
        for (int i = 0; i < queries.Length; i++)
        {
            double answer = Dot(queries[i], documents[i]);
            int rank = 1;
            for (int j = 0; j < documents.Length; j++)
                if (j != i && Dot(queries[i], documents[j]) >= answer) rank++;
            if (rank == 1) hits++;
            mrr += 1.0 / rank;
        }
        return ((double)hits / queries.Length, mrr / queries.Length);
    }

    /// <summary>Mean cosine between matching rows of two sets of L2-normalised embeddings.</summary>
    public static double MeanCosine(float[][] a, float[][] b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += Dot(a[i], b[i]);
        return sum / a.Length;
    }

    private static double Dot(float[] a, float[] b)
    {
        double s = 0;
        for (int k = 0; k < a.Length; k++) s += (double)a[k] * b[k];
        return s;
    }
}
