// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Expedit's clustering and reconstruction (methods.md 3.11) for one grid, in double, with direct distances.
namespace HpcCore.Testing.Reference.TokenReduction;

/// <summary>Reference Expedit.</summary>
public static class ReferenceExpedit
{
    /// <summary>
    /// Clusters x [h, w, C] into oh x ow centres; returns the centres [oh ow, C] and reconstruction weights [h w, oh ow].
    /// </summary>
    public static (double[] Centers, double[] Weights) Cluster(float[] x, int h, int w, int c, int oh, int ow,
        int iterations, double tau, int radius, int topK)
    {
        int n = h * w, m = oh * ow;
        var centers = new double[m * c];
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++)
            {
                // AdaptiveAvgPool2d cell: rows floor(i h / oh) .. ceil((i + 1) h / oh) - 1.
                int r0 = i * h / oh, r1 = ((i + 1) * h + oh - 1) / oh, c0 = j * w / ow, c1 = ((j + 1) * w + ow - 1) / ow;
                for (int r = r0; r < r1; r++)
                    for (int q = c0; q < c1; q++)
                        for (int k = 0; k < c; k++) centers[(i * ow + j) * c + k] += x[(r * w + q) * c + k] / (double)((r1 - r0) * (c1 - c0));
            }

        double Dist(int t, double[] cs, int k)
        {
            double d = 0;
            for (int e = 0; e < c; e++) d += (x[t * c + e] - cs[k * c + e]) * (x[t * c + e] - cs[k * c + e]);
            return d;
        }

        for (int it = 0; it < iterations; it++)
        {
            var p = new double[n, m];
            for (int t = 0; t < n; t++)
            {
                int ci = t / w * oh / h, cj = t % w * ow / w;
                var l = new double[m];
                for (int k = 0; k < m; k++)
                    l[k] = Math.Abs(k / ow - ci) <= radius && Math.Abs(k % ow - cj) <= radius ? -tau * Dist(t, centers, k) : double.NegativeInfinity;
                double max = l.Max(), sum = l.Sum(v => Math.Exp(v - max));
                for (int k = 0; k < m; k++) p[t, k] = Math.Exp(l[k] - max) / sum;
            }
            var next = new double[m * c];
            for (int k = 0; k < m; k++)
            {
                double total = 0;
                for (int t = 0; t < n; t++) total += p[t, k];
                if (total == 0) { Array.Copy(centers, k * c, next, k * c, c); continue; }
                for (int t = 0; t < n; t++)
                    for (int e = 0; e < c; e++) next[k * c + e] += p[t, k] * x[t * c + e] / total;
            }
            centers = next;
        }

        var weights = new double[n * m];
        for (int t = 0; t < n; t++)
        {
            var l = Enumerable.Range(0, m).Select(k => -tau * Dist(t, centers, k)).ToArray();
            var top = ReferenceScores.Top(l, topK);
            double norm = Math.Sqrt(top.Sum(k => Math.Exp(2 * l[k])));
            foreach (int k in top) weights[t * m + k] = Math.Exp(l[k]) / norm;
        }
        return (centers, weights);
    }
}
