// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vlm.Reducers;

/// <summary>Baseline: a uniformly random subset of the budget's size (seeded per question, so runs repeat).</summary>
public sealed class RandomSelector : IVlmVisualReducer
{
    /// <inheritdoc />
    public string Name => "random";

    /// <inheritdoc />
    public VlmKept Reduce(in VlmVisualInput input, int budget)
    {
        int n = input.Vision.Tokens;
        var order = Enumerable.Range(0, n).ToArray();
        new Random(input.Seed).Shuffle(order);
        var kept = order[..Math.Min(budget, n)];
        Array.Sort(kept);
        return VlmKept.Select(kept);
    }
}
