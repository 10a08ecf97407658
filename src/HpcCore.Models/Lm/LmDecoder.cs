// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm;

using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using HpcCore.Cpu;
using HpcCore.Models.KvCache;
using HpcCore.Ops;
using HpcCore.Devices;
using HpcCore.Tensors;

/// <summary>
/// A decoder-only transformer (Llama or GPT-2 blocks, from <see cref="LmConfig"/>) with a paged KV cache and a
/// pluggable <see cref="KvPolicy"/>. The prompt is run in chunks (<see cref="Prefill"/>), then one token at a time
/// (<see cref="Decode"/>); a decode step allocates nothing once warm. Keys enter the cache already rotated at their
/// own positions, so evicting tokens never renumbers the survivors. CPU backend only (the cache lives in host pages).
/// </summary>
public sealed class LmDecoder : IDisposable
{
    private readonly LmWeights _w;
    private readonly LmWorkspace _ws;
    private readonly LmRows _chunk;
    private readonly LmRows _one;
    private readonly RopeOptions _rope;
    private readonly CpuWorkerPool? _pool;
    private int _promptLength;

    /// <summary>Creates a decoder over <paramref name="weights"/> (which it does not own) on <paramref name="backend"/>.</summary>
    public LmDecoder(LmConfig config, LmWeights weights, IBackend backend, in LmDecoderOptions options = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        config.Validate();
        Config = config;
        _w = weights;
        int maxTokens = options.MaxTokens > 0 ? options.MaxTokens : config.MaxSeqLen;
        int chunk = options.PrefillChunk > 0 ? options.PrefillChunk : 64;
        Cache = new PagedKvCache(config.Layers, config.KvHeads, config.HeadDim, maxTokens, options.PageTokens > 0 ? options.PageTokens : 16);
        Policy = options.Policy ?? new FullKvPolicy();
        _ws = new LmWorkspace(config, backend, chunk, maxTokens);
        _chunk = new LmRows(_ws, config, chunk);
        _one = chunk == 1 ? _chunk : new LmRows(_ws, config, 1);
        _rope = new RopeOptions(Theta: config.RopeTheta, Layout: config.RopeLayout);
        _pool = (backend as CpuBackend)?.Pool;
        Policy.Begin(Cache, config.Heads);
    }

    /// <summary>The model's shape.</summary>
    public LmConfig Config { get; }
    /// <summary>The KV cache (inspect <see cref="PagedKvCache.BytesHeld"/> for memory).</summary>
    public PagedKvCache Cache { get; }
    /// <summary>The KV policy in use.</summary>
    public KvPolicy Policy { get; }
    /// <summary>Tokens processed so far in this sequence (the position of the next token).</summary>
    public int Position { get; private set; }
    /// <summary>Logits [V] of the last processed token (valid until the next call).</summary>
    public ReadOnlySpan<float> Logits => _ws.Logits.AsSpan<float>();

    /// <summary>Starts a new sequence: empties the cache and resets the policy.</summary>
    public void Reset()
    {
        Cache.Clear();
        Position = 0;
        _promptLength = 0;
        Policy.Begin(Cache, Config.Heads);
    }

    /// <summary>Runs the prompt <paramref name="tokens"/> in chunks; returns the logits [V] after its last token.</summary>
    public ReadOnlySpan<float> Prefill(ReadOnlySpan<int> tokens)
    {
        if (tokens.IsEmpty) throw new ArgumentException("LmDecoder.Prefill: tokens is empty.", nameof(tokens));
        _promptLength = Position + tokens.Length;
        for (int start = 0; start < tokens.Length; start += _ws.MaxRows)
            Forward(tokens.Slice(start, Math.Min(_ws.MaxRows, tokens.Length - start)));
        Policy.AfterPrefill(Cache, Position);
        return Logits;
    }

    /// <summary>Runs one token; returns the logits [V] for the next one.</summary>
    public ReadOnlySpan<float> Decode(int token)
    {
        Forward([token]);
        Policy.AfterDecodeStep(Cache);
        return Logits;
    }

    private void Forward(ReadOnlySpan<int> tokens)
    {
        int rows = tokens.Length;
        var c = Config;
        if (c.Architecture == LmArchitecture.Gpt2 && Position + rows > c.MaxSeqLen)
            throw new InvalidOperationException($"LmDecoder: position {Position + rows - 1} is past the {c.MaxSeqLen} learned positions of this GPT-2 model.");
        var ids = _ws.Ids.AsSpan<int>();
        for (int t = 0; t < rows; t++)
        {
            if ((uint)tokens[t] >= (uint)c.VocabSize)
                throw new ArgumentOutOfRangeException(nameof(tokens), $"LmDecoder: token {tokens[t]} is outside the vocabulary 0..{c.VocabSize - 1}.");
            ids[t] = tokens[t];
        }
        var v = rows == _chunk.Rows ? _chunk : rows == 1 ? _one : new LmRows(_ws, c, rows);
        try
        {
            Run(v, rows);
        }
        finally
        {
            if (v != _chunk && v != _one) v.Dispose();
        }
        Position += rows;
    }

    private void Run(LmRows v, int rows)
    {
        var c = Config;
        Embedding.Gather(_w.TokenEmbedding, v.Ids, v.X);
        if (_w.PositionEmbedding is not null)
        {
            var x = v.X.AsSpan<float>();
            var wpe = _w.PositionEmbedding.AsSpan<float>();
            for (int t = 0; t < rows; t++)
            {
                var row = x.Slice(t * c.Dim, c.Dim);
                TensorPrimitives.Add(row, wpe.Slice((Position + t) * c.Dim, c.Dim), row);
            }
        }
        for (int l = 0; l < c.Layers; l++)
        {
            var lw = _w.Layers[l];
            Norm(v.X, lw.AttnNorm, lw.AttnNormBias, v.H);
            LmGemv.Linear(v.H, lw.Wq, lw.Bq, v.Q, accumulate: false);
            LmGemv.Linear(v.H, lw.Wk, lw.Bk, v.K, accumulate: false);
            LmGemv.Linear(v.H, lw.Wv, lw.Bv, v.Vv, accumulate: false);
            if (c.Architecture == LmArchitecture.Llama)
            {
                var rope = _rope with { PositionOffset = Position };
                Rope.Apply(v.Q4, v.Q4, rope);
                Rope.Apply(v.K4, v.K4, rope);
            }
            Append(l, v, rows);
            var q = v.Q.AsSpan<float>();
            var options = Policy.Options(Cache, l, q, rows, Position, _promptLength);
            if (_pool is null) KvCache.PagedAttention.Forward(Cache, l, q, v.Att.AsSpan<float>(), rows, c.Heads, Position, _ws.Scratch, options);
            else KvCache.PagedAttention.Forward(_pool, Cache, l, q, v.Att.AsSpan<float>(), rows, c.Heads, Position, _ws.Scratch, options);
            Policy.AfterAttention(Cache, l, rows);
            LmGemv.Linear(v.Att, lw.Wo, lw.Bo, v.X, accumulate: true);
            Norm(v.X, lw.FfnNorm, lw.FfnNormBias, v.H);
            LmGemv.Linear(v.H, lw.Up, lw.UpBias, v.Up, accumulate: false);
            var ffn = v.Up;
            if (lw.Gate is not null)
            {
                // Into the gate buffer: the CPU SwiGLU kernel writes silu(gate) before reading up, so up must not alias the destination.
                LmGemv.Linear(v.H, lw.Gate, null, v.Gate, accumulate: false);
                Activations.SwiGlu(v.Gate, v.Up, v.Gate);
                ffn = v.Gate;
            }
            else
            {
                Activations.GeluTanh(v.Up, v.Up);
            }
            LmGemv.Linear(ffn, lw.Down, lw.DownBias, v.X, accumulate: true);
        }
        Norm(v.Last, _w.FinalNorm, _w.FinalNormBias, _ws.Normed);
        LmGemv.Linear(_ws.Normed, _w.Classifier, null, _ws.Logits, accumulate: false);
    }

    private void Append(int layer, LmRows v, int rows)
    {
        var c = Config;
        var k = v.K.AsSpan<float>();
        var vv = v.Vv.AsSpan<float>();
        for (int t = 0; t < rows; t++)
        for (int h = 0; h < c.KvHeads; h++)
        {
            int o = t * c.KvDim + h * c.HeadDim;
            Cache.Head(layer, h).Append(k.Slice(o, c.HeadDim), vv.Slice(o, c.HeadDim), Position + t);
        }
    }

    private void Norm(Tensor x, Tensor gamma, Tensor? beta, Tensor destination)
    {
        if (Config.Architecture == LmArchitecture.Llama) Norms.RmsNorm(x, gamma, destination, Config.NormEpsilon);
        else Norms.LayerNorm(x, gamma, beta, destination, Config.NormEpsilon);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_one != _chunk) _one.Dispose();
        _chunk.Dispose();
        _ws.Dispose();
    }
}
