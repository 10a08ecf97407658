// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vit.Reducers;

using HpcCore.TokenReduction;

/// <summary>
/// ToMe (Bolya et al., ICLR 2023) inside every block: bipartite soft matching on the block's keys averaged over heads
/// (the attention kernel's KeyMeans export), size-weighted merge of r tokens between attention and MLP, sizes tracked
/// so later blocks use proportional attention (KeyBias = log size). [CLS] is protected.
/// </summary>
public sealed class ToMeReducer : IVitTokenReducer, IDisposable
{
    private static readonly ToMeOptions Options = new(ClassToken: true);
    private readonly MergePlan?[] _plans;
    private readonly int _r;

    /// <summary>Merges <paramref name="r"/> tokens in each of <paramref name="depth"/> blocks.</summary>
    public ToMeReducer(int r, int depth)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(r);
        _r = r;
        _plans = new MergePlan?[depth];
    }

    /// <inheritdoc />
    public string Name => $"tome:r={_r}";

    /// <inheritdoc />
    public bool TracksSizes => true;

    /// <inheritdoc />
    public int TokensAfter(int layer, int tokens) => tokens - ToMe.EffectiveR(tokens, _r, Options);

    /// <inheritdoc />
    public VitScoreExports Exports(int layer) => VitScoreExports.KeyMeans;

    /// <inheritdoc />
    public void Reduce(in VitReductionStep step)
    {
        var metric = step.KeyMeans!;
        ref var plan = ref _plans[step.Layer];
        if (plan is null) plan = ToMe.Plan(metric, _r, Options);
        else ToMe.Plan(metric, _r, plan, Options);
        ToMe.Merge(plan, step.Input, step.Sizes, step.Output, step.SizesOut!);
        if (step.TokenMap is { } map) plan.TokenMap.CopyTo(map);
    }

    /// <summary>Releases the cached plans.</summary>
    public void Dispose()
    {
        foreach (var p in _plans) p?.Dispose();
    }
}
