// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Encoder;

using HpcCore.Devices;
using HpcCore.Ops;
using HpcCore.Tensors;

/// <summary>
/// Sentence embeddings from a BERT-family encoder for batches of token-id sequences of mixed lengths. Texts are
/// padded to the batch's longest (rounded up to <see cref="TokenStep"/>) and padding is masked through the attention
/// kernel's key lengths, so a padded key never gets weight; pooling (mean over each text's own tokens, or [CLS]) is
/// one batched GEMM by a row of weights per text, then each vector is L2-normalised (sentence-transformers'
/// Normalize module). Activations live in flat buffers sized for (<see cref="MaxBatch"/>, <see cref="MaxTokens"/>)
/// and the views of each call shape are built once, so a steady-state <see cref="Encode"/> allocates nothing.
/// Not thread-safe: one session per thread. Dispose it.
/// </summary>
public sealed class EncoderSession : IDisposable
{
    /// <summary>Call shapes are padded to a multiple of this many tokens, which bounds the number of plans kept.</summary>
    public const int TokenStep = 8;

    private readonly EncoderWeights _w;
    private readonly List<Tensor> _owned = [];
    private readonly Dictionary<(int Batch, int Tokens), EncoderPlan> _plans = [];
    private readonly Tensor _ids, _lengths, _xa, _xb, _qkv, _att, _hidden, _poolWeights, _pooled;
    private readonly int[] _idScratch, _lengthScratch;
    private readonly float[] _poolScratch;
    private EncoderPlan? _last;

    /// <summary>Preallocates a session for up to <paramref name="maxBatch"/> texts of up to <paramref name="maxTokens"/> tokens.</summary>
    /// <param name="weights">The model (borrowed: it must outlive the session).</param>
    /// <param name="maxBatch">Most texts per call.</param>
    /// <param name="maxTokens">Most tokens per text, special tokens included (at most the model's positions).</param>
    public EncoderSession(EncoderWeights weights, int maxBatch, int maxTokens)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 1);
        var c = weights.Config;
        if (maxTokens > c.MaxPositions)
            throw new ArgumentOutOfRangeException(nameof(maxTokens), $"EncoderSession: maxTokens {maxTokens} exceeds the model's {c.MaxPositions} positions.");
        _w = weights;
        MaxBatch = maxBatch;
        MaxTokens = maxTokens;
        var backend = weights.WordEmbeddings.Backend;
        int padded = Math.Min(RoundUp(maxTokens), c.MaxPositions);
        long bt = (long)maxBatch * padded;
        try
        {
            _ids = Flat(bt, DType.I32, backend);
            _lengths = Flat(maxBatch, DType.I32, backend);
            _xa = Flat(bt * c.Hidden, DType.F32, backend);
            _xb = Flat(bt * c.Hidden, DType.F32, backend);
            _qkv = Flat(bt * 3 * c.Hidden, DType.F32, backend);
            _att = Flat(bt * c.Hidden, DType.F32, backend);
            _hidden = Flat(bt * c.Intermediate, DType.F32, backend);
            _poolWeights = Flat(bt, DType.F32, backend);
            _pooled = Flat((long)maxBatch * c.Hidden, DType.F32, backend);
            _idScratch = new int[bt];
            _lengthScratch = new int[maxBatch];
            _poolScratch = new float[bt];
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The model this session runs.</summary>
    public EncoderConfig Config => _w.Config;

    /// <summary>Most texts per call.</summary>
    public int MaxBatch { get; }

    /// <summary>Most tokens per text.</summary>
    public int MaxTokens { get; }

    /// <summary>
    /// The last call's final hidden states F32 [B, T, D] (T: the padded length; rows past a text's length are padding),
    /// owned by the session and overwritten by the next call.
    /// </summary>
    public Tensor LastHiddenState => _last?.X ?? throw new InvalidOperationException("EncoderSession.LastHiddenState: call Encode first.");

    /// <summary>
    /// Encodes texts given as token ids (special tokens included: [CLS] ... [SEP]) laid end to end in
    /// <paramref name="ids"/>, text i having <paramref name="lengths"/>[i] ids, and writes their L2-normalised embeddings
    /// [B, D] to <paramref name="embeddings"/>.
    /// </summary>
    public void Encode(ReadOnlySpan<int> ids, ReadOnlySpan<int> lengths, Span<float> embeddings)
    {
        var c = Config;
        int b = lengths.Length;
        if (b < 1 || b > MaxBatch)
            throw new ArgumentException($"EncoderSession.Encode: lengths has {b} texts; this session takes 1..{MaxBatch}.", nameof(lengths));
        long total = 0;
        int longest = 0;
        for (int i = 0; i < b; i++)
        {
            if (lengths[i] < 1 || lengths[i] > MaxTokens)
                throw new ArgumentException($"EncoderSession.Encode: lengths[{i}] = {lengths[i]} is outside 1..{MaxTokens} (the session's MaxTokens).", nameof(lengths));
            total += lengths[i];
            longest = Math.Max(longest, lengths[i]);
        }
        if (ids.Length != total)
            throw new ArgumentException($"EncoderSession.Encode: ids has {ids.Length} values; lengths add up to {total}.", nameof(ids));
        if (embeddings.Length != (long)b * c.Hidden)
            throw new ArgumentException($"EncoderSession.Encode: embeddings has {embeddings.Length} values; [B={b}, D={c.Hidden}] needs {b * c.Hidden}.", nameof(embeddings));
        for (int i = 0; i < ids.Length; i++)
            if ((uint)ids[i] >= (uint)c.VocabSize)
                throw new ArgumentOutOfRangeException(nameof(ids), $"EncoderSession.Encode: ids[{i}] = {ids[i]} is outside the vocabulary 0..{c.VocabSize - 1}.");

        var p = Plan(b, Math.Min(RoundUp(longest), c.MaxPositions));
        Upload(p, ids, lengths);
        Embed(p);
        for (int l = 0; l < c.Layers; l++) Block(_w.Layers[l], p);
        Gemm.Multiply(p.PoolWeights, p.X, p.Pooled);
        p.Pooled.CopyTo(embeddings);
        Normalize(embeddings, c.Hidden);
        _last = p;
    }

    private void Upload(EncoderPlan p, ReadOnlySpan<int> ids, ReadOnlySpan<int> lengths)
    {
        int t = p.Tokens;
        var idRows = _idScratch.AsSpan(0, p.Batch * t);
        var weights = _poolScratch.AsSpan(0, p.Batch * t);
        idRows.Clear();
        weights.Clear();
        int at = 0;
        for (int i = 0; i < p.Batch; i++)
        {
            int n = lengths[i];
            ids.Slice(at, n).CopyTo(idRows.Slice(i * t, n));
            at += n;
            _lengthScratch[i] = n;
            // Sentence-BERT mean pooling divides by the count of attended tokens; CLS pooling takes row 0.
            if (Config.Pooling == EncoderPooling.Cls) weights[i * t] = 1f;
            else weights.Slice(i * t, n).Fill(1f / n);
        }
        p.Ids.CopyFrom<int>(idRows);
        p.Lengths.CopyFrom<int>(_lengthScratch.AsSpan(0, p.Batch));
        p.PoolWeights.CopyFrom<float>(weights);
    }

    private void Embed(EncoderPlan p)
    {
        Embedding.Gather(_w.WordEmbeddings, p.Ids, p.Y);
        Elementwise.Add(p.Y, p.Positions, p.Y);
        Norms.LayerNorm(p.YRows, _w.EmbeddingNormWeight, _w.EmbeddingNormBias, p.XRows, Config.LayerNormEpsilon);
    }

    // BERT's post-LN block (Devlin et al. 2019; Vaswani et al. 2017, section 3.1): LayerNorm after each residual add.
    private void Block(EncoderLayerWeights w, EncoderPlan p)
    {
        float eps = Config.LayerNormEpsilon;
        Gemm.Multiply(p.XRows, w.QkvWeight, p.Qkv, new GemmOptions(TransposeB: true, Bias: w.QkvBias));
        Attention.Forward(p.Q, p.K, p.V, p.Attended, p.Attention);
        Gemm.Multiply(p.AttendedRows, w.OutWeight, p.XRows, new GemmOptions(TransposeB: true, Beta: 1f, Bias: w.OutBias));
        Norms.LayerNorm(p.XRows, w.AttentionNormWeight, w.AttentionNormBias, p.YRows, eps);
        Gemm.Multiply(p.YRows, w.UpWeight, p.Hidden, new GemmOptions(TransposeB: true, Bias: w.UpBias));
        if (Config.TanhGelu) Activations.GeluTanh(p.Hidden, p.Hidden);
        else Activations.Gelu(p.Hidden, p.Hidden);
        Gemm.Multiply(p.Hidden, w.DownWeight, p.YRows, new GemmOptions(TransposeB: true, Beta: 1f, Bias: w.DownBias));
        Norms.LayerNorm(p.YRows, w.OutputNormWeight, w.OutputNormBias, p.XRows, eps);
    }

    private static void Normalize(Span<float> rows, int d)
    {
        for (int r = 0; r < rows.Length; r += d)
        {
            var row = rows.Slice(r, d);
            double sum = 0;
            foreach (float v in row) sum += (double)v * v;
            // sentence-transformers' Normalize: F.normalize(p=2, eps=1e-12).
            float inv = (float)(1.0 / Math.Max(Math.Sqrt(sum), 1e-12));
            for (int i = 0; i < d; i++) row[i] *= inv;
        }
    }

    private EncoderPlan Plan(int b, int t)
    {
        if (_plans.TryGetValue((b, t), out var plan)) return plan;
        var c = Config;
        int d = c.Hidden, h = c.Heads, dh = c.HeadDim;
        var qkv3 = View(_qkv, b, t, 3 * h, dh);
        var lengths = View(_lengths, b);
        plan = new EncoderPlan
        {
            Batch = b,
            Tokens = t,
            Ids = View(_ids, b, t),
            Lengths = lengths,
            Positions = Own(_w.PositionBias.Narrow(0, 0, t)),
            X = View(_xa, b, t, d),
            XRows = View(_xa, b * t, d),
            Y = View(_xb, b, t, d),
            YRows = View(_xb, b * t, d),
            Qkv = View(_qkv, b * t, 3 * d),
            Q = Own(qkv3.Narrow(2, 0, h)),
            K = Own(qkv3.Narrow(2, h, h)),
            V = Own(qkv3.Narrow(2, 2 * h, h)),
            Attended = View(_att, b, t, h, dh),
            AttendedRows = View(_att, b * t, d),
            Hidden = View(_hidden, b * t, c.Intermediate),
            PoolWeights = View(_poolWeights, b, 1, t),
            Pooled = View(_pooled, b, 1, d),
            Attention = new AttentionOptions(KeyLengths: lengths),
        };
        _plans.Add((b, t), plan);
        return plan;
    }

    private static int RoundUp(int tokens) => (tokens + TokenStep - 1) / TokenStep * TokenStep;

    private Tensor Flat(long count, DType dtype, IBackend backend) =>
        Own(Tensor.Empty(new Shape(checked((int)count)), dtype, backend));

    private Tensor View(Tensor flat, params int[] dims)
    {
        long n = 1;
        foreach (int v in dims) n *= v;
        using var part = flat.Narrow(0, 0, checked((int)n));
        return Own(part.Reshape(dims));
    }

    private Tensor Own(Tensor t)
    {
        _owned.Add(t);
        return t;
    }

    /// <summary>Releases the activations (not the weights).</summary>
    public void Dispose()
    {
        foreach (var t in _owned) t.Dispose();
        _owned.Clear();
        _plans.Clear();
        _last = null;
    }
}
