// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vlm;

using HpcCore.Models.Vit;

/// <summary>
/// An <see cref="IVitTokenReducer"/> that reduces nothing and records, at every ViT block, the [CLS] attention row
/// (mean over heads) and the attention each token receives (sum over heads and queries): the statistics the
/// visual-token selectors read (VTC-CLS, HiRED, HiPrune, FoPru, ToDRE's saliency). The scores come from the attention
/// kernel's exports, not from an extra pass.
/// </summary>
internal sealed class VlmVisionObserver : IVitTokenReducer
{
    private readonly float[][] _classRows;
    private readonly float[][] _received;
    private readonly int _views, _tokens, _heads;
    private float[] _scratch = [];

    public VlmVisionObserver(int depth, int views, int tokens, int heads)
    {
        _views = views;
        _tokens = tokens;
        _heads = heads;
        _classRows = new float[depth][];
        _received = new float[depth][];
        for (int l = 0; l < depth; l++)
        {
            _classRows[l] = new float[views * tokens];
            _received[l] = new float[views * tokens];
        }
    }

    public string Name => "vlm-observer";

    /// <summary>Nothing to release: the observer holds managed arrays only.</summary>
    public void Dispose()
    {
    }

    public bool TracksSizes => false;

    /// <summary>[CLS] row of block l, mean over heads, [views, T] (column 0 is [CLS] itself).</summary>
    public float[] ClassRow(int layer) => _classRows[layer];

    /// <summary>Attention received per token at block l, summed over heads and queries, [views, T].</summary>
    public float[] Received(int layer) => _received[layer];

    public int TokensAfter(int layer, int tokens) => tokens;

    public VitScoreExports Exports(int layer) => VitScoreExports.ClassRow | VitScoreExports.KeyTotals;

    public void Reduce(in VitReductionStep step) =>
        throw new InvalidOperationException("VlmVisionObserver reduces nothing");

    public void Observe(in VitReductionStep step)
    {
        int n = _views * _heads * _tokens;
        if (_scratch.Length < n) _scratch = new float[n];
        var s = _scratch.AsSpan(0, n);
        step.ClassRow!.CopyTo<float>(s);
        Fold(s, _classRows[step.Layer], 1f / _heads);
        step.KeyTotals!.CopyTo<float>(s);
        Fold(s, _received[step.Layer], 1f);
    }

    // [views, H, T] -> [views, T]: sum over heads (double), times scale.
    private void Fold(ReadOnlySpan<float> s, float[] into, float scale)
    {
        for (int v = 0; v < _views; v++)
            for (int t = 0; t < _tokens; t++)
            {
                double sum = 0;
                for (int h = 0; h < _heads; h++) sum += s[(v * _heads + h) * _tokens + t];
                into[v * _tokens + t] = (float)(sum * scale);
            }
    }
}
