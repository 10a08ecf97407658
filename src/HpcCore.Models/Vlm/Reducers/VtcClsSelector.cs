// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vlm.Reducers;

using HpcCore.TokenReduction;

/// <summary>
/// VTC-CLS (methods.md 3.4) at its native place, after the vision encoder: the [CLS] attention rows (mean over heads)
/// summed over encoder blocks <c>from</c>..last, top-K in spatial order (<see cref="VtcCls.Select"/>). Views are one pool
/// (each view's own [CLS] scores its patches).
/// </summary>
public sealed class VtcClsSelector(int from) : IVlmVisualReducer
{
    private readonly int _from = from >= 0 ? from : throw new ArgumentOutOfRangeException(nameof(from), from, "VtcClsSelector: must be >= 0");

    /// <inheritdoc />
    public string Name => $"vtc:from={_from}";

    /// <inheritdoc />
    public VlmKept Reduce(in VlmVisualInput input, int budget)
    {
        var rows = input.Vision.ClassRows;
        if (_from >= rows.Length) throw new ArgumentException($"VtcClsSelector: from = {_from} is past the encoder's {rows.Length} blocks", nameof(input));
        var scores = VisualScores.Sum(rows.Skip(_from));
        using var t = VisualScores.Row(scores, input.Backend);
        return VlmKept.Select(VisualScores.Take(VtcCls.Select(t, Math.Min(budget, scores.Length))));
    }
}
