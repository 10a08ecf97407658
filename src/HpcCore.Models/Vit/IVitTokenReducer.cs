// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vit;

/// <summary>
/// A token-reduction method switched on per layer inside <see cref="VitSession"/>. Schedules are fixed per layer (the
/// token count leaving each block depends only on the count entering it), so the session preallocates every
/// activation once per batch size and the steady-state forward allocates nothing. Reducers may keep plans and scores
/// in pooled backend memory between calls, so every reducer is disposable; whoever creates one disposes it (a
/// <see cref="VitSession"/> uses its reducer but does not own it).
/// </summary>
public interface IVitTokenReducer : IDisposable
{
    /// <summary>Short name for tables, e.g. "tome:r=8".</summary>
    string Name { get; }

    /// <summary>Tokens leaving block <paramref name="layer"/>'s reduction when <paramref name="tokens"/> enter it
    /// (equal: the block does not reduce and <see cref="Reduce"/> is not called).</summary>
    int TokensAfter(int layer, int tokens);

    /// <summary>
    /// Attention statistics block <paramref name="layer"/> must export: for <see cref="Reduce"/> at a reducing block,
    /// for <see cref="Observe"/> at a block that only records them (VTC-CLS's ensemble, HiPrune's object layer).
    /// Return <see cref="VitScoreExports.None"/> elsewhere: every export costs a pass over the block's keys.
    /// </summary>
    VitScoreExports Exports(int layer);

    /// <summary>Whether tokens carry sizes (ToMe): the session then passes log(size) to later blocks' attention as
    /// <see cref="HpcCore.Ops.AttentionOptions.KeyBias"/> (proportional attention, ToMe section 3).</summary>
    bool TracksSizes { get; }

    /// <summary>Reduces <see cref="VitReductionStep.Input"/> into <see cref="VitReductionStep.Output"/>.</summary>
    void Reduce(in VitReductionStep step);

    /// <summary>
    /// Called instead of <see cref="Reduce"/> at a block that requests exports but keeps its tokens
    /// (<see cref="VitReductionStep.Output"/> is then the input itself and must not be written): the reducer copies
    /// what it needs from the exports, which the next block overwrites. Default: nothing.
    /// </summary>
    void Observe(in VitReductionStep step)
    {
    }
}
