// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vit.Reducers;

using HpcCore.Tensors;
using HpcCore.TokenReduction;

/// <summary>
/// VTC-CLS (methods.md 3.4) inside a classifier ViT: at each pruning block L, score the patches by the [CLS] attention
/// (mean over heads) summed over the blocks from <c>from</c> to L (the paper's ensemble <c>attentions[L0:-1]</c>; blocks
/// after an earlier pruning block of this reducer only, since the token set changes there), keep the top
/// ceil(keep P) in their spatial order and drop the rest. <c>from</c> = L is FasterVLM's single-layer variant. The
/// earlier blocks' [CLS] rows come from the attention kernel's export at those blocks (<see cref="Observe"/>): no
/// extra attention pass.
/// </summary>
public sealed class VtcClsReducer : PatchPruneReducer
{
    private readonly double _keep;
    private readonly int _from;
    private readonly Tensor?[] _rows;

    /// <summary>Keeps the fraction <paramref name="keep"/> at <paramref name="layers"/>, ensembling from block <paramref name="from"/>.</summary>
    public VtcClsReducer(double keep, int[] layers, int from, int depth) : base(layers, depth)
    {
        _keep = CheckKeep(keep, "VtcClsReducer");
        if (from < 0 || from >= depth) throw new ArgumentOutOfRangeException(nameof(from), from, $"VtcClsReducer: from must be in [0, {depth})");
        _from = from;
        _rows = new Tensor?[depth];
    }

    /// <inheritdoc />
    public override string Name => $"vtc:keep={_keep};layers={string.Join(",", Layers)};from={_from}";

    /// <summary>The blocks whose [CLS] rows are summed for pruning block <paramref name="layer"/>.</summary>
    public (int First, int Last) Window(int layer)
    {
        int previous = -1;
        foreach (int l in Layers)
        {
            if (l == layer) return (Math.Min(layer, Math.Max(_from, previous + 1)), layer);
            previous = l;
        }
        throw new ArgumentOutOfRangeException(nameof(layer), layer, $"{Name}: block {layer} does not prune");
    }

    /// <inheritdoc />
    protected override int KeptPatches(int layer, int patches) => Prunes(layer) ? Ratio(_keep, patches) : patches;

    /// <inheritdoc />
    public override VitScoreExports Exports(int layer)
    {
        foreach (int l in Layers)
        {
            var (first, last) = Window(l);
            if (layer >= first && layer <= last) return VitScoreExports.ClassRow;
        }
        return VitScoreExports.None;
    }

    /// <inheritdoc />
    public override void Observe(in VitReductionStep step)
    {
        var row = step.ClassRow!;
        ref var copy = ref _rows[step.Layer];
        if (copy is null || copy.Shape != row.Shape)
        {
            copy?.Dispose();
            copy = Tensor.Empty(row.Shape, DType.F32, row.Backend);
        }
        row.CopyTo(copy);
    }

    /// <inheritdoc />
    protected override Tensor SelectPatches(in VitReductionStep step, int keep)
    {
        var (first, last) = Window(step.Layer);
        var rows = new Tensor[last - first + 1];
        for (int l = first; l < last; l++) rows[l - first] = _rows[l]!;
        rows[^1] = step.ClassRow!;
        using var scores = VtcCls.Scores(rows);
        return VtcCls.Select(scores, keep);
    }

    /// <summary>Releases the copied rows.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
            foreach (var t in _rows) t?.Dispose();
        base.Dispose(disposing);
    }
}
