// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm.Positional;

using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>
/// RoPE with per-pair inverse frequencies (<see cref="RopeFrequencyScaling"/>), which the core's
/// <see cref="HpcCore.Ops.Rope"/> cannot take (it derives every frequency from one theta). Rotates
/// x [1, rows, H, D] on the host through one reused buffer and a grow-only cos/sin table, so a warm decode step
/// allocates nothing. On a GPU backend this costs a download and an upload of Q and K per step; a core op with
/// explicit frequencies would remove it.
/// </summary>
internal sealed class ScaledRope
{
    private readonly double[] _invFreq;
    private readonly bool _halfSplit;
    private float[] _cos = [], _sin = [];
    private int _positions;
    private float[] _buffer = [];

    public ScaledRope(double[] inverseFrequencies, RopeLayout layout)
    {
        _invFreq = inverseFrequencies;
        _halfSplit = layout == RopeLayout.HalfSplit;
    }

    /// <summary>Rotates x [1, rows, H, D] in place; token t sits at position <paramref name="offset"/> + t.</summary>
    public void Apply(Tensor x, int offset)
    {
        int rows = x.Shape[1], heads = x.Shape[2], d = x.Shape[3], pairs = d / 2;
        Ensure(offset + rows);
        int n = rows * heads * d;
        if (_buffer.Length < n) _buffer = new float[n];
        var data = _buffer.AsSpan(0, n);
        x.CopyTo<float>(data);
        for (int t = 0; t < rows; t++)
        {
            var cos = _cos.AsSpan((offset + t) * pairs, pairs);
            var sin = _sin.AsSpan((offset + t) * pairs, pairs);
            for (int h = 0; h < heads; h++)
            {
                var head = data.Slice((t * heads + h) * d, d);
                for (int i = 0; i < pairs; i++)
                {
                    int a = _halfSplit ? i : 2 * i, b = _halfSplit ? i + pairs : 2 * i + 1;
                    float x0 = head[a], x1 = head[b];
                    head[a] = x0 * cos[i] - x1 * sin[i];
                    head[b] = x0 * sin[i] + x1 * cos[i];
                }
            }
        }
        x.CopyFrom<float>(data);
    }

    // Rows [0, positions) of cos/sin [position, pair]; grows by doubling so that decode rarely reallocates.
    private void Ensure(int positions)
    {
        if (positions <= _positions) return;
        int pairs = _invFreq.Length, grown = Math.Max(positions, Math.Min(2 * _positions, int.MaxValue / Math.Max(1, pairs)));
        var cos = new float[checked(grown * pairs)];
        var sin = new float[cos.Length];
        _cos.CopyTo(cos, 0);
        _sin.CopyTo(sin, 0);
        for (int p = _positions; p < grown; p++)
        for (int i = 0; i < pairs; i++)
        {
            // float32 angle as transformers forms it (inv_freq @ position_ids in float32), then cos/sin in double.
            float angle = (float)_invFreq[i] * p;
            cos[p * pairs + i] = (float)Math.Cos(angle);
            sin[p * pairs + i] = (float)Math.Sin(angle);
        }
        _cos = cos;
        _sin = sin;
        _positions = grown;
    }
}
