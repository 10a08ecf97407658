// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vit;

/// <summary>
/// A token-reduction method switched on per layer inside <see cref="VitSession"/>. Schedules are fixed per layer (the
/// token count leaving each block depends only on the count entering it), so the session preallocates every
/// activation once per batch size and the steady-state forward allocates nothing.
/// </summary>
public interface IVitTokenReducer
{
    /// <summary>Short name for tables, e.g. "tome:r=8".</summary>
    string Name { get; }

    /// <summary>Tokens leaving block <paramref name="layer"/>'s reduction when <paramref name="tokens"/> enter it
    /// (equal: the block does not reduce and <see cref="Reduce"/> is not called).</summary>
    int TokensAfter(int layer, int tokens);

    /// <summary>Attention statistics block <paramref name="layer"/> must export for <see cref="Reduce"/>.</summary>
    VitScoreExports Exports(int layer);

    /// <summary>Whether tokens carry sizes (ToMe): the session then passes log(size) to later blocks' attention as
    /// <see cref="HpcCore.Ops.AttentionOptions.KeyBias"/> (proportional attention, ToMe section 3).</summary>
    bool TracksSizes { get; }

    /// <summary>Reduces <see cref="VitReductionStep.Input"/> into <see cref="VitReductionStep.Output"/>.</summary>
    void Reduce(in VitReductionStep step);
}
