// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

using System.Numerics.Tensors;

/// <summary>
/// TokenSelect (Wu et al. 2024; methods.md 3.12): per layer, per-head dot products q_h . k_j (no 1/sqrt(d), as the
/// released code) over the candidate tokens, softmax per head, summed over heads ("soft voting"); attention then reads
/// only the first <see cref="Sinks"/> tokens, the top <see cref="Budget"/> voted candidates and the last
/// <see cref="Local"/> tokens. The Selection Cache reuses a layer's last choice while the scoring query's cosine
/// similarity to the one that made it stays at or above <see cref="ReuseCosine"/>. Nothing is evicted (memory stays
/// full); attention work shrinks.
/// <para>
/// With <see cref="KvPositionMode.Renumbered"/> positions (the default) it follows the released code (pzs19/TokenSelect,
/// patcher/token_retrieval.py): keys are cached unrotated, the scoring query is rotated at the fixed position
/// <see cref="Local"/> (plus its row in a chunk, then averaged over the chunk), attention applies RoPE by index within
/// the selected list, and prefill selects once per chunk of <see cref="SelectionChunk"/> tokens (the chunk itself and
/// the last <see cref="Local"/> tokens before it always attended). With <see cref="KvPositionMode.Original"/> it keeps
/// this library's earlier behaviour: rotated keys, the query rotated at its true position, prefill in full.
/// </para>
/// </summary>
public sealed class TokenSelectKvPolicy : KvPolicy
{
    private KvSelection? _last;
    private float[] _query = [];
    private float[] _scores = [];
    private float[] _row = [];
    private float[][] _cachedQuery = [];
    private int[][] _cachedPick = [];
    private int[] _cachedCount = [];
    private int _heads;

    /// <summary>Creates the policy; <paramref name="positions"/> picks the released code's behaviour (renumbered) or the earlier one (original).</summary>
    public TokenSelectKvPolicy(int budget, int sinks = 4, int local = 32, float reuseCosine = 0.9f,
        KvPositionMode positions = KvPositionMode.Renumbered, int selectionChunk = 512)
    {
        if (budget <= 0) throw new ArgumentOutOfRangeException(nameof(budget), $"TokenSelect: budget {budget} must be positive.");
        if (sinks < 0) throw new ArgumentOutOfRangeException(nameof(sinks), $"TokenSelect: sinks {sinks} must be >= 0.");
        if (local < 0) throw new ArgumentOutOfRangeException(nameof(local), $"TokenSelect: local {local} must be >= 0.");
        if (!(reuseCosine is >= -1f and <= 1f)) throw new ArgumentOutOfRangeException(nameof(reuseCosine), $"TokenSelect: reuse cosine {reuseCosine} must lie in [-1, 1].");
        if (!Enum.IsDefined(positions)) throw new ArgumentOutOfRangeException(nameof(positions), $"TokenSelect: positions {(int)positions} is not a KvPositionMode value.");
        if (selectionChunk < 1) throw new ArgumentOutOfRangeException(nameof(selectionChunk), $"TokenSelect: selection chunk {selectionChunk} must be at least 1.");
        Budget = budget;
        Sinks = sinks;
        Local = local;
        ReuseCosine = reuseCosine;
        SelectionChunk = selectionChunk;
        Positions = positions;
    }

    /// <summary>Voted candidates attended per step.</summary>
    public int Budget { get; }
    /// <summary>Leading tokens always attended (n_init).</summary>
    public int Sinks { get; }
    /// <summary>Newest tokens always attended (n_local).</summary>
    public int Local { get; }
    /// <summary>Selection Cache threshold on the scoring query's cosine similarity.</summary>
    public float ReuseCosine { get; }
    /// <summary>Prompt tokens per selection during prefill (released behaviour only; the released default is 512).</summary>
    public int SelectionChunk { get; }
    /// <summary>Ignore the Selection Cache (re-vote every step); for measuring the voting cost.</summary>
    public bool ForceRescore { get; set; }
    /// <summary>Steps that re-voted / reused a cached selection (all layers).</summary>
    public (long Voted, long Reused) Stats { get; private set; }

    /// <inheritdoc />
    public override string Name => "tokenselect";

    /// <inheritdoc />
    public override bool ReadsQuery => true;

    /// <inheritdoc />
    public override int PrefillChunk => Positions == KvPositionMode.Renumbered ? SelectionChunk : 0;

    /// <summary>The tokens the last selecting call chose for <paramref name="kvHead"/> (sinks, voted, local; ascending).</summary>
    public ReadOnlySpan<int> LastSelection(int kvHead) => _last is null ? default : _last.Indices(kvHead);

    /// <inheritdoc />
    public override void Begin(KvSequenceView cache, int heads)
    {
        int max = cache.MaxTokensPerHead, d = cache.HeadDim;
        _heads = heads;
        _last = null;
        _query = new float[heads * d];
        _scores = new float[max];
        _row = new float[heads * max];
        _cachedQuery = new float[cache.Layers][];
        _cachedPick = new int[cache.Layers][];
        _cachedCount = new int[cache.Layers];
        for (int l = 0; l < cache.Layers; l++)
        {
            _cachedQuery[l] = new float[heads * d];
            _cachedPick[l] = new int[Budget];
            _cachedCount[l] = -1;
        }
        Stats = default;
    }

    /// <inheritdoc />
    public override KvRequest Request(KvSequenceView cache, in KvStep step, KvSelection selection)
    {
        int layer = step.Layer, count = cache.Count(layer, 0);
        bool released = Positions == KvPositionMode.Renumbered;
        if (step.IsPrefill && !released) return default;
        // Decode: candidates exclude the newest Local tokens. Prefill (released): the tokens before this chunk's
        // selection window, less the Local before it; the window itself always attends (causal).
        int before = step.IsPrefill ? step.FirstPosition / SelectionChunk * SelectionChunk : count;
        int lo = Math.Min(Sinks, before), hi = Math.Max(lo, before - Local);
        if (hi - lo <= Budget) return default;
        // Prefill votes at the start of each selection window and reuses the pick inside it; decode votes when the
        // scoring query drifts from the one that voted (the Selection Cache), so only then is it needed.
        bool vote = ForceRescore || _cachedCount[layer] < 0 || (step.IsPrefill && step.FirstPosition == before);
        if (vote || !step.IsPrefill) ScoringQuery(step, cache.HeadDim, released);
        if (!vote && !step.IsPrefill) vote = TensorPrimitives.CosineSimilarity(_query, _cachedQuery[layer]) < ReuseCosine;
        if (vote)
        {
            VoteAndPick(cache, layer, lo, hi);
            Stats = (Stats.Voted + 1, Stats.Reused);
        }
        else
        {
            Stats = (Stats.Voted, Stats.Reused + 1);
        }
        for (int kvh = 0; kvh < cache.KvHeads; kvh++)
        {
            var buf = selection.Buffer(kvh);
            int m = 0;
            for (int i = 0; i < lo; i++) buf[m++] = i;
            foreach (int i in _cachedPick[layer].AsSpan(0, _cachedCount[layer]))
                if (i >= lo && i < hi) buf[m++] = i;
            for (int i = hi; i < count; i++) buf[m++] = i;
            selection.SetCount(kvh, m);
        }
        _last = selection;
        return new KvRequest(Selected: true);
    }

    // The query that votes, into _query [H, D]: the step's own (original positions), or each row rotated at Local + row
    // and averaged over the rows (the released code's QUERY_ROTATE with unrotated keys).
    private void ScoringQuery(in KvStep step, int d, bool released)
    {
        int width = _heads * d;
        if (!released)
        {
            step.Query[..width].CopyTo(_query);
            return;
        }
        Array.Clear(_query);
        for (int r = 0; r < step.Rows; r++)
        {
            var q = _row.AsSpan(0, width);
            step.Query.Slice(r * width, width).CopyTo(q);
            HostRope.Rotate(q, _heads, d, Local + r, step.Rope);
            TensorPrimitives.Add(_query, q, _query);
        }
        TensorPrimitives.Multiply(_query, 1f / step.Rows, _query);
    }

    // The vote runs on the cache's backend: the paged op's probability export over the candidates, scale 1, is the
    // per-head softmax of raw q.k (the released code's paged dot-product kernel then softmax), summed here over heads.
    private void VoteAndPick(KvSequenceView cache, int layer, int lo, int hi)
    {
        int n = hi - lo;
        var probabilities = _row.AsSpan(0, _heads * n);
        cache.CandidateSoftmax(layer, _query, lo, hi, probabilities);
        var votes = _scores.AsSpan(0, n);
        votes.Clear();
        for (int h = 0; h < _heads; h++) TensorPrimitives.Add(votes, probabilities.Slice(h * n, n), votes);
        int picked = KvTopK.Select(votes, 0, n, Budget, _cachedPick[layer]);
        for (int i = 0; i < picked; i++) _cachedPick[layer][i] += lo;
        _cachedCount[layer] = picked;
        _query.CopyTo(_cachedQuery[layer]);
    }
}
