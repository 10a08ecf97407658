// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Expedit (Liang et al., "Expediting Large-Scale Vision Transformer for Dense Prediction without Fine-tuning",
// NeurIPS 2022; methods.md 3.11). Token clustering layer: centres start as the adaptive average pool of the h x w grid
// and follow a few soft k-means steps restricted to a window of cells around each token's own cell (softmax over the
// centres). Token reconstruction layer: every token is rebuilt from the refined centres with weights
// exp(-tau ||x_t - c||^2) from the clustering layer, top-k per token, L2-normalised (not sum-normalised).
// The O(N M C) distance terms are GEMMs; the per-token softmax over M centres is host bookkeeping.
namespace HpcCore.TokenReduction;

using HpcCore.Diagnostics;
using HpcCore.Ops;
using HpcCore.Tensors;

/// <summary>Expedit token clustering and reconstruction.</summary>
public static class Expedit
{
    /// <summary>
    /// Clusters the token grid <paramref name="x"/> F32 [B, h, w, C] (contiguous) into <paramref name="outHeight"/> x
    /// <paramref name="outWidth"/> super-tokens and prepares the reconstruction weights.
    /// </summary>
    public static ClusterPlan Cluster(Tensor x, int outHeight, int outWidth, in ExpeditOptions options = default)
    {
        const string Op = "Expedit.Cluster";
        Check.Input(Op, nameof(x), x, DType.F32, 4, "[B, h, w, C]");
        int batch = x.Shape[0], h = x.Shape[1], w = x.Shape[2], c = x.Shape[3];
        if (outHeight < 1 || outHeight > h) ThrowHelper.OutOfRange(Op, nameof(outHeight), outHeight, $"must be in [1, h = {h}]");
        if (outWidth < 1 || outWidth > w) ThrowHelper.OutOfRange(Op, nameof(outWidth), outWidth, $"must be in [1, w = {w}]");
        int iterations = options.Iterations == 0 ? ExpeditOptions.DefaultIterations : options.Iterations;
        float tau = options.Temperature == 0 ? ExpeditOptions.DefaultTemperature : options.Temperature;
        int radius = options.Radius ?? ExpeditOptions.DefaultRadius;
        int n = h * w, m = outHeight * outWidth;
        int topK = Math.Min(options.ReconstructionK == 0 ? ExpeditOptions.DefaultReconstructionK : options.ReconstructionK, m);
        if (iterations < 0) ThrowHelper.OutOfRange(Op, "options.Iterations", options.Iterations, "must be >= 0");
        if (!(tau > 0) || float.IsInfinity(tau)) ThrowHelper.OutOfRange(Op, "options.Temperature", options.Temperature, "must be finite and > 0");
        if (radius < 0) ThrowHelper.OutOfRange(Op, "options.Radius", radius, "must be >= 0");
        if (topK < 1) ThrowHelper.OutOfRange(Op, "options.ReconstructionK", options.ReconstructionK, "must be >= 0");

        using var tokens = x.Reshape(batch, n, c);
        var centers = PoolCenters(x, outHeight, outWidth, batch, m, c);
        Tensor? reconstruction = null;
        var xs = HostIndex.Read<float>(tokens);
        var weights = HostIndex.Rent<float>((long)batch * m * n);
        var logits = HostIndex.Rent<float>((long)n * m);
        try
        {
            var xn = SquaredNorms(xs, batch * n, c);
            for (int it = 0; it < iterations; it++)
            {
                var old = Distances(tokens, centers, xn, logits, weights, batch, n, m, c, tau, h, w, outHeight, outWidth, radius);
                using var wt = HostIndex.Upload(weights, new Shape(batch, m, n), x);
                Gemm.Multiply(wt, tokens, centers);
                RestoreEmpty(centers, old, weights, batch, m, n, c);
                HostIndex.Return(old);
            }
            reconstruction = Reconstruction(tokens, centers, xn, tau, topK, batch, n, m, c);
            return new ClusterPlan(centers, reconstruction, outHeight, outWidth);
        }
        catch
        {
            centers.Dispose();
            reconstruction?.Dispose();
            throw;
        }
        finally
        {
            HostIndex.Return(xs);
            HostIndex.Return(weights);
            HostIndex.Return(logits);
        }
    }

    /// <summary>
    /// Token reconstruction: X_out[t] = sum_c Reconstruction[t, c] refined[c] for <paramref name="refined"/> F32
    /// [B, h' w', C] (the super-tokens after the layers that ran on them). Returns [B, h w, C].
    /// </summary>
    public static Tensor Reconstruct(ClusterPlan plan, Tensor refined)
    {
        const string Op = "Expedit.Reconstruct";
        ArgumentNullException.ThrowIfNull(plan);
        Check.Live(Op, nameof(refined), refined);
        Check.Rank(Op, nameof(refined), refined, 3, "[B, h' w', C]");
        if (refined.Shape[0] != plan.Centers.Shape[0] || refined.Shape[1] != plan.Centers.Shape[1])
            ThrowHelper.Argument(Op, nameof(refined), $"has shape {refined.Shape}; the plan has {plan.Centers.Shape[0]} x {plan.Centers.Shape[1]} super-tokens");
        return Gemm.Multiply(plan.Reconstruction, refined);
    }

    private static Tensor PoolCenters(Tensor x, int outHeight, int outWidth, int batch, int m, int c)
    {
        using var pooled = Pooling.AdaptiveAvg2D(x, outHeight, outWidth);
        var centers = Tensor.Empty(new Shape(batch, m, c), DType.F32, x.Backend);
        using var flat = pooled.Reshape(batch, m, c);
        flat.CopyTo(centers);
        return centers;
    }

    private static double[] SquaredNorms(float[] v, int rows, int c)
    {
        var r = new double[rows];
        for (int i = 0; i < rows; i++)
        {
            double s = 0;
            for (int k = 0; k < c; k++) s += (double)v[i * c + k] * v[i * c + k];
            r[i] = s;
        }
        return r;
    }

    // One assignment step: weights[b, c, t] = softmax_c(-tau D[c, t]) over the centres in t's window, divided by the
    // centre's total weight (so that one GEMM gives the weighted means). Returns the old centres (pooled array).
    private static float[] Distances(Tensor tokens, Tensor centers, double[] xn, float[] logits, float[] weights,
        int batch, int n, int m, int c, float tau, int h, int w, int oh, int ow, int radius)
    {
        using var g = Gemm.Multiply(tokens, centers, new GemmOptions(TransposeB: true));   // [B, N, M] = x . c
        var gs = HostIndex.Read<float>(g);
        var cs = HostIndex.Read<float>(centers);
        try
        {
            var cn = SquaredNorms(cs, batch * m, c);
            var total = new double[m];
            for (int b = 0; b < batch; b++)
            {
                Array.Clear(total);
                for (int t = 0; t < n; t++)
                {
                    int ci = t / w * oh / h, cj = t % w * ow / w;
                    double max = double.NegativeInfinity;
                    for (int k = 0; k < m; k++)
                    {
                        bool near = Math.Abs(k / ow - ci) <= radius && Math.Abs(k % ow - cj) <= radius;
                        double d = xn[b * n + t] + cn[b * m + k] - 2.0 * gs[((long)b * n + t) * m + k];
                        double l = near ? -tau * d : double.NegativeInfinity;
                        logits[t * m + k] = (float)l;
                        max = Math.Max(max, l);
                    }
                    double sum = 0;
                    for (int k = 0; k < m; k++) sum += Math.Exp(logits[t * m + k] - max);
                    for (int k = 0; k < m; k++)
                    {
                        double p = Math.Exp(logits[t * m + k] - max) / sum;
                        logits[t * m + k] = (float)p;
                        total[k] += p;
                    }
                }
                for (int k = 0; k < m; k++)
                    for (int t = 0; t < n; t++)
                        weights[((long)b * m + k) * n + t] = total[k] > 0 ? (float)(logits[t * m + k] / total[k]) : 0f;
            }
            return cs;
        }
        finally
        {
            HostIndex.Return(gs);
        }
    }

    // A centre no token weighs (all its weights underflowed) keeps its previous value instead of collapsing to zero.
    private static void RestoreEmpty(Tensor centers, float[] old, float[] weights, int batch, int m, int n, int c)
    {
        float[]? now = null;
        for (int b = 0; b < batch; b++)
            for (int k = 0; k < m; k++)
            {
                bool empty = true;
                for (int t = 0; t < n && empty; t++) empty = weights[((long)b * m + k) * n + t] == 0;
                if (!empty) continue;
                now ??= HostIndex.Read<float>(centers);
                Array.Copy(old, ((long)b * m + k) * c, now, ((long)b * m + k) * c, c);
            }
        if (now is null) return;
        centers.CopyFrom<float>(now.AsSpan(0, batch * m * c));
        HostIndex.Return(now);
    }

    private static Tensor Reconstruction(Tensor tokens, Tensor centers, double[] xn, float tau, int topK, int batch, int n, int m, int c)
    {
        using var g = Gemm.Multiply(tokens, centers, new GemmOptions(TransposeB: true));
        var gs = HostIndex.Read<float>(g);
        var cs = HostIndex.Read<float>(centers);
        int[] top = [];
        try
        {
            var cn = SquaredNorms(cs, batch * m, c);
            for (int b = 0; b < batch; b++)
                for (int t = 0; t < n; t++)
                    for (int k = 0; k < m; k++)
                    {
                        long i = ((long)b * n + t) * m + k;
                        gs[i] = (float)(-tau * (xn[b * n + t] + cn[b * m + k] - 2.0 * gs[i]));
                    }
            using (var l = HostIndex.Upload(gs, new Shape(batch, n, m), tokens))
            using (var idx = TopK.Indices(l, topK))
                top = HostIndex.Read<int>(idx);
            var dense = new float[(long)batch * n * m];
            for (long row = 0; row < (long)batch * n; row++)
            {
                // exp(l - l_max) is exp(l) up to a per-token factor, which the L2 normalisation removes.
                double lmax = gs[row * m + top[row * topK]], norm = 0;
                for (int j = 0; j < topK; j++) norm += Math.Exp(2 * (gs[row * m + top[row * topK + j]] - lmax));
                norm = Math.Sqrt(norm);
                for (int j = 0; j < topK; j++)
                {
                    int k = top[row * topK + j];
                    dense[row * m + k] = (float)(Math.Exp(gs[row * m + k] - lmax) / norm);
                }
            }
            return Tensor.From<float>(dense, new Shape(batch, n, m), tokens.Backend);
        }
        finally
        {
            HostIndex.Return(gs);
            HostIndex.Return(cs);
            if (top.Length > 0) HostIndex.Return(top);
        }
    }
}
