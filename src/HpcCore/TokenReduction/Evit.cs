// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// EViT (Liang et al., "Not All Patches are What You Need", ICLR 2022; methods.md 3.2): between the attention residual
// and the MLP of a drop block, keep the k patches with the highest [CLS] attention (mean over heads) in score order and
// fuse the rest into one token weighted by that attention. Output: [CLS, kept..., fused].
namespace HpcCore.TokenReduction;

using HpcCore.Diagnostics;
using HpcCore.Ops;
using HpcCore.Tensors;

/// <summary>EViT attentive-token keeping and inattentive-token fusion.</summary>
public static class Evit
{
    /// <summary>ceil(rho (N - 1)) kept patches for keep rate rho in (0, 1] (EViT's <c>math.ceil(keep_rate * (N - 1))</c>).</summary>
    public static int KeepCount(int patches, double keepRate)
    {
        if (patches < 0) ThrowHelper.OutOfRange("Evit.KeepCount", nameof(patches), patches, "must be >= 0");
        if (!(keepRate > 0 && keepRate <= 1)) ThrowHelper.OutOfRange("Evit.KeepCount", nameof(keepRate), keepRate, "must be in (0, 1]");
        return (int)Math.Ceiling(keepRate * patches);
    }

    /// <summary>
    /// Plans EViT's reorganisation from <paramref name="classAttention"/> F32 [B, P] (score of patch j = token j + 1:
    /// <see cref="AttentionScores.ClassRow"/>) keeping <paramref name="keep"/> patches. Output tokens: [CLS] (slot 0),
    /// the kept patches by descending score (ties: lower index), and one fused token when a patch is dropped and
    /// fusion is on.
    /// </summary>
    public static TokenPlan Plan(Tensor classAttention, int keep, in EvitOptions options = default)
    {
        int m = Validate(classAttention, keep, options);
        int batch = classAttention.Shape[0], n = classAttention.Shape[1] + 1;
        var backend = classAttention.Backend;
        var plan = new TokenPlan(
            Tensor.Empty(new Shape(batch, keep + 1), DType.I32, backend),
            Tensor.Empty(new Shape(batch, n), DType.I32, backend),
            Tensor.Empty(new Shape(batch, n), DType.F32, backend),
            m);
        try
        {
            Fill(plan, classAttention, keep, options);
            return plan;
        }
        catch
        {
            plan.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Plans again into <paramref name="destination"/>, a plan of the same batch, patch count, keep and fusion (the
    /// same drop layer on the next input), reusing its tensors: no allocation in steady state.
    /// </summary>
    public static void Plan(Tensor classAttention, int keep, TokenPlan destination, in EvitOptions options = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        int m = Validate(classAttention, keep, options);
        int batch = classAttention.Shape[0], n = classAttention.Shape[1] + 1;
        if (destination.Batch != batch || destination.InputTokens != n || destination.OutputTokens != m || destination.Kept.Shape[1] != keep + 1)
            ThrowHelper.Argument("Evit.Plan", nameof(destination),
                $"maps [{destination.Batch}, {destination.InputTokens}] tokens to {destination.OutputTokens}; this call maps [{batch}, {n}] to {m} (classAttention {classAttention.Shape}, keep {keep})");
        Fill(destination, classAttention, keep, options);
    }

    // Checks the arguments and returns the output token count.
    private static int Validate(Tensor classAttention, int keep, in EvitOptions options)
    {
        const string Op = "Evit.Plan";
        Check.Input(Op, nameof(classAttention), classAttention, DType.F32, 2, "[B, P]");
        int p = classAttention.Shape[1];
        if (keep < 0 || keep > p) ThrowHelper.OutOfRange(Op, nameof(keep), keep, $"must be in [0, P] (classAttention {classAttention.Shape})");
        if (!Enum.IsDefined(options.Fusion)) ThrowHelper.OutOfRange(Op, "options.Fusion", options.Fusion, "is not an EvitFusion value");
        return 1 + keep + (options.Fusion != EvitFusion.Drop && keep < p ? 1 : 0);
    }

    private static void Fill(TokenPlan plan, Tensor classAttention, int keep, in EvitOptions options)
    {
        int batch = classAttention.Shape[0], p = classAttention.Shape[1], n = p + 1, m = plan.OutputTokens;
        bool fuse = options.Fusion != EvitFusion.Drop && keep < p;
        var topT = HostIndex.Reuse(ref plan.TopIndices, new Shape(batch, keep), DType.I32, classAttention);
        TopK.Indices(classAttention, keep, topT);
        var top = HostIndex.Read<int>(topT);
        var a = HostIndex.Read<float>(classAttention);
        var kept = HostIndex.Rent<int>((long)batch * (keep + 1));
        var map = HostIndex.Rent<int>((long)batch * n);
        var w = HostIndex.Rent<float>((long)batch * n);
        try
        {
            for (int b = 0; b < batch; b++)
            {
                var row = map.AsSpan(b * n, n);
                var weight = w.AsSpan(b * n, n);
                row.Fill(-2);
                row[0] = 0;
                kept[b * (keep + 1)] = 0;
                for (int k = 0; k < keep; k++)
                {
                    int t = 1 + top[b * keep + k];
                    row[t] = 1 + k;
                    kept[b * (keep + 1) + 1 + k] = t;
                }
                double dropped = 0;
                for (int t = 1; t < n; t++)
                    if (row[t] == -2) dropped += a[b * p + t - 1];
                float scale = options.Fusion == EvitFusion.Average ? (dropped > 0 ? (float)(1 / dropped) : 0f) : 1f;
                for (int t = 0; t < n; t++)
                {
                    if (row[t] >= 0) { weight[t] = 1f; continue; }
                    row[t] = fuse ? m - 1 : -1;
                    weight[t] = fuse ? a[b * p + t - 1] * scale : 0f;
                }
            }
            HostIndex.Write(plan.Kept, kept);
            HostIndex.Write(plan.TokenMap, map);
            HostIndex.Write(plan.Weights, w);
        }
        finally
        {
            HostIndex.Return(top);
            HostIndex.Return(a);
            HostIndex.Return(kept);
            HostIndex.Return(map);
            HostIndex.Return(w);
        }
    }

    /// <summary>Applies a plan to x F32 [B, N, C]: returns [B, OutputTokens, C].</summary>
    public static Tensor Apply(TokenPlan plan, Tensor x)
    {
        ArgumentNullException.ThrowIfNull(plan);
        Check.Live("Evit.Apply", nameof(x), x);
        Check.Rank("Evit.Apply", nameof(x), x, 3, "[B, N, C]");
        var result = Tensor.Empty(new Shape(plan.Batch, plan.OutputTokens, x.Shape[2]), DType.F32, x.Backend);
        try
        {
            Apply(plan, x, result);
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    /// <summary>Applies a plan to x F32 [B, N, C] into <paramref name="destination"/> F32 [B, OutputTokens, C].</summary>
    public static void Apply(TokenPlan plan, Tensor x, Tensor destination)
    {
        const string Op = "Evit.Apply";
        ArgumentNullException.ThrowIfNull(plan);
        Check.Live(Op, nameof(x), x);
        Check.DType(Op, nameof(x), x, DType.F32);
        Check.Rank(Op, nameof(x), x, 3, "[B, N, C]");
        int c = x.Shape[2];
        Check.Shape(Op, nameof(x), x, new Shape(plan.Batch, plan.InputTokens, c), "[B, N, C] of the plan", plan.TokenMap, "plan.TokenMap");
        Check.Operand(Op, nameof(destination), destination, x, nameof(x), DType.F32);
        Check.Shape(Op, nameof(destination), destination, new Shape(plan.Batch, plan.OutputTokens, c), "[B, OutputTokens, C]", x, nameof(x));
        destination.Backend.Clear(destination.Storage, destination.ByteOffset, destination.ElementCount * sizeof(float));
        Scatter.Reduce(destination, plan.TokenMap, x, ScatterMode.Sum, plan.Weights);
    }
}
