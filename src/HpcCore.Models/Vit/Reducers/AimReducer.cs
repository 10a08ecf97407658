// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vit.Reducers;

using HpcCore.Tensors;
using HpcCore.TokenReduction;

/// <summary>
/// AIM's progressive pruning (methods.md 3.10) inside a classifier ViT. At every block l the patches kept are
/// int(P0 retain[l]) of the P0 original patches, with AIM's schedule: all up to block l1, then linearly down to none at
/// block l2 (<see cref="Aim.RetainSchedule"/>). Importance is AIM's PageRank of softmax(logits / tau), RMS over heads;
/// [CLS] is protected as AIM protects the text tokens (the classifier reads its prediction from [CLS]). The logits
/// come from the kernel's probability export: softmax(log P / tau) = softmax(logits / tau) because the row's
/// log-sum-exp is a per-row constant, so no second attention pass is paid. AIM masks pruned tokens in place; here
/// they are removed, and the count stays relative to P0 as in the released code. AIM's pre-LLM stage (ToMe on the
/// encoder's output features) only matters when tokens leave the encoder, so a classifier has no use for it; within
/// the ViT it is ToMe (<c>tome</c>).
/// </summary>
public sealed class AimReducer : PatchPruneReducer
{
    private readonly double[] _retain;
    private readonly int _patches, _from, _to;
    private readonly float _temperature;

    /// <summary>AIM's schedule from block <paramref name="fullUntil"/> (l1) to <paramref name="zeroFrom"/> (l2) on a model of
    /// <paramref name="config"/>'s shape.</summary>
    public AimReducer(int fullUntil, int zeroFrom, VitConfig config, float temperature = Aim.DefaultTemperature)
        : base(PruningLayers(fullUntil, zeroFrom, config.Depth), config.Depth)
    {
        _retain = Aim.RetainSchedule(config.Depth, fullUntil, zeroFrom);
        _patches = config.Patches;
        (_from, _to, _temperature) = (fullUntil, zeroFrom, temperature);
        if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "AimReducer: temperature must be > 0");
    }

    // Blocks l1 .. min(l2, depth - 1): where the schedule changes the count (nothing is left to prune after l2).
    private static int[] PruningLayers(int fullUntil, int zeroFrom, int depth)
    {
        if (fullUntil < 0 || zeroFrom < fullUntil || fullUntil >= depth)
            throw new ArgumentOutOfRangeException(nameof(fullUntil), $"AimReducer: need 0 <= l1 = {fullUntil} <= l2 = {zeroFrom} and l1 < depth = {depth}");
        return [.. Enumerable.Range(fullUntil, Math.Min(zeroFrom, depth - 1) - fullUntil + 1)];
    }

    /// <inheritdoc />
    public override string Name => $"aim:from={_from};to={_to}";

    /// <inheritdoc />
    protected override int KeptPatches(int layer, int patches) => Math.Min(patches, (int)(_patches * _retain[layer]));

    /// <inheritdoc />
    public override VitScoreExports Exports(int layer) =>
        KeptPatches(layer, int.MaxValue) < _patches && Prunes(layer) ? VitScoreExports.AllRows : VitScoreExports.None;

    /// <inheritdoc />
    protected override Tensor SelectPatches(in VitReductionStep step, int keep)
    {
        int batch = step.Input.Shape[0], t = step.Input.Shape[1];
        var probabilities = step.ClassRow!.ToArray<float>();
        for (int i = 0; i < probabilities.Length; i++) probabilities[i] = MathF.Log(probabilities[i]);
        using var logits = Tensor.From<float>(probabilities, step.ClassRow.Shape, step.Input.Backend);
        using var importance = Aim.Importance(logits, _temperature);
        var text = new byte[batch * t];
        var active = new byte[batch * t];
        Array.Fill(active, (byte)1);
        for (int b = 0; b < batch; b++) text[b * t] = 1;
        using var isText = Tensor.From<byte>(text, new Shape(batch, t), step.Input.Backend);
        using var isActive = Tensor.From<byte>(active, new Shape(batch, t), step.Input.Backend);
        // Aim.Prune keeps int((N - text) retain) + text; this retain gives exactly `keep` patches of the t - 1 present.
        using var mask = Aim.Prune(importance, isText, isActive, (keep + 0.5) / (t - 1));
        var kept = mask.ToArray<byte>();
        var patches = new int[batch * keep];
        for (int b = 0; b < batch; b++)
            for (int j = 1, o = 0; j < t; j++)
                if (kept[b * t + j] != 0) patches[b * keep + o++] = j - 1;
        return Tensor.From<int>(patches, new Shape(batch, keep), step.Input.Backend);
    }
}
