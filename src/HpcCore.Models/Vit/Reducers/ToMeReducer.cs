// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vit.Reducers;

using HpcCore.TokenReduction;

/// <summary>
/// ToMe (Bolya et al., ICLR 2023) inside every block: bipartite soft matching on the block's keys averaged over heads
/// (the attention kernel's KeyMeans export), size-weighted merge of r tokens between attention and MLP, sizes tracked
/// so later blocks use proportional attention (KeyBias = log size). [CLS] is protected. Optionally only at some blocks.
/// </summary>
public sealed class ToMeReducer : IVitTokenReducer, IDisposable
{
    private static readonly ToMeOptions Options = new(ClassToken: true);
    private readonly MergePlan?[] _plans;
    private readonly int _r;
    private readonly bool[] _merges;
    private readonly bool _all;

    /// <summary>Merges <paramref name="r"/> tokens in each of <paramref name="layers"/> (null: every block) of a
    /// <paramref name="depth"/>-block model.</summary>
    public ToMeReducer(int r, int depth, int[]? layers = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(r);
        _r = r;
        _plans = new MergePlan?[depth];
        _merges = new bool[depth];
        if (layers is null) Array.Fill(_merges, true);
        else
            foreach (int l in layers)
            {
                if (l < 0 || l >= depth) throw new ArgumentOutOfRangeException(nameof(layers), l, $"ToMeReducer: layers must be in [0, {depth})");
                _merges[l] = true;
            }
        _all = layers is null;
    }

    /// <inheritdoc />
    public string Name => _all ? $"tome:r={_r}" : $"tome:r={_r};layers={string.Join(",", Enumerable.Range(0, _merges.Length).Where(l => _merges[l]))}";

    /// <inheritdoc />
    public bool TracksSizes => true;

    /// <inheritdoc />
    public int TokensAfter(int layer, int tokens) => _merges[layer] ? tokens - ToMe.EffectiveR(tokens, _r, Options) : tokens;

    /// <inheritdoc />
    public VitScoreExports Exports(int layer) => _merges[layer] ? VitScoreExports.KeyMeans : VitScoreExports.None;

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
