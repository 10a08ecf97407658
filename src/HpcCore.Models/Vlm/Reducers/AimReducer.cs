// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vlm.Reducers;

using HpcCore.Tensors;
using HpcCore.TokenReduction;

/// <summary>
/// AIM (methods.md 3.1, 3.10) before the LM: ToMe merging of the visual tokens by their own features, plain mean, as
/// <see cref="Aim.MergeVisual"/> (rounds halving the count; the last round merges down to the budget exactly). A merged
/// token takes its first source's RoPE position.
/// </summary>
public sealed class AimMerger : IVlmVisualReducer
{
    /// <inheritdoc />
    public string Name => "aim-merge";

    /// <inheritdoc />
    public VlmKept Reduce(in VlmVisualInput input, int budget)
    {
        var v = input.Vision;
        int n = v.Tokens, d = v.Dim;
        budget = Math.Clamp(budget, 1, n);
        var first = Enumerable.Range(0, n).ToArray(); // first source position of every current token
        var current = Tensor.From<float>(v.Features, new Shape(1, n, d), input.Backend);
        try
        {
            while (current.Shape[1] > budget)
            {
                int count = current.Shape[1], r = Math.Min(count / 2, count - budget);
                using var plan = ToMe.Plan(current, r);
                var (merged, size) = ToMe.Merge(plan, current, null);
                size.Dispose();
                var map = plan.TokenMap.ToArray<int>();
                var next = Enumerable.Repeat(int.MaxValue, merged.Shape[1]).ToArray();
                for (int i = 0; i < count; i++) next[map[i]] = Math.Min(next[map[i]], first[i]);
                first = next;
                current.Dispose();
                current = merged;
            }
            // Back into position order.
            var order = Enumerable.Range(0, first.Length).OrderBy(i => first[i]).ToArray();
            var rows = current.ToArray<float>();
            var features = new float[order.Length * d];
            for (int i = 0; i < order.Length; i++) rows.AsSpan(order[i] * d, d).CopyTo(features.AsSpan(i * d));
            return new VlmKept(null, features, [.. order.Select(i => first[i])]);
        }
        finally
        {
            current.Dispose();
        }
    }
}

/// <summary>
/// AIM inside the LM: after each layer from <c>fromLayer</c> on, PageRank importance of softmax(logits / tau)
/// (<see cref="Aim.Importance"/>), text protected, visual tokens cut to the release's linear schedule
/// (<see cref="Aim.RetainSchedule"/> over the decoder's layers, relative to the visual tokens entering the LM) by
/// <see cref="Aim.Prune"/>.
/// </summary>
public sealed class AimLayerReducer(int layers, int fromLayer, int zeroFrom) : IVlmLayerReducer
{
    private readonly double[] _schedule = Aim.RetainSchedule(layers, fromLayer, zeroFrom);
    private int _visualAtInput = -1;

    /// <inheritdoc />
    public string Name => $"aim:from={fromLayer};to={zeroFrom}";

    /// <inheritdoc />
    public VlmLayerExports Exports(int layer) => layer + 1 < layers && _schedule[layer + 1] < 1 ? VlmLayerExports.Logits : VlmLayerExports.None;

    /// <summary>Visual tokens entering the LM (set by the pipeline before each prefill).</summary>
    public void Begin(int visualTokens) => _visualAtInput = visualTokens;

    /// <inheritdoc />
    public int[]? Keep(in VlmLayerStep step)
    {
        int t = step.IsVisual.Length, nv = step.IsVisual.Count(b => b);
        if (step.Logits is null || nv == 0) return null;
        int target = (int)(_visualAtInput * _schedule[step.Layer + 1]);
        using var logits = Tensor.From<float>(step.Logits, new Shape(1, step.Heads, t, t), step.Backend);
        using var importance = Aim.Importance(logits);
        using var isText = Tensor.From<byte>([.. step.IsVisual.Select(b => (byte)(b ? 0 : 1))], new Shape(1, t), step.Backend);
        using var active = Tensor.From<byte>([.. Enumerable.Repeat((byte)1, t)], new Shape(1, t), step.Backend);
        using var kept = Aim.Prune(importance, isText, active, Math.Min(1.0, (double)target / nv));
        var mask = kept.ToArray<byte>();
        return [.. Enumerable.Range(0, t).Where(i => mask[i] != 0)];
    }
}
