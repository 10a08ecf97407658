// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Rotary position embedding (Su et al. 2021, RoFormer). Angles are computed in double once per token and
// shared by all heads, so long positions (where a float angle would lose ~1e-4) stay exact to float rounding.
namespace HpcCore.Cpu;

using HpcCore.Kernels;

internal sealed unsafe partial class CpuKernels
{
    public void Rope(in RopeArgs a)
    {
        long tokens = (long)a.Batch * a.Tokens;
        if (tokens == 0 || a.Heads == 0 || a.HeadDim == 0) return;
        var body = new RopeBody
        {
            X = Ptr<float>(a.X), D = Ptr<float>(a.Dest), P = a.Positions is null ? null : Ptr<int>(a.Positions),
            TokensPerBatch = a.Tokens, TotalTokens = tokens, H = a.Heads, Hd = a.HeadDim, R = a.RotaryDim,
            Offset = a.PositionOffset, Theta = a.Theta, HalfSplit = a.Layout == RopeLayout.HalfSplit,
        };
        body.Items = ItemsFor(tokens, (long)a.Heads * a.HeadDim);
        Pool.For(body.Items, body);
    }

    private struct RopeBody : IParallelBody
    {
        public float* X, D;
        public int* P;
        public long TotalTokens;
        public int TokensPerBatch, H, Hd, R, Offset, Items;
        public float Theta;
        public bool HalfSplit;

        public readonly void Invoke(int item)
        {
            var (start, end) = Range(TotalTokens, Items, item);
            int pairs = R / 2;
            Span<float> cos = stackalloc float[pairs];
            Span<float> sin = stackalloc float[pairs];
            Span<double> invFreq = stackalloc double[pairs];
            for (int i = 0; i < pairs; i++) invFreq[i] = Math.Pow(Theta, -2.0 * i / R);
            for (long n = start; n < end; n++)
            {
                long pos = P is null ? Offset + n % TokensPerBatch : P[n];
                for (int i = 0; i < pairs; i++)
                {
                    double angle = pos * invFreq[i];
                    cos[i] = (float)Math.Cos(angle);
                    sin[i] = (float)Math.Sin(angle);
                }
                for (int h = 0; h < H; h++)
                {
                    float* x = X + (n * H + h) * Hd;
                    float* d = D + (n * H + h) * Hd;
                    for (int i = 0; i < pairs; i++)
                    {
                        int i0 = HalfSplit ? i : 2 * i, i1 = HalfSplit ? i + pairs : 2 * i + 1;
                        float x0 = x[i0], x1 = x[i1];
                        d[i0] = x0 * cos[i] - x1 * sin[i];
                        d[i1] = x0 * sin[i] + x1 * cos[i];
                    }
                    if (d != x)
                        for (int j = 2 * pairs; j < Hd; j++) d[j] = x[j];
                }
            }
        }
    }
}
