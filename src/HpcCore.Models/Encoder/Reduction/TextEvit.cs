// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Encoder.Reduction;

/// <summary>
/// EViT for text encoders (Liang et al., "Not All Patches are What You Need", ICLR 2022; methods.md B2): at a few
/// blocks, each text keeps [CLS] and the ceil(keep (n - 1)) tokens the [CLS] query attends to most (probabilities
/// averaged over heads, exported by the attention kernel), in position order, and fuses the rest into one extra token,
/// their attention-weighted average. Padding never takes part.
/// </summary>
public sealed class TextEvit : EncoderTokenReducer
{
    private readonly double _keep;
    private readonly HashSet<int> _layers;
    private readonly Comparison<int> _byScore;
    private float[] _score = [];

    /// <summary>Keeps the fraction <paramref name="keep"/> of each text's non-[CLS] tokens at each of <paramref name="layers"/>.</summary>
    public TextEvit(double keep, int[] layers)
    {
        if (!(keep > 0 && keep <= 1)) throw new ArgumentOutOfRangeException(nameof(keep), keep, "TextEvit: keep must be in (0, 1].");
        ArgumentNullException.ThrowIfNull(layers);
        _keep = keep;
        _layers = [.. layers];
        Layers = [.. _layers.Order()];
        // Reads the state's scores through _score, set at the start of each Plan (no closure per call).
        _byScore = (x, y) => _score[y].CompareTo(_score[x]) is var c && c != 0 ? c : x.CompareTo(y);
    }

    /// <summary>The blocks that prune.</summary>
    public int[] Layers { get; }

    /// <inheritdoc />
    public override string Name => $"evit:keep={_keep.ToString(System.Globalization.CultureInfo.InvariantCulture)};layers={string.Join(',', Layers)}";

    /// <inheritdoc />
    public override EncoderReductionExports Exports(int layer) =>
        _layers.Contains(layer) ? EncoderReductionExports.ClassRow : EncoderReductionExports.None;

    /// <summary>Non-[CLS] tokens kept of <paramref name="others"/>.</summary>
    public int KeepCount(int others) => Math.Min(others, (int)Math.Ceiling(_keep * others - 1e-9));

    /// <inheritdoc />
    public override bool Plan(int layer, EncoderReductionState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (!_layers.Contains(layer)) return false;
        int t = state.Tokens, h = state.Heads, newTokens = 0;
        _score = state.Scores;
        var order = state.Order;
        bool any = false;
        for (int b = 0; b < state.Batch; b++)
        {
            int others = state.Lengths[b] - 1, kept = KeepCount(others);
            any |= kept < others;
            newTokens = Math.Max(newTokens, 1 + kept + (kept < others ? 1 : 0));
        }
        if (!any) return false;
        for (int b = 0; b < state.Batch; b++)
        {
            int n = state.Lengths[b], others = n - 1, kept = KeepCount(others);
            var score = _score.AsSpan(0, n);
            score.Clear();
            for (int head = 0; head < h; head++)
            {
                var row = state.ClassRow.AsSpan((b * h + head) * t, n);
                for (int i = 0; i < n; i++) score[i] += row[i] / h;
            }
            var slot = state.Scratch.AsSpan(0, n);
            if (kept == others)
            {
                for (int i = 0; i < n; i++) slot[i] = i;
                Emit(state, b, slot, n, newTokens);
                continue;
            }
            for (int i = 0; i < others; i++) order[i] = i + 1;
            order.AsSpan(0, others).Sort(_byScore);
            slot.Fill(-1);
            slot[0] = 0;
            for (int k = 0; k < kept; k++) slot[order[k]] = 0;
            int next = 0;
            for (int i = 0; i < n; i++)
                if (slot[i] == 0) slot[i] = next++;
            // The inattentive tokens: one fused token after the kept ones, weighted by their [CLS] attention.
            for (int i = 0; i < n; i++)
                if (slot[i] < 0) slot[i] = next;
            Emit(state, b, slot, next + 1, newTokens, score);
        }
        return true;
    }
}
