// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Greedy selection loops (methods.md K7), one batch per work item. Farthest point (ToDRE): normalise the rows once
// into pooled scratch, keep every point's cosine distance to the chosen set, and after each pick fold in the
// distances to the new point: O(N C) per step. Max coverage (MMTok): per step, gains[v] = sum_u w_u relu(S[u, v] -
// cov_u) as a SIMD pass over rows of S (O(U N)), then the argmax and the coverage update.
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace HpcCore.Cpu;

using HpcCore.Kernels;

internal sealed unsafe partial class CpuKernels
{
    public void FarthestPoint(in FarthestPointArgs a)
    {
        if (a.Batch == 0 || a.K == 0) return;
        long perBatch = (long)a.N * a.C + 2L * a.N;
        byte* scratch = _backend.Memory.Rent(a.Batch * perBatch * sizeof(float), out long capacity);
        try
        {
            Pool.For(a.Batch, new FarthestPointBody
            {
                X = Ptr<float>(a.Features), Seeds = a.Seeds is null ? null : Ptr<int>(a.Seeds), D = Ptr<int>(a.Dest),
                Scratch = (float*)scratch, PerBatch = perBatch, N = a.N, C = a.C, K = a.K,
            });
        }
        finally
        {
            _backend.Memory.Return(scratch, capacity);
        }
    }

    public void Coverage(in CoverageArgs a)
    {
        if (a.Batch == 0 || a.K == 0) return;
        long perBatch = (long)a.U + 2L * a.N;
        byte* scratch = _backend.Memory.Rent(a.Batch * perBatch * sizeof(float), out long capacity);
        try
        {
            Pool.For(a.Batch, new CoverageBody
            {
                S = Ptr<float>(a.Similarity), W = a.Weights is null ? null : Ptr<float>(a.Weights), D = Ptr<int>(a.Dest),
                Scratch = (float*)scratch, PerBatch = perBatch, U = a.U, N = a.N, K = a.K,
            });
        }
        finally
        {
            _backend.Memory.Return(scratch, capacity);
        }
    }

    /// <summary>
    /// Index of the largest value among entries whose flag is 0 (NaN below every number, ties to the lower index);
    /// -1 when every entry is flagged.
    /// </summary>
    internal static int ArgmaxUnflagged(float* values, float* flags, int n)
    {
        int arg = -1;
        float best = float.NaN;
        for (int i = 0; i < n; i++)
        {
            if (flags[i] != 0) continue;
            float v = values[i];
            if (arg < 0 || (!float.IsNaN(v) && (float.IsNaN(best) || v > best)))
            {
                best = v;
                arg = i;
            }
        }
        return arg;
    }

    private struct FarthestPointBody : IParallelBody
    {
        public float* X, Scratch;
        public int* Seeds, D;
        public long PerBatch;
        public int N, C, K;

        public readonly void Invoke(int b)
        {
            float* norm = Scratch + b * PerBatch, dist = norm + (long)N * C, chosen = dist + N;
            float* x = X + (long)b * N * C;
            for (int i = 0; i < N; i++)
            {
                float inv = InverseNorm(x + (long)i * C, C);
                TensorPrimitives.Multiply(new ReadOnlySpan<float>(x + (long)i * C, C), inv, new Span<float>(norm + (long)i * C, C));
                dist[i] = float.PositiveInfinity;
                chosen[i] = 0;
            }
            int* d = D + (long)b * K;
            int pick = Seeds == null ? 0 : Seeds[b];
            for (int step = 0; ; step++)
            {
                d[step] = pick;
                chosen[pick] = 1;
                if (step + 1 == K) return;
                var p = new ReadOnlySpan<float>(norm + (long)pick * C, C);
                for (int i = 0; i < N; i++)
                {
                    float di = 1f - TensorPrimitives.Dot(new ReadOnlySpan<float>(norm + (long)i * C, C), p);
                    dist[i] = MathF.Min(dist[i], di);
                }
                pick = ArgmaxUnflagged(dist, chosen, N);
            }
        }
    }

    private struct CoverageBody : IParallelBody
    {
        public float* S, W, Scratch;
        public int* D;
        public long PerBatch;
        public int U, N, K;

        public readonly void Invoke(int b)
        {
            float* cov = Scratch + b * PerBatch, gain = cov + U, picked = gain + N;
            float* s = S + (long)b * U * N;
            new Span<float>(cov, U).Clear();
            new Span<float>(picked, N).Clear();
            int* d = D + (long)b * K;
            for (int step = 0; step < K; step++)
            {
                new Span<float>(gain, N).Clear();
                for (int u = 0; u < U; u++)
                    AddGain(s + (long)u * N, cov[u], W == null ? 1f : W[(long)b * U + u], gain, N);
                int pick = ArgmaxUnflagged(gain, picked, N);
                d[step] = pick;
                picked[pick] = 1;
                for (int u = 0; u < U; u++) cov[u] = MathF.Max(cov[u], s[(long)u * N + pick]);
            }
        }

        // gain[v] += w * max(row[v] - c, 0).
        private static void AddGain(float* row, float c, float w, float* gain, int n)
        {
            int v = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                var cv = Vector512.Create(c);
                var wv = Vector512.Create(w);
                for (; v + 16 <= n; v += 16)
                {
                    var g = Vector512.Max(Vector512.Load(row + v) - cv, Vector512<float>.Zero);
                    Vector512.FusedMultiplyAdd(g, wv, Vector512.Load(gain + v)).Store(gain + v);
                }
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                var cv = Vector256.Create(c);
                var wv = Vector256.Create(w);
                for (; v + 8 <= n; v += 8)
                {
                    var g = Vector256.Max(Vector256.Load(row + v) - cv, Vector256<float>.Zero);
                    Vector256.FusedMultiplyAdd(g, wv, Vector256.Load(gain + v)).Store(gain + v);
                }
            }
            for (; v < n; v++) gain[v] = MathF.FusedMultiplyAdd(MathF.Max(row[v] - c, 0f), w, gain[v]);
        }
    }
}
