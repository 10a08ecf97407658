// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Native;

using HpcCore.Models.KvCache;

/// <summary>
/// A KV-cache policy behind an hpc_kv_policy handle, run on caller-provided K/V: each batch row's tokens go into a
/// one-layer <see cref="PagedKvCache"/> (token t at position t) and the managed policy decides through its own hooks
/// (StreamingLLM, H2O and SnapKV evict in <see cref="KvPolicy.AfterPrefill"/>; TokenSelect selects in
/// <see cref="KvPolicy.Options"/>), so the C ABI runs exactly the decoder's code, not a restatement of it.
/// </summary>
internal sealed class NativeKvPolicy
{
    private const string Fn = "hpc_kv_policy_apply";
    private readonly Lock _gate = new();
    private PagedKvCache? _cache;

    private NativeKvPolicy(KvPolicyKind kind, KvPolicy policy)
    {
        Kind = kind;
        Policy = policy;
    }

    /// <summary>Which policy.</summary>
    public KvPolicyKind Kind { get; }

    /// <summary>The managed policy (its parameters, validated by its constructor).</summary>
    public KvPolicy Policy { get; }

    /// <summary>Builds the policy <paramref name="p"/> describes; names the first bad field.</summary>
    public static NativeKvPolicy Create(in KvPolicyParams p)
    {
        const string C = "hpc_kv_policy_create";
        Arg.Require(p.Reserved == 0, C, $"params.reserved is {p.Reserved}; it must be 0.");
        if (p.Budget < 1) throw new NativeException(HpcStatus.OutOfRange, $"{C}: params.budget is {p.Budget}; it must be at least 1.");
        var kind = (KvPolicyKind)p.Kind;
        KvPolicy policy = kind switch
        {
            KvPolicyKind.StreamingLlm => new StreamingLlmKvPolicy(p.Budget, NonNegative(p.Sinks, "sinks")),
            KvPolicyKind.H2O => new H2OKvPolicy(p.Budget, p.Recent < -1 ? throw OutOfRange("recent", p.Recent, "-1 (budget / 2) or at least 0") : p.Recent),
            KvPolicyKind.SnapKv => new SnapKvPolicy(p.Budget,
                p.Window >= 1 ? p.Window : throw OutOfRange("window", p.Window, "at least 1"),
                p.Kernel >= 1 && p.Kernel % 2 == 1 ? p.Kernel : throw OutOfRange("kernel", p.Kernel, "odd and at least 1")),
            KvPolicyKind.TokenSelect => new TokenSelectKvPolicy(p.Budget, NonNegative(p.Sinks, "sinks"), NonNegative(p.Local, "local")),
            _ => throw new NativeException(HpcStatus.InvalidArgument, $"{C}: params.kind is {p.Kind}; expected an hpc_kv_policy_kind (0..3)."),
        };
        return new NativeKvPolicy(kind, policy);

        static int NonNegative(int value, string field) => value >= 0 ? value : throw OutOfRange(field, value, "at least 0");
        static NativeException OutOfRange(string field, int value, string rule) =>
            new(HpcStatus.OutOfRange, $"{C}: params.{field} is {value}; it must be {rule}.");
    }

    /// <summary>Whether <see cref="Apply"/> needs attention scores [B, H, T] (H2O: totals; SnapKV: window votes).</summary>
    public bool NeedsScores => Kind is KvPolicyKind.H2O or KvPolicyKind.SnapKv;

    /// <summary>Whether <see cref="Apply"/> needs the decode query [B, 1, H, D] (TokenSelect's vote).</summary>
    public bool NeedsQuery => Kind is KvPolicyKind.TokenSelect;

    /// <summary>
    /// Runs the policy on keys and values [B, T, Hkv, D] with <paramref name="scores"/> [B, H, T] (or empty) and
    /// <paramref name="query"/> [B, H, D] (or empty); returns the kept count K per (row, kv head), the kept positions
    /// [B, Hkv, K] ascending, and the kept keys and values [B, K, Hkv, D]. Serialised: the policy and the cache hold
    /// per-call buffers.
    /// </summary>
    public (int Kept, int[] Indices, float[] Keys, float[] Values) Apply(ReadOnlySpan<float> keys, ReadOnlySpan<float> values,
        ReadOnlySpan<float> scores, ReadOnlySpan<float> query, int batch, int tokens, int heads, int kvHeads, int headDim)
    {
        lock (_gate)
        {
            var cache = Cache(kvHeads, headDim, tokens);
            int group = heads / kvHeads, kept = -1;
            int[] indices = [];
            float[] keptKeys = [], keptValues = [];
            var all = new int[tokens];
            for (int t = 0; t < tokens; t++) all[t] = t;
            for (int b = 0; b < batch; b++)
            {
                cache.Clear();
                Policy.Begin(cache, heads);
                for (int g = 0; g < kvHeads; g++)
                {
                    var head = cache.Head(0, g);
                    for (int t = 0; t < tokens; t++)
                    {
                        int at = ((b * tokens + t) * kvHeads + g) * headDim;
                        head.Append(keys.Slice(at, headDim), values.Slice(at, headDim), t);
                        // GQA: kv head g serves query heads g * group .. g * group + group - 1 (h / group = g, as the
                        // attention kernel maps them), so its score is theirs summed, as H2O and SnapKV accumulate it.
                        float sum = 0f;
                        for (int h = g * group; h < (g + 1) * group && !scores.IsEmpty; h++) sum += scores[(b * heads + h) * tokens + t];
                        head.Score(t) = sum;
                        head.WindowScore(t) = sum;
                    }
                }
                KvSelection? selection = null;
                if (Kind == KvPolicyKind.TokenSelect)
                    selection = Policy.Options(cache, 0, query.Slice(b * heads * headDim, heads * headDim), rows: 1,
                        firstPosition: tokens, promptLength: tokens).Selection;
                else
                    Policy.AfterPrefill(cache, tokens);
                for (int g = 0; g < kvHeads; g++)
                {
                    var head = cache.Head(0, g);
                    // Evicting policies left the kept tokens in the head (in arrival order); TokenSelect evicts nothing
                    // and names the tokens attention reads (ascending), or none when every token is read.
                    ReadOnlySpan<int> slots = selection is null ? all.AsSpan(0, head.Count) : selection.Indices(g);
                    if (kept < 0)
                    {
                        kept = slots.Length;
                        indices = new int[batch * kvHeads * kept];
                        keptKeys = new float[batch * kept * kvHeads * headDim];
                        keptValues = new float[keptKeys.Length];
                    }
                    if (slots.Length != kept)
                        throw new InvalidOperationException($"{Fn}: {Policy.Name} kept {slots.Length} tokens in kv head {g} of row {b} but {kept} elsewhere.");
                    for (int i = 0; i < kept; i++)
                    {
                        indices[(b * kvHeads + g) * kept + i] = head.Position(slots[i]);
                        int at = ((b * kept + i) * kvHeads + g) * headDim;
                        head.Key(slots[i]).CopyTo(keptKeys.AsSpan(at, headDim));
                        head.Value(slots[i]).CopyTo(keptValues.AsSpan(at, headDim));
                    }
                }
            }
            return (Math.Max(kept, 0), indices, keptKeys, keptValues);
        }
    }

    // One cache reused across calls while it is big enough (a new one when the shape changes).
    private PagedKvCache Cache(int kvHeads, int headDim, int tokens)
    {
        if (_cache is null || _cache.KvHeads != kvHeads || _cache.HeadDim != headDim || _cache.Head(0, 0).MaxTokens < tokens)
            _cache = new PagedKvCache(1, kvHeads, headDim, tokens);
        return _cache;
    }
}
