// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vit.Reducers;

using HpcCore.Tensors;
using HpcCore.TokenReduction;

/// <summary>
/// Expedit's token clustering layer (methods.md 3.11) inside a classifier ViT, at one block on the full patch grid:
/// the g x g patches become <c>size</c> x <c>size</c> super-tokens (adaptive-average-pooled centres refined by windowed
/// soft k-means), and the later blocks run on [CLS] plus the super-tokens. Expedit's reconstruction layer rebuilds the
/// full grid for a dense-prediction head; a classifier reads only [CLS], so it is not run. Needs no attention export.
/// </summary>
public sealed class ExpeditReducer : IVitTokenReducer
{
    private readonly int _layer, _size;
    private readonly ExpeditOptions _options;

    /// <summary>Clusters at <paramref name="layer"/> into <paramref name="size"/> x <paramref name="size"/> super-tokens.</summary>
    public ExpeditReducer(int layer, int size, int depth, in ExpeditOptions options = default)
    {
        if (layer < 0 || layer >= depth) throw new ArgumentOutOfRangeException(nameof(layer), layer, $"ExpeditReducer: layer must be in [0, {depth})");
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        (_layer, _size, _options) = (layer, size, options);
    }

    /// <inheritdoc />
    public string Name => $"expedit:layer={_layer};size={_size}";

    /// <inheritdoc />
    public bool TracksSizes => false;

    /// <inheritdoc />
    public int TokensAfter(int layer, int tokens)
    {
        if (layer != _layer) return tokens;
        int side = (int)Math.Round(Math.Sqrt(tokens - 1));
        if (side * side != tokens - 1 || _size > side)
            throw new InvalidOperationException($"{Name}: block {layer} sees {tokens - 1} patches; clustering needs a square grid of at least {_size} x {_size}");
        return 1 + _size * _size;
    }

    /// <inheritdoc />
    public VitScoreExports Exports(int layer) => VitScoreExports.None;

    /// <inheritdoc />
    public void Reduce(in VitReductionStep step)
    {
        int batch = step.Input.Shape[0], t = step.Input.Shape[1], d = step.Input.Shape[2], side = (int)Math.Round(Math.Sqrt(t - 1));
        int m = _size * _size;
        using var patchView = step.Input.Narrow(1, 1, t - 1);
        using var patches = patchView.Contiguous();
        using var grid = patches.Reshape(batch, side, side, d);
        using var plan = Expedit.Cluster(grid, _size, _size, _options);
        using (var cls = step.Input.Narrow(1, 0, 1))
        using (var dst = step.Output.Narrow(1, 0, 1))
            cls.CopyTo(dst);
        using (var dst = step.Output.Narrow(1, 1, m))
            plan.Centers.CopyTo(dst);
        if (step.TokenMap is { } map) map.CopyFrom<int>(HardLabels(plan.Reconstruction, batch, t - 1, m));
    }

    // For merge maps: every patch goes to the super-token with its largest reconstruction weight (its nearest centre).
    private static int[] HardLabels(Tensor reconstruction, int batch, int n, int m)
    {
        var w = reconstruction.ToArray<float>();
        var labels = new int[batch * (n + 1)];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < n; t++)
            {
                int best = 0;
                for (int c = 1; c < m; c++)
                    if (w[((long)b * n + t) * m + c] > w[((long)b * n + t) * m + best]) best = c;
                labels[b * (n + 1) + t + 1] = best + 1;
            }
        return labels;
    }

    /// <summary>Nothing to release: every tensor this reducer makes lives for one call.</summary>
    public void Dispose()
    {
    }
}
