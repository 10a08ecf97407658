// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

/// <summary>
/// RazorAttention's offline head classification as a policy that only observes: run a prompt of random tokens
/// repeated several times (period <see cref="Period"/>); for every query in a later repetition, the attention mass
/// on the earlier copies of its own token is the echo score and the mass on the tokens right after those copies is
/// the induction score, averaged per kv head over its query heads and the queries (from the op's probability
/// export). Retrieval heads are the top induction fraction plus the top echo fraction (methods.md 3.14: about 14% and 1%).
/// </summary>
public sealed class RetrievalHeadProbe(int period) : KvPolicy
{
    /// <summary>Length of the repeated random block.</summary>
    public int Period { get; } = period > 1 ? period : throw new ArgumentOutOfRangeException(nameof(period), $"RetrievalHeadProbe: period {period} must be > 1.");
    /// <summary>Summed induction mass [layers, kvHeads].</summary>
    public double[,] Induction { get; private set; } = new double[0, 0];
    /// <summary>Summed echo mass [layers, kvHeads].</summary>
    public double[,] Echo { get; private set; } = new double[0, 0];

    /// <inheritdoc />
    public override string Name => "probe";

    /// <inheritdoc />
    public override void Begin(KvSequenceView cache, int heads)
    {
        Induction = new double[cache.Layers, cache.KvHeads];
        Echo = new double[cache.Layers, cache.KvHeads];
    }

    /// <inheritdoc />
    public override KvRequest Request(KvSequenceView cache, in KvStep step, KvSelection selection) => new(Probabilities: true);

    /// <inheritdoc />
    public override void Observe(KvSequenceView cache, in KvStep step, in KvExports exports)
    {
        int heads = step.Heads, group = heads / cache.KvHeads, width = exports.Width;
        for (int t = 0; t < step.Rows; t++)
        {
            int pos = step.FirstPosition + t;
            for (int h = 0; h < heads; h++)
            {
                var p = exports.Probabilities.Slice((t * heads + h) * width, width);
                double echo = 0, induction = 0;
                for (int copy = pos - Period; copy >= 0; copy -= Period)
                {
                    echo += p[copy];
                    if (copy + 1 < pos) induction += p[copy + 1];
                }
                Echo[step.Layer, h / group] += echo;
                Induction[step.Layer, h / group] += induction;
            }
        }
    }

    /// <summary>
    /// Retrieval heads [layers, kvHeads]: the top <paramref name="inductionFraction"/> of heads by induction score
    /// plus the top <paramref name="echoFraction"/> by echo score (each at least one head when positive).
    /// </summary>
    public bool[,] RetrievalHeads(double inductionFraction = 0.14, double echoFraction = 0.01)
    {
        int layers = Induction.GetLength(0), kv = Induction.GetLength(1), all = layers * kv;
        var result = new bool[layers, kv];
        void Mark(double[,] score, double fraction)
        {
            if (fraction <= 0) return;
            int take = Math.Max(1, (int)Math.Ceiling(fraction * all));
            var order = Enumerable.Range(0, all).OrderByDescending(i => score[i / kv, i % kv]).ThenBy(i => i).Take(take);
            foreach (int i in order) result[i / kv, i % kv] = true;
        }
        Mark(Induction, inductionFraction);
        Mark(Echo, echoFraction);
        return result;
    }
}
