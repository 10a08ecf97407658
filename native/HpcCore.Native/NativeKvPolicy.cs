// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Native;

using HpcCore.Models.KvCache;
using HpcCore.Tensors;

/// <summary>
/// A KV-cache policy behind an hpc_kv_policy handle, run on caller-provided K/V. Each call puts the caller's tokens
/// into a <see cref="PagedKvCache"/> whose "layers" are the batch rows (row b's token t at position t in layer b),
/// hands the caller's scores to the policy as the attention op's exports (<see cref="KvPolicy.Observe"/>), and lets
/// the managed policy decide through the hooks the decoder calls: StreamingLLM, H2O, SnapKV and EMS evict in
/// <see cref="KvPolicy.AfterPrefill"/> (applied by <see cref="PagedKvCache.Apply"/>); TokenSelect and Recycled select
/// per decode query through <see cref="KvLayerAttention"/>, the decoder's own attention runner. So the C ABI runs the
/// decoder's code and the registry's policies, not a restatement. Policy state the decoder keeps per layer (TokenSelect's
/// selection cache, Recycled's step counter and recycled set) is kept per batch row from one call to the next while B,
/// H, Hkv and D stay the same and T fits the cache (grown by doubling; a growth, a shape change or <see cref="Reset"/>
/// starts over). Caller keys carry whatever positions the caller gave them, so TokenSelect scores q.k as given
/// (positions 'original').
/// </summary>
internal sealed class NativeKvPolicy : IDisposable
{
    private const string Fn = "hpc_kv_policy_apply";
    private readonly Lock _gate = new();
    private PagedKvCache? _cache;
    private KvLayerAttention? _runner;
    private KvDecisions? _decisions;
    private Tensor? _query;
    private Tensor? _output;
    private int _heads;

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
    public static NativeKvPolicy Create(in KvPolicyParams p)
    {
        var policy = Build(p, "hpc_kv_policy_create", retrievalHeads: null);
        policy.Positions = KvPositionMode.Original;
        return new((KvPolicyKind)p.Kind, policy);
    }

    /// <summary>
    /// Builds the managed policy <paramref name="p"/> describes (names the first bad field, as <paramref name="fn"/>).
    /// RazorAttention needs <paramref name="retrievalHeads"/>, the retrieval-head map probed on a model; without it
    /// (caller-provided K/V) it is <see cref="HpcStatus.Unsupported"/>.
    /// </summary>
    public static KvPolicy Build(in KvPolicyParams p, string fn, Func<bool[,]>? retrievalHeads)
    {
        Arg.Require(p.Reserved == 0, fn, $"params.reserved is {p.Reserved}; it must be 0.");
        if (p.Budget < 1) throw new NativeException(HpcStatus.OutOfRange, $"{fn}: params.budget is {p.Budget}; it must be at least 1.");
        // The registry builds every policy (one set of defaults); the C struct's fields are explicit values, -1 where
        // hpccore.h says "default".
        string name = (KvPolicyKind)p.Kind switch
        {
            KvPolicyKind.StreamingLlm => "streaming",
            KvPolicyKind.H2O => "h2o",
            KvPolicyKind.SnapKv => "snapkv",
            KvPolicyKind.TokenSelect => "tokenselect",
            KvPolicyKind.Full => "full",
            KvPolicyKind.Recycled => "recycled",
            KvPolicyKind.RazorAttention => "razor",
            KvPolicyKind.Ems => "ems",
            _ => throw new NativeException(HpcStatus.InvalidArgument, $"{fn}: params.kind is {p.Kind}; expected an hpc_kv_policy_kind (0..7)."),
        };
        if ((KvPolicyKind)p.Kind == KvPolicyKind.RazorAttention && retrievalHeads is null)
            throw new NativeException(HpcStatus.Unsupported, $"{fn}: RazorAttention (params.kind {p.Kind}) needs decoder state: the " +
                "retrieval heads probed on the model and the compensation token its attention reads; use it in hpc_lm_generate.");
        if (p.Recent < -1) throw OutOfRange("recent", p.Recent, "-1 (the default) or at least 0");
        if (p.Pool is not (0 or 1)) throw OutOfRange("pool", p.Pool, "0 (average) or 1 (max)");
        if (!(p.Ratio >= 1f)) throw new NativeException(HpcStatus.OutOfRange, $"{fn}: params.ratio is {p.Ratio}; it must be at least 1.");
        var settings = new KvPolicySettings
        {
            Budget = p.Budget,
            Sinks = NonNegative(p.Sinks, "sinks"),
            Recent = p.Recent == -1 ? null : p.Recent,
            Window = AtLeastOne(p.Window, "window"),
            Kernel = p.Kernel >= 1 && p.Kernel % 2 == 1 ? p.Kernel : throw OutOfRange("kernel", p.Kernel, "odd and at least 1"),
            Pooling = p.Pool == 1 ? SnapKvPooling.Max : SnapKvPooling.Average,
            Local = NonNegative(p.Local, "local"),
            Stride = AtLeastOne(p.Stride, "stride"),
            Ratio = p.Ratio,
            BufferFloor = p.Budget,
            RetrievalHeads = retrievalHeads?.Invoke(),
        };
        try
        {
            return KvPolicyRegistry.Create(name, settings);
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

    /// <summary>Frees the cache and its buffers (hpc_kv_policy_free).</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _runner?.Dispose();
            _cache?.Dispose();
            _query?.Dispose();
            _output?.Dispose();
            _cache = null;
        }
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
            var view = cache.Sequence(0);
            cache.Clear();
            Fill(cache, keys, values, batch, tokens, heads);
            var result = new Output(batch, kvHeads, headDim);
            if (NeedsQuery)
            {
                for (int b = 0; b < batch; b++)
                {
                    // A decode step as the decoder runs it: the query's own K/V are the last token (appended before
                    // attending), so it sees every token; Recycled reads the probabilities this attention exports.
                    _query!.CopyFrom(query.Slice(b * heads * headDim, heads * headDim));
                    _runner!.Run(0, b, _query, _output!, Policy, firstPosition: tokens - 1, promptLength: tokens - 1, KvPositionMode.Original, default);
                    result.Add(cache, b, _runner.LastSelection);
                }
            }
            else
            {
                // Evicting policies carry nothing between calls: their statistics (now the policy's own, no longer the
                // cache pages' that Clear reset) start over with this call's scores.
                Policy.Begin(view, heads);
                for (int b = 0; b < batch; b++)
                {
                    // The caller's scores stand for the attention op's exports of a causal prefill of row b.
                    var step = new KvStep(b, tokens, 0, tokens, heads, default);
                    Policy.Observe(view, step, Scores(scores, b, heads, tokens));
                }
                Policy.AfterPrefill(view, tokens, _decisions!);
                cache.Apply(0, _decisions!);
                for (int b = 0; b < batch; b++) result.Add(cache, b, null);
            }
            return (Math.Max(result.Kept, 0), result.Indices, result.Keys, result.Values);
        }
    }

    // H2O's totals and SnapKV's window votes are the one score tensor [B, H, T]; EMS has both, [B, 2, H, T].
    private KvExports Scores(ReadOnlySpan<float> scores, int b, int heads, int tokens)
    {
        if (scores.IsEmpty) return new KvExports(default, default, default, tokens);
        int n = heads * tokens;
        return NeedsTwoScores
            ? new KvExports(scores.Slice(2 * b * n, n), scores.Slice((2 * b + 1) * n, n), default, tokens)
            : new KvExports(scores.Slice(b * n, n), scores.Slice(b * n, n), default, tokens);
    }

    // Row b's tokens into layer b: the caller's [B, T, Hkv, D] row b is [T x Hkv, D], the cache's append layout.
    private static void Fill(PagedKvCache cache, ReadOnlySpan<float> keys, ReadOnlySpan<float> values, int batch, int tokens, int heads)
    {
        int n = tokens * cache.KvHeads * cache.HeadDim;
        using var k = Tensor.Zeros(new Shape(tokens * cache.KvHeads, cache.HeadDim), DType.F32, cache.Backend);
        using var v = Tensor.Zeros(new Shape(tokens * cache.KvHeads, cache.HeadDim), DType.F32, cache.Backend);
        for (int b = 0; b < batch; b++)
        {
            k.CopyFrom(keys.Slice(b * n, n));
            v.CopyFrom(values.Slice(b * n, n));
            cache.Append(0, b, k, v, tokens, 0);
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
            _runner?.Dispose();
            _cache?.Dispose();
            _query?.Dispose();
            _output?.Dispose();
            int capacity = Math.Max(2 * tokens, 64);
            _cache = new PagedKvCache(NativeRuntime.Backend, new KvCacheLayout(batch, kvHeads, headDim, capacity));
            _heads = heads;
            _runner = new KvLayerAttention(_cache, heads, 1);
            _decisions = KvDecisions.For(_cache);
            _query = Tensor.Zeros(new Shape(1, 1, heads, headDim), DType.F32, NativeRuntime.Backend);
            _output = Tensor.Zeros(new Shape(1, 1, heads, headDim), DType.F32, NativeRuntime.Backend);
            Policy.Begin(_cache.Sequence(0), heads);
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
                var k = new float[head.Count * headDim];
                var v = new float[head.Count * headDim];
                cache.ReadHead(0, b, g, k, v);
                for (int i = 0; i < Kept; i++)
                {
                    int slot = selection is null ? i : selection.Indices(g)[i];
                    Indices[(b * kvHeads + g) * Kept + i] = head.Position(slot);
                    int at = ((b * Kept + i) * kvHeads + g) * headDim;
                    k.AsSpan(slot * headDim, headDim).CopyTo(Keys.AsSpan(at, headDim));
                    v.AsSpan(slot * headDim, headDim).CopyTo(Values.AsSpan(at, headDim));
                }
            }
        }
    }
}
