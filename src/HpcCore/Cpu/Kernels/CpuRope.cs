// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Rotary position embedding (Su et al. 2021, RoFormer). Angles are computed in double once per token and
// shared by all heads, so long positions (where a float angle would lose ~1e-4) stay exact to float rounding.
namespace HpcCore.Cpu;

using System.Runtime.CompilerServices;
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
        int pairs = a.RotaryDim / 2;
        if (pairs > 0 && TablePositions(a, body, pairs) is int positions)
        {
            // Same (double angle, double cos/sin rounded to float) values as the per-call path, computed once per
            // position: a decode step rotates at one new position per call and otherwise paid pairs x (pow, cos, sin).
            lock (_ropeTable)
            {
                if (_ropeTable.Fits(a.Theta, a.RotaryDim))
                {
                    _ropeTable.Ensure(a.Theta, a.RotaryDim, positions);
                    body.Cos = _ropeTable.Cos;
                    body.Sin = _ropeTable.Sin;
                    Pool.For(body.Items, body);
                    return;
                }
            }
        }
        Pool.For(body.Items, body);
    }

    // Positions the cos/sin table keeps per backend (one theta and rotary width: the model's): entries, not bytes.
    private const long RopeTableMaxEntries = 1L << 20;

    private readonly PagedRopeTable _ropeTable = new();

    // One past the largest position of the call when every position is in [0, the table's cap), else null.
    private static int? TablePositions(in RopeArgs a, in RopeBody body, int pairs)
    {
        long max;
        if (body.P == null) max = (long)a.PositionOffset + a.Tokens - 1;
        else
        {
            max = -1;
            long count = body.TotalTokens;
            for (long n = 0; n < count; n++)
            {
                int pos = body.P[n];
                if (pos < 0) return null;
                max = Math.Max(max, pos);
            }
        }
        if (a.PositionOffset < 0 || max < 0 || (max + 1) * pairs > RopeTableMaxEntries) return null;
        return (int)(max + 1);
    }

    private struct RopeBody : IParallelBody
    {
        public float* X, D;
        public int* P;
        public float* Cos, Sin; // the backend's table [position, pairs], or null: computed here
        public long TotalTokens;
        public int TokensPerBatch, H, Hd, R, Offset, Items;
        public float Theta;
        public bool HalfSplit;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Invoke(int item)
        {
            var (start, end) = Range(TotalTokens, Items, item);
            int pairs = R / 2;
            bool table = Cos != null;
            Span<float> cos = table ? default : stackalloc float[pairs];
            Span<float> sin = table ? default : stackalloc float[pairs];
            Span<double> invFreq = table ? default : stackalloc double[pairs];
            for (int i = 0; i < invFreq.Length; i++) invFreq[i] = Math.Pow(Theta, -2.0 * i / R);
            for (long n = start; n < end; n++)
            {
                long pos = P is null ? Offset + n % TokensPerBatch : P[n];
                if (table)
                {
                    cos = new Span<float>(Cos + pos * pairs, pairs);
                    sin = new Span<float>(Sin + pos * pairs, pairs);
                }
                else
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
