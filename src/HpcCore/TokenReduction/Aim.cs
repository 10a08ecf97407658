// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// AIM (Zhong et al., ICCV 2025; methods.md 3.1 and 3.10). Before the LLM: iterative ToMe merging of the visual tokens
// by their own features, plain mean, no protected token, halving the count each round. Inside the LLM (prefill):
// PageRank importance of softmax(logits / tau), RMS over heads; text tokens protected; the visual tokens kept per layer
// follow a schedule that keeps all of them up to layer l1 and none from layer l2 on.
namespace HpcCore.TokenReduction;

using HpcCore.Diagnostics;
using HpcCore.Ops;
using HpcCore.Tensors;

/// <summary>AIM pre-LLM merging and in-LLM progressive pruning.</summary>
public static class Aim
{
    /// <summary>The released code's temperature tau.</summary>
    public const float DefaultTemperature = 0.1f;

    /// <summary>The released code's power iterations.</summary>
    public const int DefaultIterations = 5;

    /// <summary>
    /// Pre-LLM merging of one frame's visual tokens <paramref name="features"/> F32 [B, N, C]: <paramref name="rounds"/>
    /// rounds of ToMe with r = N/2 of the current count (100% -> 50% -> 25% for two rounds), metric = the features,
    /// plain mean (no size weighting). Returns [B, N >> rounds (rounded up), C].
    /// </summary>
    public static Tensor MergeVisual(Tensor features, int rounds = 2)
    {
        const string Op = "Aim.MergeVisual";
        Check.Live(Op, nameof(features), features);
        if (rounds < 0) ThrowHelper.OutOfRange(Op, nameof(rounds), rounds, "must be >= 0");
        var current = features.Contiguous();
        try
        {
            for (int i = 0; i < rounds; i++)
            {
                using var plan = ToMe.Plan(current, current.Shape[1] / 2);
                var (merged, size) = ToMe.Merge(plan, current, null);
                size.Dispose();
                current.Dispose();
                current = merged;
            }
            return current;
        }
        catch
        {
            current.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Importance F32 [B, N] from one layer's <paramref name="logits"/> F32 [B, H, N, N] (QK^T/sqrt(d) with the causal and
    /// padding masks as -inf): M = softmax(logits / tau) per row, <paramref name="iterations"/> steps s = s M from 1/N,
    /// then sqrt(mean_h s_h^2). Run in F32 (methods.md section 8).
    /// </summary>
    public static Tensor Importance(Tensor logits, float temperature = DefaultTemperature, int iterations = DefaultIterations)
    {
        const string Op = "Aim.Importance";
        Check.Live(Op, nameof(logits), logits);
        Check.Rank(Op, nameof(logits), logits, 4, "[B, H, N, N]");
        if (!(temperature > 0)) ThrowHelper.OutOfRange(Op, nameof(temperature), temperature, "must be > 0");
        using var sharp = Elementwise.Scale(logits, 1f / temperature);
        Softmax.Forward(sharp, sharp);
        return ZeroTPrune.Importance(sharp, iterations);
    }

    /// <summary>
    /// Retained fraction of visual tokens per decoder layer: 1 for layers &lt; <paramref name="fullUntil"/> (l1), then
    /// linear down to 0 at layer <paramref name="zeroFrom"/> (l2) and after: 1 - (l - l1 + 1) / (l2 - l1 + 1)
    /// (Qwen2-7B release: l1 = 14, l2 = 21 gives 1 - (l - 13) * 0.125).
    /// </summary>
    public static double[] RetainSchedule(int layers, int fullUntil, int zeroFrom)
    {
        const string Op = "Aim.RetainSchedule";
        if (layers < 0) ThrowHelper.OutOfRange(Op, nameof(layers), layers, "must be >= 0");
        if (fullUntil < 0) ThrowHelper.OutOfRange(Op, nameof(fullUntil), fullUntil, "must be >= 0");
        if (zeroFrom < fullUntil) ThrowHelper.OutOfRange(Op, nameof(zeroFrom), zeroFrom, $"must be >= fullUntil = {fullUntil}");
        var s = new double[layers];
        for (int l = 0; l < layers; l++)
            s[l] = l < fullUntil ? 1 : Math.Max(0, 1 - (double)(l - fullUntil + 1) / (zeroFrom - fullUntil + 1));
        return s;
    }

    /// <summary>
    /// One pruning step: tokens kept after a layer with <paramref name="importance"/> F32 [B, N], given which tokens
    /// are text (<paramref name="isText"/>, always kept) and which are still present (<paramref name="active"/>);
    /// both U8 [B, N], nonzero = true. Keeps (visual tokens) * retain + text tokens by
    /// descending score, with text scored +1 and pruned tokens -1 as in the released code. Returns U8 [B, N].
    /// </summary>
    public static Tensor Prune(Tensor importance, Tensor isText, Tensor active, double retain)
    {
        const string Op = "Aim.Prune";
        Check.Live(Op, nameof(importance), importance);
        Check.DType(Op, nameof(importance), importance, DType.F32);
        Check.Rank(Op, nameof(importance), importance, 2, "[B, N]");
        Check.Operand(Op, nameof(isText), isText, importance, nameof(importance), DType.U8);
        Check.Shape(Op, nameof(isText), isText, importance.Shape, "same as importance", importance, nameof(importance));
        Check.Operand(Op, nameof(active), active, importance, nameof(importance), DType.U8);
        Check.Shape(Op, nameof(active), active, importance.Shape, "same as importance", importance, nameof(importance));
        if (!(retain >= 0 && retain <= 1)) ThrowHelper.OutOfRange(Op, nameof(retain), retain, "must be in [0, 1]");
        int batch = importance.Shape[0], n = importance.Shape[1];
        var score = HostIndex.Read<float>(importance);
        var text = HostIndex.Read<byte>(isText);
        var live = HostIndex.Read<byte>(active);
        var keepCount = new int[batch];
        int[] order = [];
        try
        {
            for (int b = 0; b < batch; b++)
            {
                int nText = 0;
                for (int t = 0; t < n; t++)
                {
                    int i = b * n + t;
                    if (text[i] != 0) { score[i] = 1f; nText++; }
                    else if (live[i] == 0) score[i] = -1f;
                }
                keepCount[b] = (int)((n - nText) * retain) + nText;
            }
            using (var s = HostIndex.Upload(score, importance.Shape, importance))
            using (var o = TopK.Argsort(s))
                order = HostIndex.Read<int>(o);
            Array.Clear(live, 0, batch * n);
            for (int b = 0; b < batch; b++)
                for (int i = 0; i < keepCount[b]; i++) live[b * n + order[b * n + i]] = 1;
            return HostIndex.Upload(live, importance.Shape, importance);
        }
        finally
        {
            HostIndex.Return(score);
            HostIndex.Return(text);
            HostIndex.Return(live);
            if (order.Length > 0) HostIndex.Return(order);
        }
    }
}
