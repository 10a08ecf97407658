// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Encoder;

using HpcCore.Devices;
using HpcCore.Models.Encoder.Reduction;
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
    private SessionInUse _inUse;
    /// <summary>Call shapes are padded to a multiple of this many tokens, which bounds the number of plans kept.</summary>
    public const int TokenStep = 8;

    private readonly EncoderWeights _w;
    private readonly OwnedTensors _tensors = new();
    private readonly Dictionary<(int Batch, int Tokens), EncoderPlan> _plans = [];
    private readonly Tensor _ids, _lengths, _xa, _xb, _qkv, _att, _hidden, _poolWeights, _pooled;
    private readonly Tensor _map, _mapWeights, _keyBias, _keyMeans, _classRow, _rowIndex;
    private readonly int[] _idScratch;
    private readonly float[] _poolScratch;
    private readonly EncoderTokenReducer? _reducer;
    private readonly EncoderReductionState _state;
    private Tensor? _last;

    /// <summary>Preallocates a session for up to <paramref name="maxBatch"/> texts of up to <paramref name="maxTokens"/> tokens.</summary>
    /// <param name="weights">The model (borrowed: it must outlive the session).</param>
    /// <param name="maxBatch">Most texts per call.</param>
    /// <param name="maxTokens">Most tokens per text, special tokens included (at most the model's positions).</param>
    /// <param name="reducer">Token reduction between each block's attention and MLP (null: the plain model).</param>
    public EncoderSession(EncoderWeights weights, int maxBatch, int maxTokens, EncoderTokenReducer? reducer = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 1);
        var c = weights.Config;
        if (maxTokens > c.MaxPositions)
            throw new ArgumentOutOfRangeException(nameof(maxTokens), $"EncoderSession: maxTokens {maxTokens} exceeds the model's {c.MaxPositions} positions.");
        _w = weights;
        _reducer = reducer;
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
            _map = Flat(bt, DType.I32, backend);
            _mapWeights = Flat(bt, DType.F32, backend);
            _keyBias = Flat(bt, DType.F32, backend);
            bool reduces = reducer is not null;
            _keyMeans = Flat(reduces ? bt * c.HeadDim : 1, DType.F32, backend);
            _classRow = Flat(reduces ? bt * c.Heads : 1, DType.F32, backend);
            _rowIndex = Own(Tensor.From<int>([0], new Shape(1), backend));
            _idScratch = new int[bt];
            _poolScratch = new float[bt];
            _state = new EncoderReductionState(maxBatch, padded, c.Heads, c.HeadDim);
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

    /// <summary>The token-reduction method, or null.</summary>
    public EncoderTokenReducer? Reducer => _reducer;

    /// <summary>
    /// Floating-point operations of the last call's blocks (2 per multiply-add: the four projections, the MLP and both
    /// attention products, on the padded rows each ran on), to compare a reduced schedule's work with the full model's
    /// independently of the machine's load.
    /// </summary>
    public double LastBlockFlops { get; private set; }

    /// <summary>Tokens of each text after the last call's final block [B] (the input lengths without a reducer).</summary>
    public ReadOnlySpan<int> FinalLengths => _state.Lengths.AsSpan(0, _state.Batch);

    /// <summary>
    /// The last call's final hidden states F32 [B, T, D] (T: the padded length; rows past a text's length are padding;
    /// with a reducer, the reduced tokens), owned by the session and overwritten by the next call.
    /// </summary>
    public Tensor LastHiddenState => _last ?? throw new InvalidOperationException("EncoderSession.LastHiddenState: call Encode first.");

    /// <summary>
    /// Encodes texts given as token ids (special tokens included: [CLS] ... [SEP]) laid end to end in
    /// <paramref name="ids"/>, text i having <paramref name="lengths"/>[i] ids, and writes their L2-normalised embeddings
    /// [B, D] to <paramref name="embeddings"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">Another thread is inside a call on this session (one call at a time).</exception>
    public void Encode(ReadOnlySpan<int> ids, ReadOnlySpan<int> lengths, Span<float> embeddings)
    {
        double blockValues = (double)Config.Layers * (4.0 * Config.Hidden * Config.Hidden + 2.0 * Config.Hidden * Config.Intermediate);
        using var work = _ids.Backend.BeginWork(2 * blockValues * ids.Length, 4 * blockValues);
        _inUse.Enter("EncoderSession.Encode");
        try
        {
            EncodeCore(ids, lengths, embeddings);
        }
        finally
        {
            _inUse.Exit();
        }
    }

    private void EncodeCore(ReadOnlySpan<int> ids, ReadOnlySpan<int> lengths, Span<float> embeddings)
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
        Embedding.Gather(_w.WordEmbeddings, p.Ids, p.X[1]);
        Elementwise.Add(p.X[1], p.Positions, p.X[1]);
        Norms.LayerNorm(p.XRows[1], _w.EmbeddingNormWeight, _w.EmbeddingNormBias, p.XRows[0], c.LayerNormEpsilon);
        int cur = 0;
        bool biased = false;
        LastBlockFlops = 0;
        for (int l = 0; l < c.Layers; l++) (p, cur, biased) = Block(l, p, cur, biased);
        UploadPoolWeights(p);
        Gemm.Multiply(p.PoolWeights, p.X[cur], p.Pooled);
        p.Pooled.CopyTo(embeddings);
        Normalize(embeddings, c.Hidden);
        _last = p.X[cur];
    }

    private void Upload(EncoderPlan p, ReadOnlySpan<int> ids, ReadOnlySpan<int> lengths)
    {
        int t = p.Tokens;
        var idRows = _idScratch.AsSpan(0, p.Batch * t);
        idRows.Clear();
        int at = 0;
        for (int i = 0; i < p.Batch; i++)
        {
            int n = lengths[i];
            ids.Slice(at, n).CopyTo(idRows.Slice(i * t, n));
            at += n;
        }
        p.Ids.CopyFrom<int>(idRows);
        _state.Batch = p.Batch;
        _state.Tokens = t;
        lengths.CopyTo(_state.Lengths);
        _state.Sizes.AsSpan(0, p.Batch * t).Fill(1f);
        p.Lengths.CopyFrom<int>(lengths);
    }

    // Sentence-BERT mean pooling averages a text's tokens; after merging, a token stands for `size` tokens, so the
    // mean over the original tokens weights each by its size (ToMe's source-size bookkeeping). CLS takes row 0.
    private void UploadPoolWeights(EncoderPlan p)
    {
        int t = p.Tokens;
        var weights = _poolScratch.AsSpan(0, p.Batch * t);
        weights.Clear();
        for (int i = 0; i < p.Batch; i++)
        {
            int n = _state.Lengths[i];
            if (Config.Pooling == EncoderPooling.Cls)
            {
                weights[i * t] = 1f;
                continue;
            }
            var sizes = _state.Sizes.AsSpan(i * t, n);
            float total = 0;
            foreach (float s in sizes) total += s;
            for (int k = 0; k < n; k++) weights[i * t + k] = sizes[k] / total;
        }
        p.PoolWeights.CopyFrom<float>(weights);
    }

    // BERT's post-LN block (Devlin et al. 2019; Vaswani et al. 2017, section 3.1): LayerNorm after each residual add.
    // A reducer acts between the attention half and the MLP half, on the attention LayerNorm's output.
    private (EncoderPlan, int, bool) Block(int layer, EncoderPlan p, int cur, bool biased)
    {
        var w = _w.Layers[layer];
        float eps = Config.LayerNormEpsilon;
        var ex = _reducer?.Exports(layer) ?? EncoderReductionExports.None;
        bool means = (ex & EncoderReductionExports.KeyMeans) != 0, cls = (ex & EncoderReductionExports.ClassRow) != 0;
        var options = new AttentionOptions(KeyLengths: p.Lengths, KeyBias: biased ? p.KeyBias : null, KeyMeans: means ? p.KeyMeans : null,
            RowIndices: cls ? _rowIndex : null, RowProbabilities: cls ? p.ClassRow : null);
        Gemm.Multiply(p.XRows[cur], _w.Packs.Of(w.QkvWeight), p.Qkv, new GemmOptions(Bias: w.QkvBias));
        Attention.Forward(p.Q, p.K, p.V, p.Attended, options);
        Gemm.Multiply(p.AttendedRows, _w.Packs.Of(w.OutWeight), p.XRows[cur], new GemmOptions(Beta: 1f, Bias: w.OutBias));
        Norms.LayerNorm(p.XRows[cur], w.AttentionNormWeight, w.AttentionNormBias, p.XRows[1 - cur], eps);
        int y = 1 - cur;
        double rows = p.Batch * (double)p.Tokens, d = Config.Hidden;
        LastBlockFlops += 2 * rows * d * 4 * d + 4 * rows * p.Tokens * d;
        if (_reducer is not null && Reduce(layer, p, y, means, cls) is { } q)
        {
            // The reduced tokens were written into buffer `cur` (free after the LayerNorm); the MLP runs there.
            biased |= _reducer.ProportionalAttention;
            if (biased) UploadKeyBias(q);
            p = q;
            y = cur;
        }
        LastBlockFlops += 4.0 * p.Batch * p.Tokens * Config.Hidden * Config.Intermediate;
        var gelu = Config.TanhGelu ? GemmActivation.GeluTanh : GemmActivation.Gelu;
        Gemm.Multiply(p.XRows[y], _w.Packs.Of(w.UpWeight), p.Hidden, new GemmOptions(Bias: w.UpBias, Activation: gelu));
        Gemm.Multiply(p.Hidden, _w.Packs.Of(w.DownWeight), p.XRows[y], new GemmOptions(Beta: 1f, Bias: w.DownBias));
        Norms.LayerNorm(p.XRows[y], w.OutputNormWeight, w.OutputNormBias, p.XRows[1 - y], eps);
        return (p, 1 - y, biased);
    }

    private EncoderPlan? Reduce(int layer, EncoderPlan p, int y, bool means, bool cls)
    {
        var s = _state;
        int b = p.Batch, t = p.Tokens;
        if (means) p.KeyMeans.CopyTo<float>(s.KeyMeans.AsSpan(0, b * t * s.HeadDim));
        if (cls) p.ClassRow.CopyTo<float>(s.ClassRow.AsSpan(0, b * s.Heads * t));
        if (!_reducer!.Plan(layer, s)) return null;
        int tNew = 0;
        for (int i = 0; i < b; i++) tNew = Math.Max(tNew, s.NewLengths[i]);
        var q = Plan(b, tNew);
        p.Map.CopyFrom<int>(s.Map.AsSpan(0, b * t));
        p.MapWeights.CopyFrom<float>(s.Weights.AsSpan(0, b * t));
        var dest = q.X[1 - y];
        dest.Backend.Clear(dest.Storage, dest.ByteOffset, dest.ElementCount * sizeof(float));
        Scatter.Reduce(dest, p.Map, p.X[y], ScatterMode.Sum, p.MapWeights);
        s.NewLengths.AsSpan(0, b).CopyTo(s.Lengths);
        s.NewSizes.AsSpan(0, b * tNew).CopyTo(s.Sizes);
        s.Tokens = tNew;
        q.Lengths.CopyFrom<int>(s.Lengths.AsSpan(0, b));
        return q;
    }

    // ToMe's proportional attention: softmax(q k^T / sqrt(d) + log s) (Bolya et al. 2023, eq. 1).
    private void UploadKeyBias(EncoderPlan p)
    {
        int n = p.Batch * p.Tokens;
        var logs = _poolScratch.AsSpan(0, n);
        for (int i = 0; i < n; i++) logs[i] = _state.Sizes[i] > 0 ? MathF.Log(_state.Sizes[i]) : 0f;
        p.KeyBias.CopyFrom<float>(logs);
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
            X = [View(_xa, b, t, d), View(_xb, b, t, d)],
            XRows = [View(_xa, b * t, d), View(_xb, b * t, d)],
            Qkv = View(_qkv, b * t, 3 * d),
            Q = Own(qkv3.Narrow(2, 0, h)),
            K = Own(qkv3.Narrow(2, h, h)),
            V = Own(qkv3.Narrow(2, 2 * h, h)),
            Attended = View(_att, b, t, h, dh),
            AttendedRows = View(_att, b * t, d),
            Hidden = View(_hidden, b * t, c.Intermediate),
            PoolWeights = View(_poolWeights, b, 1, t),
            Pooled = View(_pooled, b, 1, d),
            Map = View(_map, b, t),
            MapWeights = View(_mapWeights, b, t),
            KeyBias = View(_keyBias, b, t),
            KeyMeans = _reducer is null ? _keyMeans : View(_keyMeans, b, t, dh),
            ClassRow = _reducer is null ? _classRow : View(_classRow, b, h, 1, t),
        };
        _plans.Add((b, t), plan);
        return plan;
    }

    private static int RoundUp(int tokens) => (tokens + TokenStep - 1) / TokenStep * TokenStep;

    private Tensor Flat(long count, DType dtype, IBackend backend) => _tensors.Flat(count, dtype, backend);

    private Tensor View(Tensor flat, params int[] dims) => _tensors.View(flat, dims);

    private Tensor Own(Tensor t) => _tensors.Own(t);

    /// <summary>Releases the activations (not the weights).</summary>
    public void Dispose()
    {
        _tensors.Dispose();
        _plans.Clear();
        _last = null;
    }
}
