// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

using HpcCore.Ops;
using HpcCore.Tensors;

/// <summary>
/// Runs one layer's attention over a <see cref="PagedKvCache"/> for a policy: asks the policy what to read and export
/// (<see cref="KvPolicy.Request"/>), uploads its selection, calls the core op <see cref="PagedAttention.Forward"/>
/// (with the cache's compensation tokens and, in <see cref="KvPositionMode.Renumbered"/>, RoPE at read), brings the
/// requested exports to the host and hands them to <see cref="KvPolicy.Observe"/>. Used by the decoder and the C ABI,
/// so both run the same code. Buffers are allocated once (exports on first request); a call allocates nothing.
/// </summary>
public sealed class KvLayerAttention : IDisposable
{
    private readonly PagedKvCache _cache;
    private readonly KvSelection _selection;
    private readonly Tensor _selectedKeys;
    private readonly Tensor _selectedCounts;
    private readonly float[] _query;
    private readonly int _width;
    private Tensor? _keyTotals;
    private Tensor? _windowTotals;
    private PrefixViews? _probabilities;
    private float[] _keyTotalsHost = [];
    private float[] _windowTotalsHost = [];
    private float[] _probabilitiesHost = [];

    /// <summary>Creates the runner for <paramref name="heads"/> query heads and chunks of up to <paramref name="maxRows"/> rows.</summary>
    public KvLayerAttention(PagedKvCache cache, int heads, int maxRows)
    {
        ArgumentNullException.ThrowIfNull(cache);
        if (heads <= 0 || heads % cache.KvHeads != 0)
            throw new ArgumentException($"KvLayerAttention: heads = {heads} is not a positive multiple of the cache's {cache.KvHeads} kv heads.", nameof(heads));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxRows);
        _cache = cache;
        Heads = heads;
        MaxRows = maxRows;
        _width = cache.Layout.TokensPerHead;
        _selection = new KvSelection(cache.KvHeads, _width);
        _selectedKeys = Tensor.Zeros(new Shape(1, cache.KvHeads, _width), DType.I32, cache.Backend);
        _selectedCounts = Tensor.Zeros(new Shape(1, cache.KvHeads), DType.I32, cache.Backend);
        _query = new float[checked(maxRows * heads * cache.HeadDim)];
    }

    /// <summary>Query heads H.</summary>
    public int Heads { get; }
    /// <summary>Most rows per call.</summary>
    public int MaxRows { get; }
    /// <summary>The selection the last call attended over, or null when it attended every token.</summary>
    public KvSelection? LastSelection { get; private set; }

    /// <summary>
    /// Attention of q [1, rows, H, D] (keys of these rows already appended to <paramref name="layer"/>) into
    /// <paramref name="output"/> [1, rows, H, D] for <paramref name="sequence"/>, as <paramref name="policy"/> asks.
    /// <paramref name="rope"/> is used in <see cref="KvPositionMode.Renumbered"/> only.
    /// </summary>
    public void Run(int sequence, int layer, Tensor q, Tensor output, KvPolicy policy, int firstPosition, int promptLength,
        KvPositionMode positions, in RopeOptions rope)
    {
        ArgumentNullException.ThrowIfNull(q);
        ArgumentNullException.ThrowIfNull(policy);
        int rows = q.Shape[1];
        if (rows > MaxRows)
            throw new ArgumentException($"KvLayerAttention.Run: q has {rows} rows (shape {q.Shape}); this runner was sized for {MaxRows}.", nameof(q));
        var view = _cache.Sequence(sequence);
        var query = ReadOnlySpan<float>.Empty;
        if (policy.ReadsQuery)
        {
            var host = _query.AsSpan(0, rows * Heads * _cache.HeadDim);
            q.CopyTo(host);
            query = host;
        }
        var step = new KvStep(layer, rows, firstPosition, promptLength, Heads, query, rope);
        var request = policy.Request(view, step, _selection);
        LastSelection = request.Selected ? _selection : null;
        var options = new PagedAttentionOptions(RenumberPositions: positions == KvPositionMode.Renumbered, Rope: rope);
        if (request.Selected)
        {
            _selectedKeys.CopyFrom(_selection.AllIndices);
            _selectedCounts.CopyFrom(_selection.Counts);
            options = options with { SelectedKeys = _selectedKeys, SelectedCounts = _selectedCounts };
        }
        if (_cache.Compensation(sequence, layer) is { } comp)
            options = options with { CompensationKeys = comp.Keys, CompensationValues = comp.Values, CompensationBias = comp.Bias };
        if (request.KeyTotals) options = options with { KeyTotals = _keyTotals ??= Export(ref _keyTotalsHost) };
        if (request.WindowFromPosition is int from)
            options = options with { WindowTotals = _windowTotals ??= Export(ref _windowTotalsHost), WindowFromRow = Math.Clamp(from - firstPosition, 0, rows) };
        if (request.Probabilities)
        {
            _probabilities ??= new PrefixViews(Tensor.Zeros(new Shape(MaxRows, Heads, _width), DType.F32, _cache.Backend),
                static (t, r) => t.Reshape(1, r, t.Shape[1], t.Shape[2]));
            if (_probabilitiesHost.Length == 0) _probabilitiesHost = new float[MaxRows * Heads * _width];
            options = options with { Probabilities = _probabilities[rows] };
        }
        PagedAttention.Forward(q, _cache.View(sequence, layer), output, options);
        int n = Heads * _width;
        if (request.KeyTotals) _keyTotals!.CopyTo<float>(_keyTotalsHost);
        if (request.WindowFromPosition is not null) _windowTotals!.CopyTo<float>(_windowTotalsHost);
        if (request.Probabilities) _probabilities![rows].CopyTo<float>(_probabilitiesHost.AsSpan(0, rows * n));
        policy.Observe(view, step, new KvExports(
            request.KeyTotals ? _keyTotalsHost : default,
            request.WindowFromPosition is not null ? _windowTotalsHost : default,
            request.Probabilities ? _probabilitiesHost.AsSpan(0, rows * n) : default,
            _width));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _selectedKeys.Dispose();
        _selectedCounts.Dispose();
        _keyTotals?.Dispose();
        _windowTotals?.Dispose();
        _probabilities?.Dispose();
    }

    private Tensor Export(ref float[] host)
    {
        host = new float[Heads * _width];
        return Tensor.Zeros(new Shape(1, Heads, _width), DType.F32, _cache.Backend);
    }
}
