// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Second phase of the split fused attention: merging key-split partials (flash-decoding's combine: rescale each
// split's unnormalised output and sum by exp(m_s - m_max), divide by the rescaled sum of l_s).
using System.Numerics.Tensors;

namespace HpcCore.Cpu;

/// <summary>Merges the key-split partials of one (batch, kv head, lane block) per item and writes the output.</summary>
internal unsafe struct AttentionCombineWork : IParallelBody
{
    public AttentionProblem P;

    /// <summary>The tile's lanes, rows per kv head, lane blocks per kv head and key splits.</summary>
    public int Lanes, Rows, LaneBlocks, Splits;

    /// <summary>The tile's split partials and the floats of one.</summary>
    public float* Partials;
    public long PartialFloats;

    /// <inheritdoc/>
    public readonly void Invoke(int unit)
    {
        ref readonly var p = ref P;
        int L = Lanes, splits = Splits, d = p.D;
        int lb = LaneBlocks - 1 - unit % LaneBlocks, bh = unit / LaneBlocks;
        int hkv = bh % p.KvHeads, b = bh / p.KvHeads;
        int r0 = lb * L, nl = Math.Min(L, Rows - r0);
        float* first = Partials + (long)unit * splits * PartialFloats;
        for (int i = 0; i < nl; i++)
        {
            float mMax = float.NegativeInfinity;
            for (int s = 0; s < splits; s++)
            {
                float* part = first + s * PartialFloats;
                if (part[(d + 1) * L + i] > 0f) mMax = Math.Max(mMax, part[d * L + i]);
            }
            int r = r0 + i, g = r / p.Tq, t = r - g * p.Tq, h = hkv * p.Group + g;
            float* o = p.O + b * p.Os.Batch + t * p.Os.Token + h * p.Os.Head;
            new Span<float>(o, d).Clear();
            float l = 0f;
            for (int s = 0; s < splits; s++)
            {
                float* part = first + s * PartialFloats;
                float ls = part[(d + 1) * L + i];
                if (!(ls > 0f)) continue;
                float w = MathF.Exp(part[d * L + i] - mMax);
                l += w * ls;
                for (int k = 0; k < d; k++) o[k] += w * part[k * L + i];
            }
            if (l > 0f) TensorPrimitives.Multiply(new ReadOnlySpan<float>(o, d), 1f / l, new Span<float>(o, d));
        }
    }
}
