// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// ToMe: bipartite soft matching (Bolya et al., "Token Merging: Your ViT But Faster", ICLR 2023; methods.md 3.1).
// Inside a block: x = x + Attn(LN(x)); plan = ToMe.Plan(keyMeans, r); (x, size) = ToMe.Merge(plan, x, size);
// x = x + MLP(LN(x)); later blocks pass ToMe.LogSize(size) as AttentionOptions.KeyBias (proportional attention).
namespace HpcCore.TokenReduction;

using HpcCore.Diagnostics;
using HpcCore.Ops;
using HpcCore.Tensors;

/// <summary>ToMe token merging: plan (matching), weighted merge, unmerge, source tracking, proportional attention.</summary>
public static class ToMe
{
    /// <summary>
    /// The r ToMe applies to <paramref name="tokens"/> tokens: min(r, (N - protected) / 2), and 0 when the only B token
    /// is a protected distillation token (no merge destination).
    /// </summary>
    public static int EffectiveR(int tokens, int r, in ToMeOptions options = default)
    {
        int eff = Math.Max(0, Math.Min(r, (tokens - options.Protected) / 2));
        return tokens / 2 - (options.DistillationToken ? 1 : 0) > 0 ? eff : 0;
    }

    /// <summary>
    /// ToMe's metric from a block's keys k F32 [B, T, Hkv, D] (the attention operand layout): the mean over the kv heads,
    /// F32 [B, T, D] (<c>k.mean(1)</c> in ToMe's [B, H, T, D] layout). Strided views (a slice of a packed QKV projection)
    /// are copied first. When the block's attention runs through <c>Attention.Forward</c>, pass
    /// <see cref="AttentionOptions.KeyMeans"/> to it instead and plan on that export (the same values, computed while
    /// the kernel stages K); this method is for keys whose attention ran elsewhere.
    /// </summary>
    public static Tensor KeyMetric(Tensor keys)
    {
        Check.Live("ToMe.KeyMetric", nameof(keys), keys);
        Check.Rank("ToMe.KeyMetric", nameof(keys), keys, 4, "[B, T, Hkv, D]");
        using var dense = keys.Contiguous();
        return Reductions.Mean(dense, 2);
    }

    /// <summary>
    /// Bipartite soft matching on <paramref name="metric"/> F32 [B, N, d] (the block's keys averaged over heads:
    /// <see cref="AttentionOptions.KeyMeans"/>): A = even positions, B = odd positions; each A token's best cosine
    /// partner in B; the r A tokens with the most similar partners merge into them. Ties go to the lower index.
    /// <paramref name="r"/> beyond the limit is clamped (<see cref="MergePlan.R"/> reports the value applied).
    /// </summary>
    public static MergePlan Plan(Tensor metric, int r, in ToMeOptions options = default)
    {
        var (batch, n, eff) = ValidatePlan(metric, r, options);
        var plan = new MergePlan(
            Tensor.Empty(new Shape(batch, n), DType.I32, metric.Backend),
            Tensor.Empty(new Shape(batch, eff), DType.I32, metric.Backend),
            Tensor.Empty(new Shape(batch, eff), DType.I32, metric.Backend),
            r, eff);
        try
        {
            Fill(plan, metric, eff, options);
            return plan;
        }
        catch
        {
            plan.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Plans again into <paramref name="destination"/>, a plan of the same batch, token count and effective r (a later
    /// layer or image of the same shape), reusing its tensors and scratch: no allocation in steady state.
    /// </summary>
    public static void Plan(Tensor metric, int r, MergePlan destination, in ToMeOptions options = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var (batch, n, eff) = ValidatePlan(metric, r, options);
        if (destination.Batch != batch || destination.InputTokens != n || destination.R != eff)
            ThrowHelper.Argument("ToMe.Plan", nameof(destination),
                $"maps [{destination.Batch}, {destination.InputTokens}] tokens with R = {destination.R}; this call needs [{batch}, {n}] with R = {eff} (metric {metric.Shape})");
        destination.RequestedR = r;
        Fill(destination, metric, eff, options);
    }

    private static (int Batch, int N, int R) ValidatePlan(Tensor metric, int r, in ToMeOptions options)
    {
        const string Op = "ToMe.Plan";
        Check.Input(Op, nameof(metric), metric, DType.F32, 3, "[B, N, d]");
        if (r < 0) ThrowHelper.OutOfRange(Op, nameof(r), r, "must be >= 0");
        int n = metric.Shape[1];
        if (options.DistillationToken && n < 2)
            ThrowHelper.Argument(Op, nameof(metric), $"has shape {metric.Shape}; a distillation token needs N >= 2");
        return (metric.Shape[0], n, EffectiveR(n, r, options));
    }

    private static void Fill(MergePlan plan, Tensor metric, int r, in ToMeOptions options)
    {
        int batch = metric.Shape[0], n = metric.Shape[1], d = metric.Shape[2];
        int na = (n + 1) / 2, nb = n / 2, m = n - r;
        var map = HostIndex.Rent<int>((long)batch * n);
        try
        {
            if (r == 0)
            {
                for (int b = 0; b < batch; b++)
                    for (int t = 0; t < n; t++) map[b * n + t] = t;
                HostIndex.Write(plan.TokenMap, map);
                return;
            }

            // Steps 1-4: split by position parity (gathers), best cosine partner of every A token among B's columns.
            var even = PositionIndex(ref plan.EvenIndex, batch, na, 0, metric);
            var odd = PositionIndex(ref plan.OddIndex, batch, nb, 1, metric);
            var a = HostIndex.Reuse(ref plan.EvenRows, new Shape(batch, na, d), DType.F32, metric);
            var bs = HostIndex.Reuse(ref plan.OddRows, new Shape(batch, nb, d), DType.F32, metric);
            var best = HostIndex.Reuse(ref plan.BestScore, new Shape(batch, na), DType.F32, metric);
            var partnerT = HostIndex.Reuse(ref plan.BestPartner, new Shape(batch, na), DType.I32, metric);
            var order = HostIndex.Reuse(ref plan.Order, new Shape(batch, na), DType.I32, metric);
            Gather.Rows(metric, even, a);
            Gather.Rows(metric, odd, bs);
            int firstColumn = options.DistillationToken ? 1 : 0;
            Similarity.BestMatch(a, bs, best, partnerT, firstColumn);

            // Step 3: the [CLS] token's row is NaN, which ranks below every number (-inf included: an A token whose
            // similarities are all NaN scores -inf), so it sorts last and is never merged.
            if (options.ClassToken)
            {
                var score = HostIndex.Read<float>(best);
                for (int b = 0; b < batch; b++) score[b * na] = float.NaN;
                HostIndex.Write(best, score);
                HostIndex.Return(score);
            }

            // Step 5: A tokens by best score, descending (stable: ties keep the lower index first).
            TopK.Argsort(best, order);
            var edge = HostIndex.Read<int>(order);
            var partner = HostIndex.Read<int>(partnerT);
            var src = HostIndex.Rent<int>((long)batch * r);
            var dst = HostIndex.Rent<int>((long)batch * r);
            var kept = HostIndex.Rent<int>(m);
            try
            {
                for (int b = 0; b < batch; b++)
                {
                    var e = edge.AsSpan(b * na, na);
                    var unm = e[r..];
                    if (options.ClassToken) unm.Sort();
                    BuildOrder(unm, nb, options, kept.AsSpan(0, m));
                    var row = map.AsSpan(b * n, n);
                    for (int o = 0; o < m; o++) row[kept[o]] = o;
                    for (int k = 0; k < r; k++)
                    {
                        // An A token whose similarities are all NaN (a NaN metric) has no best partner (-1): every
                        // partner ties, and ties go to the lowest allowed B column (issue #21: this indexed row[-1]).
                        int p = partner[b * na + e[k]];
                        int s = 2 * e[k], t = 2 * (p >= 0 ? p : firstColumn) + 1;
                        row[s] = row[t];
                        src[b * r + k] = s;
                        dst[b * r + k] = t;
                    }
                }
                HostIndex.Write(plan.TokenMap, map);
                HostIndex.Write(plan.Sources, src);
                HostIndex.Write(plan.Destinations, dst);
            }
            finally
            {
                HostIndex.Return(edge);
                HostIndex.Return(partner);
                HostIndex.Return(src);
                HostIndex.Return(dst);
                HostIndex.Return(kept);
            }
        }
        finally
        {
            HostIndex.Return(map);
        }
    }

    // Positions 2i + parity for every batch row, written once per plan shape.
    private static Tensor PositionIndex(ref Tensor? slot, int batch, int count, int parity, Tensor like)
    {
        var before = slot;
        var t = HostIndex.Reuse(ref slot, new Shape(batch, count), DType.I32, like);
        if (ReferenceEquals(t, before)) return t;
        var idx = HostIndex.Rent<int>((long)batch * count);
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < count; i++) idx[b * count + i] = 2 * i + parity;
        HostIndex.Write(t, idx);
        HostIndex.Return(idx);
        return t;
    }

    // Step 6's concatenation as positions: ToMe's [unmerged A..., B...], with the distillation token second
    // ([A0, B0, A1.., B1..]) as in the released code; or all kept tokens by position.
    private static void BuildOrder(ReadOnlySpan<int> unmerged, int nb, in ToMeOptions options, Span<int> kept)
    {
        int o = 0;
        if (options.DistillationToken)
        {
            kept[o++] = 2 * unmerged[0];
            kept[o++] = 1;
            for (int i = 1; i < unmerged.Length; i++) kept[o++] = 2 * unmerged[i];
            for (int j = 1; j < nb; j++) kept[o++] = 2 * j + 1;
        }
        else
        {
            foreach (int a in unmerged) kept[o++] = 2 * a;
            for (int j = 0; j < nb; j++) kept[o++] = 2 * j + 1;
        }
        if (options.PreserveOrder) kept.Sort();
    }

    /// <summary>
    /// Size-weighted average merge (ToMe's <c>merge_wavg</c>): output token m = sum of s_n x_n over its inputs divided by
    /// their summed size. x F32 [B, N, C]; size F32 [B, N] or null (all ones: AIM's plain mean). Returns the merged
    /// tokens [B, N - R, C] and their sizes [B, N - R].
    /// </summary>
    public static (Tensor X, Tensor Size) Merge(MergePlan plan, Tensor x, Tensor? size)
    {
        ArgumentNullException.ThrowIfNull(plan);
        Check.Live("ToMe.Merge", nameof(x), x);
        int batch = plan.Batch, m = plan.OutputTokens, c = x.Rank == 3 ? x.Shape[2] : 0;
        var merged = Tensor.Empty(new Shape(batch, m, c), DType.F32, x.Backend);
        Tensor? sizes = null;
        try
        {
            sizes = Tensor.Empty(new Shape(batch, m), DType.F32, x.Backend);
            Merge(plan, x, size, merged, sizes);
            return (merged, sizes);
        }
        catch
        {
            merged.Dispose();
            sizes?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// <see cref="Merge(MergePlan, Tensor, Tensor?)"/> into <paramref name="destination"/> F32 [B, N - R, C] and
    /// <paramref name="sizeDestination"/> F32 [B, N - R].
    /// </summary>
    public static void Merge(MergePlan plan, Tensor x, Tensor? size, Tensor destination, Tensor sizeDestination)
    {
        const string Op = "ToMe.Merge";
        ArgumentNullException.ThrowIfNull(plan);
        Check.Live(Op, nameof(x), x);
        Check.DType(Op, nameof(x), x, DType.F32);
        Check.Rank(Op, nameof(x), x, 3, "[B, N, C]");
        int batch = plan.Batch, n = plan.InputTokens, m = plan.OutputTokens, c = x.Shape[2];
        Check.Shape(Op, nameof(x), x, new Shape(batch, n, c), "[B, N, C] of the plan", plan.TokenMap, "plan.TokenMap");
        if (size is not null)
        {
            Check.Operand(Op, nameof(size), size, x, nameof(x), DType.F32);
            Check.Shape(Op, nameof(size), size, new Shape(batch, n), "[B, N] of the plan", plan.TokenMap, "plan.TokenMap");
        }
        Check.Operand(Op, nameof(destination), destination, x, nameof(x), DType.F32);
        Check.Shape(Op, nameof(destination), destination, new Shape(batch, m, c), "[B, N - R, C]", x, nameof(x));
        Check.Operand(Op, nameof(sizeDestination), sizeDestination, x, nameof(x), DType.F32);
        Check.Shape(Op, nameof(sizeDestination), sizeDestination, new Shape(batch, m), "[B, N - R]", x, nameof(x));

        // Weights s_n / S_m make one scatter-add produce the weighted average (no division pass over [B, M, C]).
        var map = HostIndex.Read<int>(plan.TokenMap);
        var s = size is null ? null : HostIndex.Read<float>(size);
        var total = HostIndex.Rent<float>((long)batch * m);
        var w = HostIndex.Rent<float>((long)batch * n);
        try
        {
            for (int b = 0; b < batch; b++)
            {
                var tot = total.AsSpan(b * m, m);
                tot.Clear();
                for (int t = 0; t < n; t++) tot[map[b * n + t]] += s?[b * n + t] ?? 1f;
                for (int t = 0; t < n; t++) w[b * n + t] = (s?[b * n + t] ?? 1f) / tot[map[b * n + t]];
            }
            HostIndex.Write(sizeDestination, total);
            var weights = HostIndex.Reuse(ref plan.MergeWeights, new Shape(batch, n), DType.F32, x);
            HostIndex.Write(weights, w);
            destination.Backend.Clear(destination.Storage, destination.ByteOffset, destination.ElementCount * sizeof(float));
            Scatter.Reduce(destination, plan.TokenMap, x, ScatterMode.Sum, weights);
        }
        finally
        {
            HostIndex.Return(map);
            if (s is not null) HostIndex.Return(s);
            HostIndex.Return(total);
            HostIndex.Return(w);
        }
    }

    /// <summary>
    /// Unmerge for dense outputs: every input token gets a copy of the output token it was merged into.
    /// merged F32 [B, N - R, C] -> [B, N, C].
    /// </summary>
    public static Tensor Unmerge(MergePlan plan, Tensor merged)
    {
        ArgumentNullException.ThrowIfNull(plan);
        CheckMerged("ToMe.Unmerge", plan, merged);
        return Gather.Rows(merged, plan.TokenMap);
    }

    /// <summary>Unmerge into <paramref name="destination"/> F32 [B, N, C].</summary>
    public static void Unmerge(MergePlan plan, Tensor merged, Tensor destination)
    {
        ArgumentNullException.ThrowIfNull(plan);
        CheckMerged("ToMe.Unmerge", plan, merged);
        Gather.Rows(merged, plan.TokenMap, destination);
    }

    private static void CheckMerged(string op, MergePlan plan, Tensor merged)
    {
        Check.Live(op, nameof(merged), merged);
        Check.Rank(op, nameof(merged), merged, 3, "[B, N - R, C]");
        if (merged.Shape[0] != plan.Batch || merged.Shape[1] != plan.OutputTokens)
            ThrowHelper.Argument(op, nameof(merged), $"has shape {merged.Shape}; the plan maps [{plan.Batch}, {plan.InputTokens}] tokens to {plan.OutputTokens}");
    }

    /// <summary>
    /// Source tracking for visualisation: <paramref name="sources"/> I32 [B, N0] maps each original token to a token of
    /// this plan's input (null: the identity, N0 = N); returns I32 [B, N0] mapping each original token to an output token.
    /// Chain it across layers (ToMe's one-hot source matrix, stored as indices).
    /// </summary>
    public static Tensor TrackSources(MergePlan plan, Tensor? sources)
    {
        const string Op = "ToMe.TrackSources";
        ArgumentNullException.ThrowIfNull(plan);
        int batch = plan.Batch, n = plan.InputTokens;
        if (sources is null)
        {
            var copy = Tensor.Empty(plan.TokenMap.Shape, DType.I32, plan.TokenMap.Backend);
            plan.TokenMap.CopyTo(copy);
            return copy;
        }
        Check.Live(Op, nameof(sources), sources);
        Check.DType(Op, nameof(sources), sources, DType.I32);
        Check.Rank(Op, nameof(sources), sources, 2, "[B, N0]");
        if (sources.Shape[0] != batch) ThrowHelper.Argument(Op, nameof(sources), $"has shape {sources.Shape}; the plan's batch is {batch}");
        int n0 = sources.Shape[1];
        var map = HostIndex.Read<int>(plan.TokenMap);
        var src = HostIndex.Read<int>(sources);
        try
        {
            for (int b = 0; b < batch; b++)
                for (int o = 0; o < n0; o++)
                {
                    int t = src[b * n0 + o];
                    if ((uint)t >= (uint)n)
                        ThrowHelper.Argument(Op, nameof(sources), $"[{b}, {o}] = {t} is outside the plan's {n} input tokens");
                    src[b * n0 + o] = map[b * n + t];
                }
            return HostIndex.Upload(src, sources.Shape, sources);
        }
        finally
        {
            HostIndex.Return(map);
            HostIndex.Return(src);
        }
    }

    /// <summary>
    /// Proportional attention's key bias: log(size) F32 [B, N] for <see cref="AttentionOptions.KeyBias"/>, so that a
    /// token standing for s merged tokens counts s times in the softmax (ToMe, section 3).
    /// </summary>
    public static Tensor LogSize(Tensor size)
    {
        Check.Live("ToMe.LogSize", nameof(size), size);
        var result = Tensor.Empty(size.Shape, DType.F32, size.Backend);
        try
        {
            LogSize(size, result);
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    /// <summary>log(size) into <paramref name="destination"/> (same shape as size).</summary>
    public static void LogSize(Tensor size, Tensor destination)
    {
        const string Op = "ToMe.LogSize";
        Check.Operand(Op, nameof(size), size, size, nameof(size), DType.F32);
        Check.Operand(Op, nameof(destination), destination, size, nameof(size), DType.F32);
        Check.Shape(Op, nameof(destination), destination, size.Shape, "same as size", size, nameof(size));
        var s = HostIndex.Read<float>(size);
        try
        {
            for (long i = 0; i < size.ElementCount; i++) s[i] = MathF.Log(s[i]);
            destination.CopyFrom<float>(s.AsSpan(0, (int)size.ElementCount));
        }
        finally
        {
            HostIndex.Return(s);
        }
    }
}
