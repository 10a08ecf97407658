// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vit.Reducers;

using HpcCore.Tensors;

/// <summary>
/// Base of the reducers that keep a subset of the patches at chosen blocks and drop the rest without fusion (VTC-CLS,
/// HiPrune, FoPru, ToDRE, MMTok, AIM): [CLS] always stays first and the kept patches keep their order. A subclass
/// states how many patches a block keeps and which.
/// </summary>
public abstract class PatchPruneReducer : IVitTokenReducer
{
    /// <summary>Prunes at <paramref name="layers"/> of a <paramref name="depth"/>-block model.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A layer is outside [0, depth) or none is given.</exception>
    protected PatchPruneReducer(int[] layers, int depth)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Length == 0 || layers.Any(l => l < 0 || l >= depth))
            throw new ArgumentOutOfRangeException(nameof(layers), $"{GetType().Name}: layers [{string.Join(",", layers)}] must be non-empty and in [0, {depth})");
        Layers = [.. layers.Distinct().Order()];
    }

    /// <summary>The pruning blocks, ascending.</summary>
    public int[] Layers { get; }

    /// <summary>Releases what the reducer keeps between calls (see <see cref="Dispose(bool)"/>).</summary>
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the tensors a subclass keeps between calls (scores copied at an observing block); the base keeps none.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }

    /// <inheritdoc />
    public abstract string Name { get; }

    /// <inheritdoc />
    public bool TracksSizes => false;

    /// <summary>Patches kept at block <paramref name="layer"/> out of the <paramref name="patches"/> entering it
    /// (<paramref name="patches"/> itself where the block does not prune).</summary>
    protected abstract int KeptPatches(int layer, int patches);

    /// <summary>The kept patches of <paramref name="step"/>: patch indices (token - 1) I32 [B, <paramref name="keep"/>],
    /// ascending per row; the caller disposes them.</summary>
    protected abstract Tensor SelectPatches(in VitReductionStep step, int keep);

    /// <inheritdoc />
    public abstract VitScoreExports Exports(int layer);

    /// <inheritdoc />
    public virtual void Observe(in VitReductionStep step)
    {
    }

    /// <inheritdoc />
    public int TokensAfter(int layer, int tokens) => 1 + KeptPatches(layer, tokens - 1);

    /// <inheritdoc />
    public void Reduce(in VitReductionStep step)
    {
        int batch = step.Input.Shape[0], t = step.Input.Shape[1], k = KeptPatches(step.Layer, t - 1);
        if (k == 0)
        {
            KeptRows.Gather(step, ReadOnlySpan<int>.Empty, batch, t, 0);
            return;
        }
        using var kept = SelectPatches(step, k);
        KeptRows.Gather(step, kept, batch, t, k);
    }

    /// <summary>Whether <paramref name="layer"/> is a pruning block.</summary>
    protected bool Prunes(int layer) => Array.IndexOf(Layers, layer) >= 0;

    /// <summary>ceil(<paramref name="keep"/> <paramref name="patches"/>), at least 1 (EViT's and VTC-CLS's count).</summary>
    protected static int Ratio(double keep, int patches) => Math.Max(1, (int)Math.Ceiling(keep * patches));

    /// <summary>Throws unless <paramref name="keep"/> is in (0, 1].</summary>
    protected static double CheckKeep(double keep, string method) =>
        keep > 0 && keep <= 1 ? keep : throw new ArgumentOutOfRangeException(nameof(keep), keep, $"{method}: keep must be in (0, 1]");

    /// <summary>Patch tokens [B, P, D] of <paramref name="step"/>'s input as a contiguous tensor (a copy for B &gt; 1).</summary>
    protected static Tensor Patches(in VitReductionStep step)
    {
        using var view = step.Input.Narrow(1, 1, step.Input.Shape[1] - 1);
        return view.Contiguous();
    }

    /// <summary>Side of the square patch grid of <paramref name="patches"/> tokens (grid methods need the full grid).</summary>
    protected int GridWidth(int patches)
    {
        int side = (int)Math.Round(Math.Sqrt(patches));
        return side * side == patches ? side
            : throw new InvalidOperationException($"{Name}: {patches} patches are not a square grid (grid methods must prune before any other reduction)");
    }
}
