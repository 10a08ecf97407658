// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vit.Reducers;

using HpcCore.TokenReduction;

/// <summary>
/// ToMe (Bolya et al., ICLR 2023) inside every block: bipartite soft matching on the block's keys averaged over heads
/// (the attention kernel's KeyMeans export), size-weighted merge of r tokens between attention and MLP, sizes tracked
/// so later blocks use proportional attention (KeyBias = log size). [CLS] is protected. Optionally only at some
/// blocks, or with a schedule of r per block (the paper's sec. 4.1 compares constant and decreasing schedules).
/// </summary>
public sealed class ToMeReducer : IVitTokenReducer
{
    private static readonly ToMeOptions Options = new(ClassToken: true);
    private readonly MergePlan?[] _plans;
    private readonly int[] _schedule;

    /// <summary>Merges <paramref name="r"/> tokens in each of <paramref name="layers"/> (null: every block) of a
    /// <paramref name="depth"/>-block model.</summary>
    public ToMeReducer(int r, int depth, int[]? layers = null)
        : this(Schedule(r, depth, layers))
    {
    }

    /// <summary>Merges <paramref name="schedule"/>[i] tokens in block i (0: none); one entry per block.</summary>
    public ToMeReducer(int[] schedule)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        foreach (int r in schedule)
            if (r < 0) throw new ArgumentOutOfRangeException(nameof(schedule), r, $"ToMeReducer: r per block must be >= 0 (schedule [{string.Join(",", schedule)}])");
        _schedule = [.. schedule];
        _plans = new MergePlan?[schedule.Length];
    }

    /// <inheritdoc />
    public string Name
    {
        get
        {
            var merging = Enumerable.Range(0, _schedule.Length).Where(l => _schedule[l] > 0).ToArray();
            if (_schedule.Distinct().Count() == 1) return $"tome:r={_schedule[0]}";
            if (merging.Select(l => _schedule[l]).Distinct().Count() == 1) return $"tome:r={_schedule[merging[0]]};layers={string.Join(",", merging)}";
            return $"tome:r={string.Join(",", _schedule)}";
        }
    }

    /// <inheritdoc />
    public bool TracksSizes => true;

    /// <inheritdoc />
    public int TokensAfter(int layer, int tokens) => _schedule[layer] > 0 ? tokens - ToMe.EffectiveR(tokens, _schedule[layer], Options) : tokens;

    /// <inheritdoc />
    public VitScoreExports Exports(int layer) => _schedule[layer] > 0 ? VitScoreExports.KeyMeans : VitScoreExports.None;

    /// <inheritdoc />
    public void Reduce(in VitReductionStep step)
    {
        var metric = step.KeyMeans!;
        ref var plan = ref _plans[step.Layer];
        int r = _schedule[step.Layer];
        if (plan is null) plan = ToMe.Plan(metric, r, Options);
        else ToMe.Plan(metric, r, plan, Options);
        ToMe.Merge(plan, step.Input, step.Sizes, step.Output, step.SizesOut!);
        if (step.TokenMap is { } map) plan.TokenMap.CopyTo(map);
    }

    private static int[] Schedule(int r, int depth, int[]? layers)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(r);
        var schedule = new int[depth];
        if (layers is null) Array.Fill(schedule, r);
        else
            foreach (int l in layers)
            {
                if (l < 0 || l >= depth) throw new ArgumentOutOfRangeException(nameof(layers), l, $"ToMeReducer: layers must be in [0, {depth})");
                schedule[l] = r;
            }
        return schedule;
    }

    /// <summary>Releases the cached plans.</summary>
    public void Dispose()
    {
        foreach (var p in _plans) p?.Dispose();
    }
}
