// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.TokenReduction;

using HpcCore.Diagnostics;

/// <summary>
/// Per-layer r schedules for ToMe (Bolya et al. 2023, section 4 and the released <c>parse_r</c>): constant r, or a
/// linear ramp with the same total. A per-layer schedule is any int array the caller builds.
/// </summary>
public static class MergeSchedule
{
    private const string Op = "MergeSchedule";

    /// <summary>r in every one of <paramref name="layers"/> layers.</summary>
    public static int[] Constant(int layers, int r) => Linear(layers, r, 0);

    /// <summary>From 2r in the first layer down to 0 in the last (ToMe's "decreasing" schedule, inflection -1).</summary>
    public static int[] Decreasing(int layers, int r) => Linear(layers, r, -1);

    /// <summary>
    /// ToMe's linear schedule: from r (1 - inflection) to r (1 + inflection), truncated to integers;
    /// inflection -1 decreases, 0 is constant, +1 increases.
    /// </summary>
    public static int[] Linear(int layers, int r, double inflection)
    {
        if (layers < 1) ThrowHelper.OutOfRange(Op, nameof(layers), layers, "must be >= 1");
        if (r < 0) ThrowHelper.OutOfRange(Op, nameof(r), r, "must be >= 0");
        if (!(inflection >= -1 && inflection <= 1)) ThrowHelper.OutOfRange(Op, nameof(inflection), inflection, "must be in [-1, 1]");
        double min = (int)(r * (1 - inflection)), max = 2 * r - min;
        double step = layers == 1 ? 0 : (max - min) / (layers - 1);
        var s = new int[layers];
        for (int i = 0; i < layers; i++) s[i] = (int)(min + step * i);
        return s;
    }

    /// <summary>
    /// Token counts after each layer when <paramref name="schedule"/> is applied to <paramref name="tokens"/> input
    /// tokens, with ToMe's clamp r &lt;= (N - protected) / 2 in every layer (the r each layer really applies is the
    /// difference of consecutive counts).
    /// </summary>
    public static int[] TokenCounts(int tokens, ReadOnlySpan<int> schedule, in ToMeOptions options = default)
    {
        if (tokens < 0) ThrowHelper.OutOfRange(Op, nameof(tokens), tokens, "must be >= 0");
        var counts = new int[schedule.Length];
        for (int i = 0; i < schedule.Length; i++)
        {
            if (schedule[i] < 0) ThrowHelper.OutOfRange(Op, $"schedule[{i}]", schedule[i], "must be >= 0");
            tokens -= ToMe.EffectiveR(tokens, schedule[i], options);
            counts[i] = tokens;
        }
        return counts;
    }
}
