// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Encoder.Reduction;

/// <summary>
/// ToMe for text encoders (Bolya et al., "Token Merging: Your ViT But Faster", ICLR 2023; methods.md B1/3.1) under
/// padding: in every block, each text's own tokens are split by position parity (A even, B odd), each A token finds its
/// most cosine-similar B token on the keys averaged over heads, and the r A tokens with the most similar partners are
/// merged into them by size-weighted average; [CLS] (position 0) is never merged, padding never takes part, so a text
/// of n tokens loses min(r, (n - 1) / 2), or with a ratio, floor(ratio n) (short texts then lose few, long texts many:
/// a fixed r collapses a 15-token text to [CLS] and one token within three blocks). Kept tokens stay in position order. Later blocks use proportional attention
/// (log size added to every key's logit) and pooling weights tokens by size.
/// </summary>
public sealed class TextToMe : EncoderTokenReducer
{
    private readonly int _r;
    private readonly double _ratio;
    private readonly Comparison<int> _byScore;
    private float[] _best = [];

    /// <summary>Merges up to <paramref name="r"/> tokens of each text in every block.</summary>
    public TextToMe(int r)
        : this(r, 0)
    {
    }

    /// <summary>Merges floor(<paramref name="ratio"/> n) of each n-token text's tokens in every block.</summary>
    public TextToMe(double ratio)
        : this(0, ratio)
    {
        if (!(ratio > 0 && ratio <= 0.5)) throw new ArgumentOutOfRangeException(nameof(ratio), ratio, "TextToMe: ratio must be in (0, 0.5].");
    }

    private TextToMe(int r, double ratio)
    {
        if (ratio == 0) ArgumentOutOfRangeException.ThrowIfLessThan(r, 1);
        _r = r;
        _ratio = ratio;
        // Reads the state's scores through _best, set at the start of each Plan (no closure per call).
        _byScore = (x, y) => _best[y].CompareTo(_best[x]) is var c && c != 0 ? c : x.CompareTo(y);
    }

    /// <inheritdoc />
    public override string Name => _ratio > 0 ? $"tome:ratio={_ratio.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : $"tome:r={_r}";

    private int MergeCount(int n) => Math.Min(_ratio > 0 ? (int)(_ratio * n) : _r, (n - 1) / 2);

    /// <inheritdoc />
    public override bool ProportionalAttention => true;

    /// <inheritdoc />
    public override EncoderReductionExports Exports(int layer) => EncoderReductionExports.KeyMeans;

    /// <inheritdoc />
    public override bool Plan(int layer, EncoderReductionState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        int t = state.Tokens, dh = state.HeadDim, newTokens = 0;
        _best = state.Scores;
        var order = state.Order;
        var partners = state.Partners;
        bool any = false;
        for (int b = 0; b < state.Batch; b++)
        {
            int merge = MergeCount(state.Lengths[b]);
            any |= merge > 0;
            newTokens = Math.Max(newTokens, state.Lengths[b] - merge);
        }
        if (!any) return false;
        for (int b = 0; b < state.Batch; b++)
        {
            int n = state.Lengths[b], r = MergeCount(n);
            var metric = state.KeyMeans.AsSpan(b * t * dh, n * dh);
            // A: even positions 2, 4, ... ([CLS] at 0 protected); B: odd positions 1, 3, ...
            int na = (n - 1) / 2, nb = n / 2;
            for (int i = 0; i < na; i++)
            {
                var a = metric.Slice((2 * i + 2) * dh, dh);
                float best = float.NegativeInfinity;
                int partner = 0;
                for (int j = 0; j < nb; j++)
                {
                    float s = Cosine(a, metric.Slice((2 * j + 1) * dh, dh));
                    if (s > best) (best, partner) = (s, j);
                }
                _best[i] = best;
                partners[i] = 2 * partner + 1;
                order[i] = i;
            }
            // The r most similar A tokens merge (ties: the lower position first).
            order.AsSpan(0, na).Sort(_byScore);
            var slot = state.Scratch.AsSpan(0, n);
            slot.Clear();
            for (int k = 0; k < r; k++) slot[2 * order[k] + 2] = -1;
            int next = 0;
            for (int i = 0; i < n; i++)
                if (slot[i] == 0) slot[i] = next++;
            for (int k = 0; k < r; k++) slot[2 * order[k] + 2] = slot[partners[order[k]]];
            Emit(state, b, slot, next, newTokens);
        }
        return true;
    }

    private static float Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        return (float)(dot / Math.Max(Math.Sqrt(na * nb), 1e-12));
    }
}
