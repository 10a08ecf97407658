// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vit;

using HpcCore.Devices;
using HpcCore.Ops;
using HpcCore.Tensors;

/// <summary>
/// A ViT forward pass for a fixed batch size with every activation preallocated (a steady-state
/// <see cref="Forward"/> allocates nothing), optionally with a token-reduction method plugged in per block
/// (<see cref="IVitTokenReducer"/>). Not thread-safe: one session per thread. Dispose it.
/// </summary>
public sealed class VitSession : IDisposable
{
    private SessionInUse _inUse;
    private readonly VitWeights _w;
    private readonly IVitTokenReducer? _reducer;
    private readonly OwnedTensors _tensors = new();
    private readonly VitLayerPlan[] _layers;
    private readonly Tensor _patches, _patchWeight, _tokenBias, _x0, _patchOut, _cls, _clsRows, _clsSource, _logits;
    private readonly Tensor? _sizes0, _rowIndex;
    private readonly Tensor?[] _maps;
    private readonly float[] _patchScratch, _sizeScratch;
    private readonly int[] _mapScratch, _sourceScratch;
    private readonly int _batch;
    // What a forward costs, for IBackend.BeginWork (which may run it on the calling thread alone).
    private readonly double _flopsPerForward, _weightBytes;

    /// <summary>Preallocates a session for <paramref name="batch"/> images.</summary>
    /// <param name="weights">The model (borrowed: it must outlive the session).</param>
    /// <param name="batch">Images per forward.</param>
    /// <param name="reducer">Token reduction (null: the plain model).</param>
    /// <param name="trackSources">Keep, for every original patch, the final token it ended in
    /// (<see cref="Sources"/>): ToMe's source tracking, for merge maps.</param>
    public VitSession(VitWeights weights, int batch, IVitTokenReducer? reducer = null, bool trackSources = false)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        _w = weights;
        _reducer = reducer;
        _batch = batch;
        var c = weights.Config;
        var backend = weights.PatchWeight.Backend;
        int t0 = c.Tokens, d = c.Dim, h = c.Heads, dh = c.HeadDim;
        try
        {
            TokensPerLayer = new int[c.Depth];
            TokensAfterReduction = new int[c.Depth];
            int t = t0;
            for (int l = 0; l < c.Depth; l++)
            {
                TokensPerLayer[l] = t;
                int after = reducer?.TokensAfter(l, t) ?? t;
                if (after < 1 || after > t)
                    throw new InvalidOperationException($"VitSession: reducer '{reducer!.Name}' maps {t} tokens to {after} at layer {l}");
                TokensAfterReduction[l] = after;
                t = after;
            }
            _flopsPerForward = batch * FlopsPerImage;
            _weightBytes = 4.0 * c.Depth * (4.0 * d * d + 2.0 * d * c.MlpHidden);

            long bt = (long)batch * t0;
            var xa = Flat(bt * d, backend);
            var xb = Flat(bt * d, backend);
            var normed = Flat(bt * d, backend);
            var qkv = Flat(bt * 3 * d, backend);
            var att = Flat(bt * d, backend);
            var hidden = Flat(bt * c.MlpHidden, backend);
            var keyMeans = Flat(bt * dh, backend);
            bool allRows = false;
            for (int l = 0; l < c.Depth; l++)
                allRows |= reducer?.Exports(l).HasFlag(VitScoreExports.AllRows) == true;
            var classRow = Flat((long)batch * h * t0 * (allRows ? t0 : 1), backend);
            var rowIota = allRows ? Own(Tensor.From<int>(Enumerable.Range(0, t0).ToArray(), new Shape(t0), backend)) : null;
            var keyTotals = Flat((long)batch * h * t0, backend);
            bool sizes = reducer?.TracksSizes == true;
            Tensor[]? sizeBuf = sizes ? [Flat(bt, backend), Flat(bt, backend)] : null;
            var keyBias = sizes ? Flat(bt, backend) : null;
            _rowIndex = Own(Tensor.From<int>([0], new Shape(1), backend));
            _maps = new Tensor?[c.Depth];

            _patches = Own(Tensor.Empty(new Shape(batch, c.Patches, c.PatchValues), DType.F32, backend));
            _patchWeight = Own(weights.PatchWeight.Reshape(d, c.PatchValues));
            _tokenBias = Own(Tensor.Empty(new Shape(t0, d), DType.F32, backend));
            BuildTokenBias(weights, _tokenBias);
            _x0 = View(xa, batch, t0, d);
            _patchOut = Own(_x0.Narrow(1, 1, c.Patches));
            _sizes0 = sizes ? View(sizeBuf![0], batch, t0) : null;

            _layers = new VitLayerPlan[c.Depth];
            var cur = xa;
            var other = xb;
            int sizeCur = 0;
            bool reducedBefore = false;
            for (int l = 0; l < c.Depth; l++)
            {
                int tl = TokensPerLayer[l], ta = TokensAfterReduction[l];
                var ex = reducer?.Exports(l) ?? VitScoreExports.None;
                bool reduces = ta != tl;
                var x = View(cur, batch, tl, d);
                var q3 = View(qkv, batch, tl, 3 * h, dh);
                var sizesIn = sizes ? View(sizeBuf![sizeCur], batch, tl) : null;
                Tensor? bias = sizes && reducedBefore ? View(keyBias!, batch, tl) : null;
                var km = ex.HasFlag(VitScoreExports.KeyMeans) ? View(keyMeans, batch, tl, dh) : null;
                bool all = ex.HasFlag(VitScoreExports.AllRows);
                var cr = (all || ex.HasFlag(VitScoreExports.ClassRow)) ? View(classRow, batch, h, all ? tl : 1, tl) : null;
                var rows = cr is null ? null : all ? Own(rowIota!.Narrow(0, 0, tl)) : _rowIndex;
                var kt = ex.HasFlag(VitScoreExports.KeyTotals) ? View(keyTotals, batch, h, tl) : null;
                var y = reduces ? View(other, batch, ta, d) : x;
                VitReductionStep? step = null;
                if (reduces)
                {
                    var sizesOut = sizes ? View(sizeBuf![1 - sizeCur], batch, ta) : null;
                    _maps[l] = trackSources ? Own(Tensor.Empty(new Shape(batch, tl), DType.I32, backend)) : null;
                    step = new VitReductionStep(l, x, y, sizesIn, sizesOut, km, cr, kt, _maps[l]);
                }
                else if (ex != VitScoreExports.None)
                {
                    step = new VitReductionStep(l, x, x, sizesIn, null, km, cr, kt, null);
                }
                _layers[l] = new VitLayerPlan
                {
                    Tokens = tl,
                    TokensAfter = ta,
                    X = x,
                    XRows = View(cur, batch * tl, d),
                    Normed = View(normed, batch * tl, d),
                    Qkv = View(qkv, batch * tl, 3 * d),
                    Q = Own(q3.Narrow(2, 0, h)),
                    K = Own(q3.Narrow(2, h, h)),
                    V = Own(q3.Narrow(2, 2 * h, h)),
                    Attended = View(att, batch, tl, h, dh),
                    AttendedRows = View(att, batch * tl, d),
                    Attention = new AttentionOptions(KeyBias: bias, KeyMeans: km, RowIndices: rows,
                        RowProbabilities: cr, KeyTotals: kt),
                    Step = step,
                    Y = y,
                    YRows = reduces ? View(other, batch * ta, d) : View(cur, batch * tl, d),
                    Normed2 = View(normed, batch * ta, d),
                    Hidden = View(hidden, batch * ta, c.MlpHidden),
                    KeyBiasSource = bias is null ? null : sizesIn,
                };
                if (reduces)
                {
                    (cur, other) = (other, cur);
                    if (sizes) sizeCur = 1 - sizeCur;
                    reducedBefore = true;
                }
            }
            int tf = TokensAfterReduction[^1];
            Tokens = View(cur, batch, tf, d);
            _clsSource = Own(View(cur, batch, tf, d).Narrow(1, 0, 1));
            _cls = View(Flat((long)batch * d, backend), batch, 1, d);
            _clsRows = Own(_cls.Reshape(batch, d));
            _logits = Own(Tensor.Empty(new Shape(batch, c.Classes), DType.F32, backend));
            _patchScratch = new float[(long)batch * c.Patches * c.PatchValues];
            _sizeScratch = new float[bt];
            _mapScratch = new int[bt];
            _sourceScratch = new int[(long)batch * c.Patches];
            Sources = trackSources ? new int[(long)batch * c.Patches] : null;
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>
    /// The last block's output tokens F32 [B, T', D] before the final norm ([CLS] first), owned by the session and
    /// overwritten by the next <see cref="Forward"/>: the patch features a vision-language model feeds its projector.
    /// </summary>
    public Tensor Tokens { get; } = null!;

    /// <summary>The model this session runs.</summary>
    public VitConfig Config => _w.Config;

    /// <summary>Images per forward.</summary>
    public int Batch => _batch;

    /// <summary>Tokens entering each block.</summary>
    public int[] TokensPerLayer { get; } = [];

    /// <summary>Tokens leaving each block's reduction (equal to <see cref="TokensPerLayer"/> where a block does not reduce).</summary>
    public int[] TokensAfterReduction { get; } = [];

    /// <summary>The reduction method, or null.</summary>
    public IVitTokenReducer? Reducer => _reducer;

    /// <summary>Floating-point operations per image under this session's token schedule (see <see cref="VitConfig.Flops"/>).</summary>
    public double FlopsPerImage => Config.Flops(TokensPerLayer, TokensAfterReduction);

    /// <summary>
    /// With source tracking: for image b and patch n (row-major over the grid), Sources[b * N + n] is the final token
    /// the patch ended in (-1: pruned), after the last <see cref="Forward"/>. Null without tracking.
    /// </summary>
    public int[]? Sources { get; }

    /// <summary>
    /// Runs the model on <paramref name="pixels"/>: Batch normalised images [B, C, H, W] (see
    /// <see cref="Images.ImageTensor"/>), and returns the logits F32 [B, classes], owned by the session and
    /// overwritten by the next call.
    /// </summary>
    /// <exception cref="InvalidOperationException">Another thread is inside a call on this session (one call at a time).</exception>
    public Tensor Forward(ReadOnlySpan<float> pixels)
    {
        using var work = _x0.Backend.BeginWork(_flopsPerForward, _weightBytes);
        _inUse.Enter("VitSession.Forward");
        try
        {
            return ForwardCore(pixels);
        }
        finally
        {
            _inUse.Exit();
        }
    }

    private Tensor ForwardCore(ReadOnlySpan<float> pixels)
    {
        var c = Config;
        long need = (long)_batch * c.Channels * c.ImageSize * c.ImageSize;
        if (pixels.Length != need)
            throw new ArgumentException($"VitSession.Forward: pixels has {pixels.Length} values; [B={_batch}, C={c.Channels}, " +
                $"H={c.ImageSize}, W={c.ImageSize}] needs {need}", nameof(pixels));
        Im2Col(pixels);
        _patches.CopyFrom<float>(_patchScratch);
        // Patch embedding straight into tokens 1..N; token 0 is zeroed so that adding the token bias (pos_embed with
        // cls_token folded into row 0) yields [CLS] + its position.
        var backend = _x0.Backend;
        long rowBytes = (long)c.Dim * sizeof(float);
        for (int b = 0; b < _batch; b++)
            backend.Clear(_x0.Storage, _x0.ByteOffset + b * c.Tokens * rowBytes, rowBytes);
        Gemm.Multiply(_patches, _patchWeight, _patchOut, new GemmOptions(TransposeB: true, Bias: _w.PatchBias));
        Elementwise.Add(_x0, _tokenBias, _x0);
        if (_sizes0 is not null)
        {
            _sizeScratch.AsSpan(0, (int)_sizes0.ElementCount).Fill(1f);
            _sizes0.CopyFrom<float>(_sizeScratch.AsSpan(0, (int)_sizes0.ElementCount));
        }
        if (Sources is not null)
            for (int i = 0; i < Sources.Length; i++) Sources[i] = i % c.Patches + 1;

        for (int l = 0; l < _layers.Length; l++)
            RunBlock(l, _w.Blocks[l], _layers[l]);

        _clsSource.CopyTo(_cls);
        Norms.LayerNorm(_cls, _w.NormWeight, _w.NormBias, _cls, c.LayerNormEpsilon);
        Gemm.Multiply(_clsRows, _w.HeadWeight, _logits, new GemmOptions(TransposeB: true, Bias: _w.HeadBias));
        return _logits;
    }

    private void RunBlock(int l, VitBlockWeights w, VitLayerPlan p)
    {
        float eps = Config.LayerNormEpsilon;
        if (p.KeyBiasSource is { } sizes) LogInto(sizes, p.Attention.KeyBias!);
        Norms.LayerNorm(p.XRows, w.Norm1Weight, w.Norm1Bias, p.Normed, eps);
        Gemm.Multiply(p.Normed, _w.Packs.Of(w.QkvWeight), p.Qkv, new GemmOptions(Bias: w.QkvBias));
        Attention.Forward(p.Q, p.K, p.V, p.Attended, p.Attention);
        Gemm.Multiply(p.AttendedRows, _w.Packs.Of(w.ProjWeight), p.XRows, new GemmOptions(Beta: 1f, Bias: w.ProjBias));
        if (p.Step is { } step)
        {
            if (p.TokensAfter == p.Tokens)
            {
                _reducer!.Observe(step);
            }
            else
            {
                _reducer!.Reduce(step);
                if (Sources is not null && step.TokenMap is { } map) ChainSources(map, p.Tokens);
            }
        }
        Norms.LayerNorm(p.YRows, w.Norm2Weight, w.Norm2Bias, p.Normed2, eps);
        Gemm.Multiply(p.Normed2, _w.Packs.Of(w.Fc1Weight), p.Hidden, new GemmOptions(Bias: w.Fc1Bias, Activation: GemmActivation.Gelu));
        Gemm.Multiply(p.Hidden, _w.Packs.Of(w.Fc2Weight), p.YRows, new GemmOptions(Beta: 1f, Bias: w.Fc2Bias));
    }

    // log(size) for proportional attention (ToMe eq. 1: softmax(QK^T / sqrt(d) + log s)).
    private void LogInto(Tensor sizes, Tensor destination)
    {
        int n = (int)sizes.ElementCount;
        var s = _sizeScratch.AsSpan(0, n);
        sizes.CopyTo<float>(s);
        for (int i = 0; i < n; i++) s[i] = MathF.Log(s[i]);
        destination.CopyFrom<float>(s);
    }

    private void ChainSources(Tensor map, int tokens)
    {
        var m = _mapScratch.AsSpan(0, (int)map.ElementCount);
        map.CopyTo<int>(m);
        var src = Sources!;
        int n = Config.Patches;
        for (int b = 0; b < _batch; b++)
            for (int i = 0; i < n; i++)
            {
                int t = src[b * n + i];
                src[b * n + i] = t < 0 ? -1 : m[b * tokens + t];
            }
    }

    private void Im2Col(ReadOnlySpan<float> pixels)
    {
        var c = Config;
        int p = c.PatchSize, g = c.Grid, s = c.ImageSize, k = c.PatchValues, n = c.Patches;
        var dst = _patchScratch.AsSpan();
        for (int b = 0; b < _batch; b++)
            for (int ch = 0; ch < c.Channels; ch++)
            {
                var plane = pixels.Slice((b * c.Channels + ch) * s * s, s * s);
                for (int gy = 0; gy < g; gy++)
                    for (int gx = 0; gx < g; gx++)
                    {
                        var row = dst.Slice((b * n + gy * g + gx) * k + ch * p * p, p * p);
                        for (int ky = 0; ky < p; ky++)
                            plane.Slice((gy * p + ky) * s + gx * p, p).CopyTo(row.Slice(ky * p, p));
                    }
            }
    }

    private static void BuildTokenBias(VitWeights w, Tensor destination)
    {
        var pos = w.Positions.ToArray<float>();
        var cls = w.ClassToken.ToArray<float>();
        for (int i = 0; i < cls.Length; i++) pos[i] += cls[i];
        destination.CopyFrom<float>(pos);
    }

    private Tensor Flat(long count, IBackend backend) => _tensors.Flat(count, DType.F32, backend);

    private Tensor View(Tensor flat, params int[] dims) => _tensors.View(flat, dims);

    private Tensor Own(Tensor t) => _tensors.Own(t);

    /// <summary>Releases the activations (not the weights).</summary>
    public void Dispose()
    {
        _tensors.Dispose();
    }
}
