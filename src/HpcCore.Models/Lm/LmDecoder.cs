// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm;

using System.Runtime.CompilerServices;
using HpcCore.Devices;
using HpcCore.Models.KvCache;
using HpcCore.Models.Lm.Positional;
using HpcCore.Ops;
using HpcCore.Tensors;

/// <summary>
/// A decoder-only transformer (Llama or GPT-2 blocks, from <see cref="LmConfig"/>) over a paged KV cache in backend
/// memory, with a pluggable <see cref="KvPolicy"/>. Every step runs through the core ops on the weights' backend
/// (CPU or ILGPU): GEMM (one-row GEMV inside), norms, RoPE, SwiGLU/GELU, embedding and paged attention. The prompt
/// runs in chunks (<see cref="Prefill"/>), then one token at a time (<see cref="Decode"/>); a decode step allocates
/// nothing once warm. Keys carry their original RoPE positions (<see cref="KvPositionMode.Original"/>, the default) or
/// are cached unrotated and renumbered at read (<see cref="KvPositionMode.Renumbered"/>, StreamingLLM's way past the
/// trained context).
/// </summary>
public sealed class LmDecoder : IDisposable
{
    private SessionInUse _inUse;
    private readonly LmWeights _w;
    private readonly LmWorkspace _ws;
    private readonly LmRows _chunk;
    private readonly LmRows _one;
    private readonly RopeOptions _rope;
    private readonly ScaledRope? _scaledRope;
    private readonly KvLayerAttention _attention;
    private readonly KvDecisions _decisions;
    private readonly bool _ownsCache;
    private readonly int _sequence;
    private readonly IBackend _backend;
    // A decode step's size for BeginWork: the weight values it streams (2 FLOPs each) and their bytes.
    private readonly double _streamedValues, _streamedBytes;
    private int _promptLength;
    // RoPE position of token index i is i + _ropeShift: 0 for text; an embedding prefill with gaps (a VLM's pruned
    // visual tokens keep their original positions) leaves the positions after it running ahead of the token count.
    private int _ropeShift;

    /// <summary>Creates a decoder over <paramref name="weights"/> (which it does not own) on <paramref name="backend"/>.</summary>
    public LmDecoder(LmConfig config, LmWeights weights, IBackend backend, in LmDecoderOptions options = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(backend);
        config.Validate();
        Config = config;
        _w = weights;
        _backend = backend;
        _streamedValues = weights.StreamedValues;
        _streamedBytes = weights.StreamedBytes;
        Policy = options.Policy ?? new FullKvPolicy();
        PositionMode = options.Positions ?? Policy.Positions;
        if (PositionMode == KvPositionMode.Renumbered && config.Architecture != LmArchitecture.Llama)
            throw new ArgumentException($"LmDecoder: positions 'renumbered' re-rotate cached keys and need RoPE; a {config.Architecture} model has learned positions. Use 'original'.", nameof(options));
        if (PositionMode == KvPositionMode.Renumbered && config.RopeScaling is not null)
            throw new ArgumentException("LmDecoder: positions 'renumbered' re-rotate cached keys inside the attention kernel, which knows only rope_theta, not this model's llama3 rope scaling (rope_scaling or rope_freqs). Use 'original'.", nameof(options));
        int maxTokens = options.MaxTokens > 0 ? options.MaxTokens : config.MaxSeqLen;
        if (PositionMode == KvPositionMode.Renumbered && maxTokens > config.MaxSeqLen)
            throw new ArgumentException($"LmDecoder: MaxTokens = {maxTokens} with positions 'renumbered' would number cached keys past the {config.MaxSeqLen} trained positions; keep it at or below MaxSeqLen.", nameof(options));
        int chunk = options.PrefillChunk > 0 ? options.PrefillChunk : Policy.PrefillChunk > 0 ? Policy.PrefillChunk : 64;
        if (options.Cache is { } shared)
        {
            if (shared.Layers != config.Layers || shared.KvHeads != config.KvHeads || shared.HeadDim != config.HeadDim)
                throw new ArgumentException($"LmDecoder: the shared cache is [{shared.Layers} layers, {shared.KvHeads} kv heads, D {shared.HeadDim}], the model [{config.Layers}, {config.KvHeads}, {config.HeadDim}].", nameof(options));
            Cache = shared;
            _sequence = options.Sequence;
            Cache.Sequence(_sequence);
        }
        else
        {
            Cache = new PagedKvCache(backend, new KvCacheLayout(config.Layers, config.KvHeads, config.HeadDim, maxTokens, options.PageTokens, options.CacheDType));
            _ownsCache = true;
        }
        _ws = new LmWorkspace(config, backend, chunk);
        _chunk = new LmRows(_ws, config, chunk);
        _one = chunk == 1 ? _chunk : new LmRows(_ws, config, 1);
        _rope = new RopeOptions(Theta: config.RopeTheta, Layout: config.RopeLayout);
        if (config.RopeScaling is { } scaling) _scaledRope = new ScaledRope(scaling.InverseFrequencies(config.RopeTheta, config.HeadDim), config.RopeLayout);
        _attention = new KvLayerAttention(Cache, config.Heads, chunk);
        _decisions = KvDecisions.For(Cache);
        Cache.Clear(_sequence);
        Policy.Begin(Cache.Sequence(_sequence), config.Heads);
    }

    /// <summary>The model's shape.</summary>
    public LmConfig Config { get; }
    /// <summary>The KV cache (inspect <see cref="PagedKvCache.BytesHeld"/> for memory).</summary>
    public PagedKvCache Cache { get; }
    /// <summary>This decoder's sequence in <see cref="Cache"/>.</summary>
    public int SequenceIndex => _sequence;
    /// <summary>The KV policy in use.</summary>
    public KvPolicy Policy { get; }
    /// <summary>The RoPE positions cached keys carry.</summary>
    public KvPositionMode PositionMode { get; }
    /// <summary>Tokens processed so far in this sequence (the token index of the next one; the cache's positions).</summary>
    public int Position { get; private set; }
    /// <summary>RoPE position of the next token: <see cref="Position"/>, or past it after <see cref="PrefillEmbeddings"/> with gaps.</summary>
    public int RopePosition => Position + _ropeShift;
    /// <summary>Logits [V] of the last processed token (valid until the next call).</summary>
    public ReadOnlySpan<float> Logits => _ws.LogitsHost;

    /// <summary>Starts a new sequence: empties this sequence's cache and resets the policy.</summary>
    /// <exception cref="InvalidOperationException">Another thread is inside a call on this decoder (one call at a time).</exception>
    public void Reset()
    {
        _inUse.Enter("LmDecoder.Reset");
        try
        {
            Cache.Clear(_sequence);
            Position = 0;
            _ropeShift = 0;
            _promptLength = 0;
            Policy.Begin(Cache.Sequence(_sequence), Config.Heads);
        }
        finally
        {
            _inUse.Exit();
        }
    }

    /// <summary>Runs the prompt <paramref name="tokens"/> in chunks; returns the logits [V] after its last token.</summary>
    /// <exception cref="InvalidOperationException">Another thread is inside a call on this decoder (one call at a time).</exception>
    public ReadOnlySpan<float> Prefill(ReadOnlySpan<int> tokens)
    {
        if (tokens.IsEmpty) throw new ArgumentException("LmDecoder.Prefill: tokens is empty.", nameof(tokens));
        using var work = BeginPrompt(tokens.Length);
        _inUse.Enter("LmDecoder.Prefill");
        try
        {
            CheckTokens(tokens);
            CheckContext(tokens.Length);
            _promptLength = Position + tokens.Length;
            for (int start = 0; start < tokens.Length; start += _ws.MaxRows)
            {
                var chunk = tokens.Slice(start, Math.Min(_ws.MaxRows, tokens.Length - start));
                var v = Rows(chunk.Length);
                try
                {
                    v.Ids.CopyFrom(chunk);
                    Embedding.Gather(_w.TokenEmbedding, v.Ids, v.X);
                    Run(v, chunk.Length, explicitPositions: false);
                }
                finally
                {
                    Release(v);
                }
            }
            EndPrompt();
        }
        finally
        {
            _inUse.Exit();
        }
        return Logits;
    }

    /// <summary>
    /// Runs a prompt given as input embeddings <paramref name="embeddings"/> [T, C] (LLaVA's way: projected visual
    /// tokens between text embeddings) at explicit RoPE <paramref name="positions"/> [T], ascending from
    /// <see cref="RopePosition"/>; gaps are allowed, so a pruned visual token's neighbours keep their original positions.
    /// Later tokens continue after the last position. Llama architecture with original positions only (GPT-2's
    /// positions are learned rows; renumbered keys take their index, not a position). Returns the logits after the
    /// last row; the policy sees the prompt as usual.
    /// </summary>
    /// <exception cref="ArgumentException">A shape, a position or the model's architecture does not fit; nothing changes.</exception>
    /// <exception cref="InvalidOperationException">Another thread is inside a call on this decoder (one call at a time).</exception>
    public ReadOnlySpan<float> PrefillEmbeddings(ReadOnlySpan<float> embeddings, ReadOnlySpan<int> positions)
    {
        using var work = BeginPrompt(positions.Length);
        _inUse.Enter("LmDecoder.PrefillEmbeddings");
        try
        {
            CheckEmbeddingPrompt(embeddings, positions);
            CheckContext(positions.Length);
            int c = Config.Dim;
            _promptLength = Position + positions.Length;
            for (int start = 0; start < positions.Length; start += _ws.MaxRows)
            {
                int rows = Math.Min(_ws.MaxRows, positions.Length - start);
                var v = Rows(rows);
                try
                {
                    v.X.CopyFrom(embeddings.Slice(start * c, rows * c));
                    v.PositionIds.CopyFrom(positions.Slice(start, rows));
                    Run(v, rows, explicitPositions: true);
                }
                finally
                {
                    Release(v);
                }
            }
            _ropeShift = positions[^1] + 1 - Position;
            EndPrompt();
        }
        finally
        {
            _inUse.Exit();
        }
        return Logits;
    }

    private void CheckEmbeddingPrompt(ReadOnlySpan<float> embeddings, ReadOnlySpan<int> positions)
    {
        const string op = "LmDecoder.PrefillEmbeddings";
        if (Config.Architecture != LmArchitecture.Llama || PositionMode != KvPositionMode.Original || _scaledRope is not null)
            throw new ArgumentException($"{op}: explicit positions need a Llama decoder with positions 'original' and plain RoPE; this one is {Config.Architecture}, positions '{PositionMode}'{(_scaledRope is null ? "" : ", llama3 rope scaling")}.", nameof(positions));
        if (positions.IsEmpty || (long)embeddings.Length != (long)positions.Length * Config.Dim)
            throw new ArgumentException($"{op}: embeddings has {embeddings.Length} values and positions {positions.Length}; expected [T, {Config.Dim}] and [T] with T > 0.", nameof(embeddings));
        int next = RopePosition;
        for (int i = 0; i < positions.Length; i++)
        {
            if (positions[i] < next || positions[i] >= Config.MaxSeqLen)
                throw new ArgumentException($"{op}: position {positions[i]} at row {i} is not ascending inside [{next}, {Config.MaxSeqLen}) (the next RoPE position and the trained context).", nameof(positions));
            next = positions[i] + 1;
        }
    }

    // A prompt of n tokens as one unit for BeginWork: every weight applied to n rows (2 FLOPs a value), causal
    // attention over the cache (QK^T and PV: 2 * Layers * Dim * n * context), the weights streamed once. Long prompts
    // of larger models use the pool (1.4-1.9x on two threads at 512 tokens; BENCHMARKS.md, quick threads); a VLM's
    // 60-token prompt on a D 64 decoder is a hundred small kernels, where a hand-off to a busy second core costs more
    // than it saves. The backend times both ways per size and keeps the faster.
    private WorkScope BeginPrompt(int n) => _backend.BeginWork(PromptFlops(Config, _streamedValues, n, (double)Position + n), _streamedBytes);

    /// <summary>FLOPs of <paramref name="n"/> prompt rows attending causally over <paramref name="context"/> keys.</summary>
    internal static double PromptFlops(LmConfig config, double streamedValues, int n, double context) =>
        2 * streamedValues * n + 2.0 * config.Layers * config.Dim * n * context;

    private void EndPrompt()
    {
        Policy.AfterPrefill(Cache.Sequence(_sequence), Position, _decisions);
        Cache.Apply(_sequence, _decisions);
    }

    /// <summary>Runs one token; returns the logits [V] for the next one.</summary>
    /// <exception cref="InvalidOperationException">Another thread is inside a call on this decoder (one call at a time).</exception>
    public ReadOnlySpan<float> Decode(int token)
    {
        ReadOnlySpan<int> one = [token];
        using var work = _backend.BeginWork(2 * _streamedValues, _streamedBytes);
        _inUse.Enter("LmDecoder.Decode");
        try
        {
            CheckTokens(one);
            CheckContext(1);
            _one.Ids.CopyFrom(one);
            Embedding.Gather(_w.TokenEmbedding, _one.Ids, _one.X);
            Run(_one, 1, explicitPositions: false);
            Policy.AfterDecodeStep(Cache.Sequence(_sequence), _decisions);
            Cache.Apply(_sequence, _decisions);
        }
        finally
        {
            _inUse.Exit();
        }
        return Logits;
    }

    private void CheckTokens(ReadOnlySpan<int> tokens)
    {
        foreach (int t in tokens)
            if ((uint)t >= (uint)Config.VocabSize)
                throw new ArgumentOutOfRangeException(nameof(tokens), $"LmDecoder: token {t} is outside the vocabulary 0..{Config.VocabSize - 1}.");
    }

    /// <summary>
    /// Whether <paramref name="rows"/> more tokens can run now: within the trained positions (original positions), or,
    /// with renumbered positions, within them counting the tokens the policy kept, and within the cache's capacity.
    /// Generation stops here instead of failing; with StreamingLLM and renumbered positions it never needs to.
    /// </summary>
    public bool CanAppend(int rows) => ContextProblem(rows) is null;

    private void CheckContext(int rows)
    {
        if (ContextProblem(rows) is { } problem)
            throw new KvCapacityException(problem);
    }

    // Original positions past the trained context are positions the model never saw (RoPE) or has no row for (GPT-2).
    private string? ContextProblem(int rows)
    {
        for (int l = 0; l < Config.Layers; l++)
        for (int h = 0; h < Config.KvHeads; h++)
        {
            var head = Cache.Head(l, h, _sequence);
            if (head.Count + rows > head.MaxTokens)
                return $"LmDecoder: layer {l} kv head {h} would hold {head.Count + rows} tokens, past the cache's {head.MaxTokens}; use an evicting policy whose budget stays below it.";
            // Renumbered positions run to the longest head's count: that must stay within the trained positions.
            if (PositionMode == KvPositionMode.Renumbered && head.Count + rows > Config.MaxSeqLen)
                return $"LmDecoder: with positions 'renumbered', layer {l} kv head {h} would hold {head.Count + rows} tokens, " +
                       $"past the {Config.MaxSeqLen} trained positions; use an evicting policy whose budget stays below them.";
        }
        if (PositionMode == KvPositionMode.Renumbered || RopePosition + rows <= Config.MaxSeqLen) return null;
        string fix = Config.Architecture == LmArchitecture.Gpt2
            ? "GPT-2's learned position table has no row for it"
            : "with positions 'original' the model would see RoPE positions it was never trained on; decode with an evicting policy and " +
              "positions 'renumbered' (--kv-positions renumbered, e.g. --kv-policy streaming, or --context N)";
        return $"LmDecoder: position {RopePosition + rows - 1} is past the {Config.MaxSeqLen} trained positions of this model: {fix}.";
    }

    // The workspace views for a chunk of rows: the two sizes that recur are kept; another (a prompt's tail) is built per call.
    private LmRows Rows(int rows) => rows == _chunk.Rows ? _chunk : rows == 1 ? _one : new LmRows(_ws, Config, rows);

    private void Release(LmRows v)
    {
        if (v != _chunk && v != _one) v.Dispose();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    // v.X holds the rows' input embeddings; with explicitPositions, v.PositionIds their RoPE positions.
    private void Run(LmRows v, int rows, bool explicitPositions)
    {
        var c = Config;
        if (_w.PositionEmbedding is not null)
        {
            for (int t = 0; t < rows; t++) _ws.PositionIdsHost[t] = Position + t;
            v.PositionIds.CopyFrom<int>(_ws.PositionIdsHost.AsSpan(0, rows));
            Embedding.Gather(_w.PositionEmbedding, v.PositionIds, v.H);
            Elementwise.Add(v.X, v.H, v.X);
        }
        bool rotateNow = c.Architecture == LmArchitecture.Llama && PositionMode == KvPositionMode.Original;
        var rope = explicitPositions ? _rope with { Positions = v.RopePositions } : _rope with { PositionOffset = RopePosition };
        for (int l = 0; l < c.Layers; l++)
        {
            var lw = _w.Layers[l];
            Norm(v.X, lw.AttnNorm, lw.AttnNormBias, v.H);
            Linear(v.H, lw.Wq, lw.Bq, v.Q, accumulate: false);
            Linear(v.H, lw.Wk, lw.Bk, v.K, accumulate: false);
            Linear(v.H, lw.Wv, lw.Bv, v.Vv, accumulate: false);
            if (rotateNow && _scaledRope is not null)
            {
                _scaledRope.Apply(v.Q4, RopePosition);
                _scaledRope.Apply(v.K4, RopePosition);
            }
            else if (rotateNow)
            {
                Rope.Apply(v.Q4, v.Q4, rope);
                Rope.Apply(v.K4, v.K4, rope);
            }
            Cache.Append(_sequence, l, v.KRows, v.VRows, rows, Position);
            _attention.Run(_sequence, l, v.Q4, v.Att4, Policy, Position, _promptLength, PositionMode, _rope);
            Linear(v.Att, lw.Wo, lw.Bo, v.X, accumulate: true);
            Norm(v.X, lw.FfnNorm, lw.FfnNormBias, v.H);
            Linear(v.H, lw.Up, lw.UpBias, v.Up, accumulate: false);
            var ffn = v.Up;
            if (lw.Gate is not null)
            {
                // Into the gate buffer: the CPU SwiGLU kernel writes silu(gate) before reading up, so up must not alias the destination.
                Linear(v.H, lw.Gate, null, v.Gate, accumulate: false);
                Activations.SwiGlu(v.Gate, v.Up, v.Gate);
                ffn = v.Gate;
            }
            else
            {
                Activations.GeluTanh(v.Up, v.Up);
            }
            Linear(ffn, lw.Down, lw.DownBias, v.X, accumulate: true);
        }
        Position += rows;
        Norm(v.Last, _w.FinalNorm, _w.FinalNormBias, _ws.Normed);
        Linear(_ws.Normed, _w.Classifier, null, _ws.Logits, accumulate: false);
        _ws.Logits.CopyTo<float>(_ws.LogitsHost);
    }

    // x [rows, in] W^T (+ bias) (+ destination): nn.Linear weights [out, in]. A decode step's one row runs the core's
    // GEMV path, which reads W in place; a prefill chunk multiplies the weight packed once with the model.
    private void Linear(Tensor x, Tensor w, Tensor? bias, Tensor destination, bool accumulate)
    {
        var options = new GemmOptions(Beta: accumulate ? 1f : 0f, Bias: bias);
        if (x.Shape[0] == 1) Gemm.Multiply(x, w, destination, options with { TransposeB = true });
        else Gemm.Multiply(x, _w.Packs.Of(w), destination, options);
    }

    private void Norm(Tensor x, Tensor gamma, Tensor? beta, Tensor destination)
    {
        if (Config.Architecture == LmArchitecture.Llama) Norms.RmsNorm(x, gamma, destination, Config.NormEpsilon);
        else Norms.LayerNorm(x, gamma, beta, destination, Config.NormEpsilon);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _attention.Dispose();
        if (_one != _chunk) _one.Dispose();
        _chunk.Dispose();
        _ws.Dispose();
        if (_ownsCache) Cache.Dispose();
    }
}
