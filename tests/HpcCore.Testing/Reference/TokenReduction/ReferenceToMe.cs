// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// ToMe bipartite soft matching (Bolya et al., ICLR 2023; methods.md 3.1) in plain loops with double arithmetic.
namespace HpcCore.Testing.Reference.TokenReduction;

/// <summary>One batch row's matching and merge, from the formulas.</summary>
/// <param name="R">Effective number of merged tokens.</param>
/// <param name="Src">[r] positions of the merged A tokens, in merge order (most similar first).</param>
/// <param name="Dst">[r] positions of their B partners.</param>
/// <param name="Map">[N] output token of every input token.</param>
/// <param name="X">[(N - r) * C] size-weighted average of each output token's inputs.</param>
/// <param name="Size">[N - r] summed sizes.</param>
public sealed record ReferenceMerge(int R, int[] Src, int[] Dst, int[] Map, double[] X, double[] Size);

/// <summary>Reference ToMe.</summary>
public static class ReferenceToMe
{
    /// <summary>
    /// Matches one row: metric [N, d], x [N, C], size [N] (null: ones). Ties: lower index (argmax over partners and the
    /// stable descending sort of the A tokens' best scores).
    /// </summary>
    public static ReferenceMerge Merge(float[] metric, int n, int d, float[] x, int c, float[]? size, int r,
        bool classToken = false, bool distillationToken = false, bool preserveOrder = false)
    {
        int prot = (classToken ? 1 : 0) + (distillationToken ? 1 : 0);
        int na = (n + 1) / 2, nb = n / 2;
        r = Math.Max(0, Math.Min(r, (n - prot) / 2));
        if (nb - (distillationToken ? 1 : 0) <= 0) r = 0;
        if (r == 0)
        {
            // ToMe returns the identity (do_nothing) when nothing merges: no reordering either.
            var same = Enumerable.Range(0, n).ToArray();
            var copy = x.Take(n * c).Select(v => (double)v).ToArray();
            return new ReferenceMerge(0, [], [], same, copy, Enumerable.Range(0, n).Select(t => (double)(size?[t] ?? 1f)).ToArray());
        }

        var unit = new double[n * d];
        for (int i = 0; i < n; i++)
        {
            double norm = 0;
            for (int k = 0; k < d; k++) norm += (double)metric[i * d + k] * metric[i * d + k];
            norm = Math.Sqrt(norm);
            for (int k = 0; k < d; k++) unit[i * d + k] = norm == 0 ? 0 : metric[i * d + k] / norm;
        }

        var best = new double[na];
        var partner = new int[na];
        for (int i = 0; i < na; i++)
        {
            best[i] = double.NegativeInfinity;
            partner[i] = -1;
            if (classToken && i == 0) continue;
            for (int j = distillationToken ? 1 : 0; j < nb; j++)
            {
                double s = 0;
                for (int k = 0; k < d; k++) s += unit[2 * i * d + k] * unit[(2 * j + 1) * d + k];
                if (s > best[i] || partner[i] < 0) { best[i] = s; partner[i] = j; }
            }
        }

        var edge = Enumerable.Range(0, na).OrderByDescending(i => best[i]).ThenBy(i => i).ToArray();
        var unm = edge[r..];
        if (classToken) Array.Sort(unm);
        var src = edge[..r];

        // Output order: ToMe's [unmerged A..., B...] (distillation: [A0, B0, A1.., B1..]) or by position.
        var kept = new List<int>();
        if (distillationToken)
        {
            kept.Add(2 * unm[0]); kept.Add(1);
            kept.AddRange(unm[1..].Select(a => 2 * a));
            kept.AddRange(Enumerable.Range(1, nb - 1).Select(b => 2 * b + 1));
        }
        else
        {
            kept.AddRange(unm.Select(a => 2 * a));
            kept.AddRange(Enumerable.Range(0, nb).Select(b => 2 * b + 1));
        }
        if (preserveOrder) kept.Sort();

        var map = new int[n];
        for (int o = 0; o < kept.Count; o++) map[kept[o]] = o;
        for (int k = 0; k < r; k++) map[2 * src[k]] = map[2 * partner[src[k]] + 1];

        int m = n - r;
        var outSize = new double[m];
        var outX = new double[m * c];
        for (int t = 0; t < n; t++) outSize[map[t]] += size?[t] ?? 1.0;
        for (int t = 0; t < n; t++)
        {
            double w = (size?[t] ?? 1.0) / outSize[map[t]];
            for (int k = 0; k < c; k++) outX[map[t] * c + k] += w * x[t * c + k];
        }
        return new ReferenceMerge(r, src.Select(a => 2 * a).ToArray(), src.Select(a => 2 * partner[a] + 1).ToArray(), map, outX, outSize);
    }
}
