// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vlm.Reducers;

using HpcCore.TokenReduction;

/// <summary>
/// HiPrune (methods.md 3.6) after the vision encoder: anchors from the attention received at the object-centric
/// block <c>objectLayer</c>, their grid neighbours as buffers, registers from the last block (<see cref="HiPrune.Select"/>).
/// High-resolution views are stacked as rows of one grid (neighbours never cross a view's left/right edge).
/// </summary>
public sealed class HiPruneSelector(int objectLayer) : IVlmVisualReducer
{
    private readonly int _object = objectLayer >= 0 ? objectLayer : throw new ArgumentOutOfRangeException(nameof(objectLayer), objectLayer, "HiPruneSelector: must be >= 0");

    /// <inheritdoc />
    public string Name => $"hiprune:object={objectLayer}";

    /// <inheritdoc />
    public VlmKept Reduce(in VlmVisualInput input, int budget)
    {
        var v = input.Vision;
        if (_object >= v.Received.Length)
            throw new ArgumentException($"HiPruneSelector: object block {_object} is past the encoder's {v.Received.Length} blocks", nameof(input));
        using var obj = VisualScores.Row(v.Received[_object], input.Backend);
        using var deep = VisualScores.Row(v.Received[^1], input.Backend);
        return VlmKept.Select(VisualScores.Take(HiPrune.Select(obj, deep, Math.Min(budget, v.Tokens), v.Grid)));
    }
}
