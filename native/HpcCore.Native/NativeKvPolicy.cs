// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Native;

using HpcCore.Models.KvCache;

/// <summary>
/// A KV-cache policy behind an hpc_kv_policy handle, run on caller-provided K/V. Each call puts the caller's tokens
/// into a <see cref="PagedKvCache"/> whose "layers" are the batch rows (row b's token t at position t in layer b) and
/// the managed policy decides through the hooks the decoder calls: StreamingLLM, H2O, SnapKV and EMS evict in
/// <see cref="KvPolicy.AfterPrefill"/>; TokenSelect and Recycled select per decode query in
/// <see cref="KvPolicy.Options"/>, <see cref="PagedAttention.Forward"/> and <see cref="KvPolicy.AfterAttention"/>. So
/// the C ABI runs exactly the decoder's code, not a restatement of it. Policy state that the decoder keeps per layer
/// (TokenSelect's selection cache, Recycled's step counter and recycled set) is therefore kept per batch row from one
/// call to the next, while B, H, Hkv and D stay the same and T fits the cache (grown by doubling; a growth, a shape
/// change or <see cref="Reset"/> starts over).
/// </summary>
internal sealed class NativeKvPolicy
{
    private const string Fn = "hpc_kv_policy_apply";
    private readonly Lock _gate = new();
    private PagedKvCache? _cache;
    private int _heads;
    private float[] _attention = [];
    private float[] _scratch = [];

    private NativeKvPolicy(KvPolicyKind kind, KvPolicy policy)
    {
        Kind = kind;
        Policy = policy;
    }

    /// <summary>Which policy.</summary>
    public KvPolicyKind Kind { get; }

    /// <summary>The managed policy (its parameters, validated by its constructor).</summary>
    public KvPolicy Policy { get; }

    /// <summary>Whether <see cref="Apply"/> needs attention scores [B, H, T] (H2O: totals; SnapKV: window votes).</summary>
    public bool NeedsScores => Kind is KvPolicyKind.H2O or KvPolicyKind.SnapKv;

    /// <summary>Whether <see cref="Apply"/> needs both scores, [B, 2, H, T]: totals and the window's (EMS).</summary>
    public bool NeedsTwoScores => Kind is KvPolicyKind.Ems;

    /// <summary>Whether <see cref="Apply"/> needs the decode query [B, 1, H, D] (TokenSelect's vote, Recycled's attention).</summary>
    public bool NeedsQuery => Kind is KvPolicyKind.TokenSelect or KvPolicyKind.Recycled;

    /// <summary>
    /// The policy <paramref name="p"/> describes, for caller-provided K/V. RazorAttention is refused: it needs decoder
    /// state (<see cref="Build"/>).
    /// </summary>
    public static NativeKvPolicy Create(in KvPolicyParams p) => new((KvPolicyKind)p.Kind, Build(p, "hpc_kv_policy_create", retrievalHeads: null));

    /// <summary>
    /// Builds the managed policy <paramref name="p"/> describes (names the first bad field, as <paramref name="fn"/>).
    /// RazorAttention needs <paramref name="retrievalHeads"/>, the retrieval-head map probed on a model; without it
    /// (caller-provided K/V) it is <see cref="HpcStatus.Unsupported"/>.
    /// </summary>
    public static KvPolicy Build(in KvPolicyParams p, string fn, Func<bool[,]>? retrievalHeads)
    {
        Arg.Require(p.Reserved == 0, fn, $"params.reserved is {p.Reserved}; it must be 0.");
        if (p.Budget < 1) throw new NativeException(HpcStatus.OutOfRange, $"{fn}: params.budget is {p.Budget}; it must be at least 1.");
        try
        {
            return (KvPolicyKind)p.Kind switch
            {
                KvPolicyKind.StreamingLlm => new StreamingLlmKvPolicy(p.Budget, NonNegative(p.Sinks, "sinks")),
                KvPolicyKind.H2O => new H2OKvPolicy(p.Budget, p.Recent < -1 ? throw OutOfRange("recent", p.Recent, "-1 (budget / 2) or at least 0") : p.Recent),
                KvPolicyKind.SnapKv => new SnapKvPolicy(p.Budget, AtLeastOne(p.Window, "window"),
                    p.Kernel >= 1 && p.Kernel % 2 == 1 ? p.Kernel : throw OutOfRange("kernel", p.Kernel, "odd and at least 1")),
                KvPolicyKind.TokenSelect => new TokenSelectKvPolicy(p.Budget, NonNegative(p.Sinks, "sinks"), NonNegative(p.Local, "local")),
                KvPolicyKind.Full => new FullKvPolicy(),
                KvPolicyKind.Recycled => new RecycledKvPolicy(p.Budget, AtLeastOne(p.Stride, "stride")),
                KvPolicyKind.RazorAttention => retrievalHeads is null
                    ? throw new NativeException(HpcStatus.Unsupported, $"{fn}: RazorAttention (params.kind {p.Kind}) needs decoder state: the " +
                        "retrieval heads probed on the model and the compensation token its attention reads; use it in hpc_lm_generate.")
                    : new RazorAttentionKvPolicy(retrievalHeads(), p.Ratio >= 1f ? p.Ratio : throw new NativeException(HpcStatus.OutOfRange,
                        $"{fn}: params.ratio is {p.Ratio}; it must be at least 1."), bufferFloor: p.Budget, NonNegative(p.Sinks, "sinks")),
                // -1: the CLI's split (KvPolicies.Create), at most 16 newest tokens and a quarter of the budget.
                KvPolicyKind.Ems => new EmsKvPolicy(p.Budget, AtLeastOne(p.Window, "window"), NonNegative(p.Sinks, "sinks"),
                    p.Recent == -1 ? Math.Min(16, p.Budget / 4) : NonNegative(p.Recent, "recent")),
                _ => throw new NativeException(HpcStatus.InvalidArgument, $"{fn}: params.kind is {p.Kind}; expected an hpc_kv_policy_kind (0..7)."),
            };
        }
        catch (ArgumentOutOfRangeException e)
        {
            // The managed constructors' own checks (e.g. StreamingLLM's budget > sinks): name the entry point too.
            throw new NativeException(HpcStatus.OutOfRange, $"{fn}: {e.Message}");
        }

        int NonNegative(int value, string field) => value >= 0 ? value : throw OutOfRange(field, value, "at least 0");
        int AtLeastOne(int value, string field) => value >= 1 ? value : throw OutOfRange(field, value, "at least 1");
        NativeException OutOfRange(string field, int value, string rule) => new(HpcStatus.OutOfRange, $"{fn}: params.{field} is {value}; it must be {rule}.");
    }

    /// <summary>Forgets the state carried between calls (a new sequence).</summary>
    public void Reset()
    {
        lock (_gate) _cache = null;
    }

    /// <summary>
    /// Runs the policy on keys and values [B, T, Hkv, D] with <paramref name="scores"/> [B, H, T] or [B, 2, H, T]
    /// (or empty) and <paramref name="query"/> [B, H, D] (or empty); returns the kept count K per (row, kv head), the
    /// kept positions [B, Hkv, K] ascending, and the kept keys and values [B, K, Hkv, D]. Serialised: the policy and
    /// the cache hold per-call buffers and the state carried between calls.
    /// </summary>
    public (int Kept, int[] Indices, float[] Keys, float[] Values) Apply(ReadOnlySpan<float> keys, ReadOnlySpan<float> values,
        ReadOnlySpan<float> scores, ReadOnlySpan<float> query, int batch, int tokens, int heads, int kvHeads, int headDim)
    {
        lock (_gate)
        {
            var cache = Cache(batch, kvHeads, headDim, heads, tokens);
            cache.Clear();
            Fill(cache, keys, values, scores, batch, tokens, heads);
            var result = new Output(batch, kvHeads, headDim);
            if (NeedsQuery)
            {
                for (int b = 0; b < batch; b++)
                {
                    // A decode step as the decoder runs it: the query's own K/V are the last token (appended before
                    // attending), so it sees every token; Recycled reads the probabilities this attention captures.
                    var q = query.Slice(b * heads * headDim, heads * headDim);
                    var options = Policy.Options(cache, b, q, rows: 1, firstPosition: tokens - 1, promptLength: tokens);
                    PagedAttention.Forward(cache, b, q, _attention, 1, heads, tokens - 1, _scratch, options);
                    Policy.AfterAttention(cache, b, 1);
                    result.Add(cache, b, options.Selection);
                }
            }
            else
            {
                Policy.AfterPrefill(cache, tokens);
                for (int b = 0; b < batch; b++) result.Add(cache, b, null);
            }
            return (Math.Max(result.Kept, 0), result.Indices, result.Keys, result.Values);
        }
    }

    // Row b's tokens into layer b. GQA: kv head g serves query heads g * group .. g * group + group - 1 (h / group = g,
    // as the attention kernel maps them), so its scores are theirs summed, as PagedAttention accumulates them; Seen
    // counts the queries of a causal prefill that attended token t (T - t per query head), as EMS's global score wants.
    private void Fill(PagedKvCache cache, ReadOnlySpan<float> keys, ReadOnlySpan<float> values, ReadOnlySpan<float> scores,
        int batch, int tokens, int heads)
    {
        int kvHeads = cache.KvHeads, headDim = cache.HeadDim, group = heads / kvHeads;
        bool two = NeedsTwoScores;
        for (int b = 0; b < batch; b++)
        for (int g = 0; g < kvHeads; g++)
        {
            var head = cache.Head(b, g);
            for (int t = 0; t < tokens; t++)
            {
                int at = ((b * tokens + t) * kvHeads + g) * headDim;
                head.Append(keys.Slice(at, headDim), values.Slice(at, headDim), t);
                float total = 0f, window = 0f;
                for (int h = g * group; h < (g + 1) * group && !scores.IsEmpty; h++)
                {
                    total += scores[((two ? 2 * b : b) * heads + h) * tokens + t];
                    window += scores[((two ? 2 * b + 1 : b) * heads + h) * tokens + t];
                }
                head.Score(t) = total;
                head.WindowScore(t) = window;
                head.Seen(t) = group * (tokens - t);
            }
        }
    }

    // One cache (and the policy's buffers, sized by Begin) reused while the shape stays and T fits: the state the policy
    // carries between calls lives there. Capacity doubles so that a sequence growing by one token per call rarely
    // starts over.
    private PagedKvCache Cache(int batch, int kvHeads, int headDim, int heads, int tokens)
    {
        if (_cache is null || _cache.Layers != batch || _cache.KvHeads != kvHeads || _cache.HeadDim != headDim || _heads != heads ||
            _cache.Head(0, 0).MaxTokens < tokens)
        {
            int capacity = Math.Max(2 * tokens, 64);
            _cache = new PagedKvCache(batch, kvHeads, headDim, capacity);
            _heads = heads;
            _attention = new float[heads * headDim];
            // A group of H / Hkv query heads is scored together: scratch for each of them (ScratchLength covers all H).
            _scratch = new float[PagedAttention.ScratchLength(heads, _cache.Head(0, 0).MaxTokens)];
            Policy.Begin(_cache, heads);
        }
        return _cache;
    }

    /// <summary>The kept positions and compacted K/V of every row, gathered row by row.</summary>
    private sealed class Output(int batch, int kvHeads, int headDim)
    {
        public int Kept { get; private set; } = -1;
        public int[] Indices { get; private set; } = [];
        public float[] Keys { get; private set; } = [];
        public float[] Values { get; private set; } = [];

        /// <summary>
        /// Row <paramref name="b"/> (layer b of <paramref name="cache"/>): evicting policies left the kept tokens in the
        /// heads (in arrival order); selecting ones name the tokens attention reads (ascending), or none when every token
        /// is read.
        /// </summary>
        public void Add(PagedKvCache cache, int b, KvSelection? selection)
        {
            for (int g = 0; g < kvHeads; g++)
            {
                var head = cache.Head(b, g);
                int count = selection is null ? head.Count : selection.Indices(g).Length;
                if (Kept < 0)
                {
                    Kept = count;
                    Indices = new int[batch * kvHeads * Kept];
                    Keys = new float[batch * Kept * kvHeads * headDim];
                    Values = new float[Keys.Length];
                }
                if (count != Kept)
                    throw new InvalidOperationException($"{Fn}: the policy kept {count} tokens in kv head {g} of row {b} but {Kept} elsewhere.");
                for (int i = 0; i < Kept; i++)
                {
                    int slot = selection is null ? i : selection.Indices(g)[i];
                    Indices[(b * kvHeads + g) * Kept + i] = head.Position(slot);
                    int at = ((b * Kept + i) * kvHeads + g) * headDim;
                    head.Key(slot).CopyTo(Keys.AsSpan(at, headDim));
                    head.Value(slot).CopyTo(Values.AsSpan(at, headDim));
                }
            }
        }
    }
}
