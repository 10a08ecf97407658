// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vit.Reducers;

using HpcCore.TokenReduction;

/// <summary>
/// EViT (Liang et al., ICLR 2022) at its drop blocks (DeiT: the 4th, 7th and 10th of 12): keep the ceil(rho (N - 1))
/// patches the [CLS] token attends to most (mean over heads, from the kernel's [CLS]-row export) and fuse the rest into
/// one token weighted by that attention, between attention and MLP.
/// </summary>
public sealed class EvitReducer : IVitTokenReducer
{
    private readonly TokenPlan?[] _plans;
    private readonly HashSet<int> _layers;
    private readonly double _keep;

    /// <summary>Keeps the fraction <paramref name="keep"/> of the patches at each of <paramref name="layers"/>.</summary>
    public EvitReducer(double keep, int[] layers, int depth)
    {
        if (!(keep > 0 && keep <= 1)) throw new ArgumentOutOfRangeException(nameof(keep), keep, "EvitReducer: keep must be in (0, 1]");
        _keep = keep;
        _layers = [.. layers];
        if (_layers.Any(l => l < 0 || l >= depth))
            throw new ArgumentOutOfRangeException(nameof(layers), $"EvitReducer: layers {string.Join(",", layers)} must be in [0, {depth})");
        _plans = new TokenPlan?[depth];
        Layers = [.. _layers.Order()];
    }

    /// <summary>The drop blocks.</summary>
    public int[] Layers { get; }

    /// <summary>EViT's drop blocks scaled to <paramref name="depth"/>: depth/4, depth/2, 3 depth/4 (3, 6, 9 for 12).</summary>
    public static int[] DefaultLayers(int depth) => [.. new[] { depth / 4, depth / 2, 3 * depth / 4 }.Where(l => l > 0).Distinct()];

    /// <inheritdoc />
    public string Name => $"evit:keep={_keep}";

    /// <inheritdoc />
    public bool TracksSizes => false;

    /// <inheritdoc />
    public int TokensAfter(int layer, int tokens)
    {
        if (!_layers.Contains(layer)) return tokens;
        int kept = Evit.KeepCount(tokens - 1, _keep);
        return 1 + kept + (kept < tokens - 1 ? 1 : 0);
    }

    /// <inheritdoc />
    public VitScoreExports Exports(int layer) => _layers.Contains(layer) ? VitScoreExports.ClassRow : VitScoreExports.None;

    /// <inheritdoc />
    public void Reduce(in VitReductionStep step)
    {
        int patches = step.Input.Shape[1] - 1, keep = Evit.KeepCount(patches, _keep);
        using var scores = AttentionScores.ClassRow(step.ClassRow!);
        ref var plan = ref _plans[step.Layer];
        if (plan is null) plan = Evit.Plan(scores, keep);
        else Evit.Plan(scores, keep, plan);
        Evit.Apply(plan, step.Input, step.Output);
        if (step.TokenMap is { } map) plan.TokenMap.CopyTo(map);
    }

    /// <summary>Releases the cached plans.</summary>
    public void Dispose()
    {
        foreach (var p in _plans) p?.Dispose();
    }
}
