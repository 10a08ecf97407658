// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

using System.Runtime.CompilerServices;
using HpcCore.Devices;
using HpcCore.Ops;
using HpcCore.Tensors;

/// <summary>
/// A decoder's KV cache in backend memory, vLLM-style (Kwon et al. 2023): one pool of fixed-size key and value pages
/// [MaxPages, P, D] (F32, F16 or BF16) shared by every (sequence, layer, kv head), and a block table per (sequence,
/// layer, kv head) naming its pages in token order. Heads evict independently (each may hold a different set and
/// number of tokens); a page emptied by eviction goes back to the pool, so <see cref="BytesHeld"/> falls when a policy
/// keeps less. Policies never change the cache: they fill <see cref="KvDecisions"/>, applied here by
/// <see cref="Apply"/>. Steady-state appends and applies allocate nothing once every row count has been seen.
/// </summary>
public sealed class PagedKvCache : IDisposable
{
    // Rows moved per KvPages.Read/Write pair when compacting (bounds the scratch, not the work).
    private const int MoveChunk = 4096;

    private readonly KvHeadCache[][] _heads;
    private readonly Tensor[] _tables;
    private readonly Tensor[] _lengths;
    private readonly Tensor[] _compKeys;
    private readonly Tensor[] _compValues;
    private readonly Tensor[] _compBias;
    private readonly Tensor[,] _tableViews;
    private readonly Tensor[,] _lengthViews;
    private readonly Tensor[,] _compKeyViews;
    private readonly Tensor[,] _compValueViews;
    private readonly Tensor[,] _compBiasViews;
    private readonly bool[,] _dirty;
    private readonly bool[,] _lengthsDirty;
    private readonly bool[,] _compDirty;
    private readonly int[] _tableHost;
    private readonly int[] _lengthHost;
    private readonly float[] _compKeyHost;
    private readonly float[] _compValueHost;
    private readonly float[] _compBiasHost;
    private PrefixViews _appendSlots;
    private int[] _appendSlotHost;
    private readonly PrefixViews _moveFrom;
    private readonly PrefixViews _moveTo;
    private readonly PrefixViews _moveRows;
    private readonly int[] _fromHost;
    private readonly int[] _toHost;
    private readonly PrefixViews _readSlots;
    private readonly PrefixViews _readRows;
    private readonly int[] _readSlotHost;
    private readonly float[] _headKeys;
    private readonly float[] _headValues;
    private readonly float[] _stageKeys;
    private readonly float[] _stageValues;
    private readonly int[] _changed;
    private readonly KvSequenceView[] _views;
    private KvCandidateScorer? _scorer;

    /// <summary>Creates the cache on <paramref name="backend"/>; the page pool is allocated (and touched) once, here.</summary>
    public PagedKvCache(IBackend backend, in KvCacheLayout layout)
    {
        ArgumentNullException.ThrowIfNull(backend);
        layout.Validate();
        Backend = backend;
        Layout = layout;
        int s = layout.SequenceCount, hkv = layout.KvHeads, d = layout.HeadDim, p = layout.Page, blocks = layout.BlocksPerHead;
        int maxPages = layout.MaxPages > 0 ? layout.MaxPages : checked(s * layout.Layers * hkv * blocks);
        Pool = new KvPagePool(maxPages, checked(2L * p * d * layout.DType.SizeInBytes()));
        KeyPages = Tensor.Zeros(new Shape(maxPages, p, d), layout.DType, backend);
        ValuePages = Tensor.Zeros(new Shape(maxPages, p, d), layout.DType, backend);
        _heads = new KvHeadCache[s][];
        for (int q = 0; q < s; q++)
        {
            _heads[q] = new KvHeadCache[layout.Layers * hkv];
            for (int i = 0; i < _heads[q].Length; i++) _heads[q][i] = new KvHeadCache(blocks, p, d);
        }
        int layers = layout.Layers;
        _tables = new Tensor[layers];
        _lengths = new Tensor[layers];
        _compKeys = new Tensor[layers];
        _compValues = new Tensor[layers];
        _compBias = new Tensor[layers];
        _tableViews = new Tensor[s, layers];
        _lengthViews = new Tensor[s, layers];
        _compKeyViews = new Tensor[s, layers];
        _compValueViews = new Tensor[s, layers];
        _compBiasViews = new Tensor[s, layers];
        for (int l = 0; l < layers; l++)
        {
            _tables[l] = Tensor.Zeros(new Shape(s, hkv, blocks), DType.I32, backend);
            _lengths[l] = Tensor.Zeros(new Shape(s, hkv), DType.I32, backend);
            _compKeys[l] = Tensor.Zeros(new Shape(s, hkv, d), DType.F32, backend);
            _compValues[l] = Tensor.Zeros(new Shape(s, hkv, d), DType.F32, backend);
            _compBias[l] = Tensor.Zeros(new Shape(s, hkv), DType.F32, backend);
            for (int q = 0; q < s; q++)
            {
                _tableViews[q, l] = _tables[l].Narrow(0, q, 1);
                _lengthViews[q, l] = _lengths[l].Narrow(0, q, 1);
                _compKeyViews[q, l] = _compKeys[l].Narrow(0, q, 1);
                _compValueViews[q, l] = _compValues[l].Narrow(0, q, 1);
                _compBiasViews[q, l] = _compBias[l].Narrow(0, q, 1);
            }
        }
        _dirty = new bool[s, layers];
        _lengthsDirty = new bool[s, layers];
        _compDirty = new bool[s, layers];
        _tableHost = new int[hkv * blocks];
        _lengthHost = new int[hkv];
        _compKeyHost = new float[hkv * d];
        _compValueHost = new float[hkv * d];
        _compBiasHost = new float[hkv];
        _appendSlots = new PrefixViews(Tensor.Zeros(new Shape(hkv), DType.I32, backend));
        _appendSlotHost = new int[hkv];
        int chunk = (int)Math.Min(MoveChunk, (long)maxPages * p);
        _moveFrom = new PrefixViews(Tensor.Zeros(new Shape(chunk), DType.I32, backend));
        _moveTo = new PrefixViews(Tensor.Zeros(new Shape(chunk), DType.I32, backend));
        _moveRows = new PrefixViews(Tensor.Zeros(new Shape(chunk, d), layout.DType, backend));
        _fromHost = new int[chunk];
        _toHost = new int[chunk];
        int perHead = layout.TokensPerHead;
        _readSlots = new PrefixViews(Tensor.Zeros(new Shape(perHead), DType.I32, backend));
        _readRows = new PrefixViews(Tensor.Zeros(new Shape(perHead, d), DType.F32, backend));
        _readSlotHost = new int[perHead];
        _headKeys = new float[perHead * d];
        _headValues = new float[perHead * d];
        _stageKeys = new float[perHead * d];
        _stageValues = new float[perHead * d];
        _changed = new int[perHead];
        _views = new KvSequenceView[s];
        for (int q = 0; q < s; q++)
        {
            _views[q] = new KvSequenceView(this, q);
            for (int l = 0; l < layers; l++) { _dirty[q, l] = true; _lengthsDirty[q, l] = true; _compDirty[q, l] = true; }
        }
    }

    /// <summary>The backend holding the pages.</summary>
    public IBackend Backend { get; }
    /// <summary>Shape and storage.</summary>
    public KvCacheLayout Layout { get; }
    /// <summary>The page pool's bookkeeping (pages in use, bytes held, peak).</summary>
    public KvPagePool Pool { get; }
    /// <summary>Key pages [MaxPages, P, D].</summary>
    public Tensor KeyPages { get; }
    /// <summary>Value pages [MaxPages, P, D].</summary>
    public Tensor ValuePages { get; }
    /// <summary>Layers.</summary>
    public int Layers => Layout.Layers;
    /// <summary>Kv heads per layer.</summary>
    public int KvHeads => Layout.KvHeads;
    /// <summary>Head dim D.</summary>
    public int HeadDim => Layout.HeadDim;
    /// <summary>Bytes held by the pages in use, every sequence together.</summary>
    public long BytesHeld => Pool.BytesHeld;

    /// <summary>The read-only view of sequence <paramref name="sequence"/> that policies plan on.</summary>
    public KvSequenceView Sequence(int sequence) => _views[CheckSequence(sequence)];

    /// <summary>The host state of one (layer, kv head) of <paramref name="sequence"/>.</summary>
    public KvHeadCache Head(int layer, int kvHead, int sequence = 0)
    {
        var heads = _heads[CheckSequence(sequence)];
        if ((uint)layer >= (uint)Layers || (uint)kvHead >= (uint)KvHeads)
            throw new ArgumentOutOfRangeException(nameof(layer), $"PagedKvCache.Head: (layer {layer}, kv head {kvHead}) is outside [{Layers}, {KvHeads}].");
        return heads[layer * KvHeads + kvHead];
    }

    /// <summary>Tokens held by <paramref name="sequence"/>, summed over every (layer, kv head).</summary>
    public long TokensHeld(int sequence = 0)
    {
        long n = 0;
        foreach (var h in _heads[CheckSequence(sequence)]) n += h.Count;
        return n;
    }

    /// <summary>Empties <paramref name="sequence"/>: every page back to the pool, compensation tokens dropped.</summary>
    public void Clear(int sequence = 0)
    {
        for (int i = 0; i < _heads[CheckSequence(sequence)].Length; i++)
        {
            var h = _heads[sequence][i];
            for (int b = 0; b < h.PageCount; b++) Pool.Return(h.Pages[b]);
            h.Count = 0;
            h.ResetCompensation();
        }
        for (int l = 0; l < Layers; l++) { _dirty[sequence, l] = true; _lengthsDirty[sequence, l] = true; _compDirty[sequence, l] = true; }
    }

    /// <summary>
    /// Appends the keys and values of <paramref name="rows"/> new tokens at positions <paramref name="firstPosition"/>..
    /// to every kv head of <paramref name="layer"/>: <paramref name="keys"/> and <paramref name="values"/> are F32
    /// [rows x Hkv, D] (token-major). Arguments and capacity are checked for every head before anything changes: a
    /// key or value tensor of any other shape (a short key included) is refused, never padded.
    /// </summary>
    /// <exception cref="ArgumentException">keys or values is not F32 [rows x Hkv, D]; layer, rows or firstPosition is out of range.</exception>
    /// <exception cref="KvCapacityException">A head or the page pool would overflow.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Append(int sequence, int layer, Tensor keys, Tensor values, int rows, int firstPosition)
    {
        var heads = _heads[CheckSequence(sequence)];
        int hkv = KvHeads, p = Layout.Page;
        CheckAppend(layer, keys, values, rows, firstPosition);
        int pagesNeeded = 0;
        for (int h = 0; h < hkv; h++)
        {
            var head = heads[layer * hkv + h];
            if (head.Count + rows > head.MaxTokens)
                throw new KvCapacityException($"PagedKvCache.Append: layer {layer} kv head {h} holds {head.Count} of its {head.MaxTokens} tokens " +
                                              $"and {rows} more arrive (position {firstPosition}); raise the cache's max tokens or use an evicting policy.");
            pagesNeeded += (head.Count + rows + p - 1) / p - head.PageCount;
        }
        if (Pool.PagesInUse + pagesNeeded > Pool.MaxPages)
            throw new KvCapacityException($"PagedKvCache.Append: {pagesNeeded} more pages are needed but {Pool.MaxPages - Pool.PagesInUse} " +
                                          $"of {Pool.MaxPages} are free ({Pool.BytesHeld} bytes held); create the cache with more pages or use an evicting policy.");
        int n = rows * hkv;
        EnsureAppendRows(n);
        bool rented = false;
        for (int t = 0; t < rows; t++)
        for (int h = 0; h < hkv; h++)
        {
            var head = heads[layer * hkv + h];
            if (head.Count % p == 0)
            {
                head.Pages[head.Count / p] = Pool.Rent();
                rented = true;
            }
            _appendSlotHost[t * hkv + h] = head.Slot(head.Count);
            head.PositionBuffer[head.Count] = firstPosition + t;
            head.Count++;
        }
        var slots = _appendSlots[n];
        slots.CopyFrom<int>(_appendSlotHost.AsSpan(0, n));
        KvPages.Write(keys, KeyPages, slots);
        KvPages.Write(values, ValuePages, slots);
        // The block table changes only when a page was rented (every P tokens); the lengths change every append.
        if (rented) _dirty[sequence, layer] = true;
        _lengthsDirty[sequence, layer] = true;
    }

    /// <summary>The tensors <see cref="PagedAttention.Forward"/> reads for one layer of <paramref name="sequence"/> (B = 1).</summary>
    public PagedKv View(int sequence, int layer)
    {
        Sync(CheckSequence(sequence), layer);
        return new PagedKv(KeyPages, ValuePages, _tableViews[sequence, layer], _lengthViews[sequence, layer]);
    }

    /// <summary>
    /// The compensation key, value [1, Hkv, D] and bias [1, Hkv] (log n, or -inf where a head has none) of one layer
    /// of <paramref name="sequence"/>, for <see cref="PagedAttentionOptions"/>; null when no head of the layer has one.
    /// </summary>
    public (Tensor Keys, Tensor Values, Tensor Bias)? Compensation(int sequence, int layer)
    {
        var heads = _heads[CheckSequence(sequence)];
        bool any = false;
        for (int h = 0; h < KvHeads; h++) any |= heads[layer * KvHeads + h].CompensationCount > 0;
        if (!any) return null;
        if (_compDirty[sequence, layer])
        {
            int d = HeadDim;
            for (int h = 0; h < KvHeads; h++)
            {
                var head = heads[layer * KvHeads + h];
                int c = head.CompensationCount;
                _compBiasHost[h] = c > 0 ? MathF.Log(c) : float.NegativeInfinity;
                for (int i = 0; i < d; i++)
                {
                    _compKeyHost[h * d + i] = c > 0 ? (float)(head.CompensationKeySum[i] / c) : 0f;
                    _compValueHost[h * d + i] = c > 0 ? (float)(head.CompensationValueSum[i] / c) : 0f;
                }
            }
            _compKeyViews[sequence, layer].CopyFrom<float>(_compKeyHost);
            _compValueViews[sequence, layer].CopyFrom<float>(_compValueHost);
            _compBiasViews[sequence, layer].CopyFrom<float>(_compBiasHost);
            _compDirty[sequence, layer] = false;
        }
        return (_compKeyViews[sequence, layer], _compValueViews[sequence, layer], _compBiasViews[sequence, layer]);
    }

    /// <summary>
    /// Reads the keys (and, when <paramref name="values"/> is not empty, the values) of one head as F32 [Count, D]
    /// into host spans (EMS's key similarity, RazorAttention's compensation sums, the C ABI's outputs).
    /// </summary>
    public void ReadHead(int sequence, int layer, int kvHead, Span<float> keys, Span<float> values)
    {
        var head = Head(layer, kvHead, sequence);
        int n = head.Count, d = HeadDim;
        if (keys.Length < n * d || (!values.IsEmpty && values.Length < n * d))
            throw new ArgumentException($"PagedKvCache.ReadHead: the head holds {n} x {d} floats; keys has {keys.Length}, values {values.Length}.", nameof(keys));
        if (n == 0) return;
        for (int i = 0; i < n; i++) _readSlotHost[i] = head.Slot(i);
        var slots = _readSlots[n];
        var rows = _readRows[n];
        slots.CopyFrom<int>(_readSlotHost.AsSpan(0, n));
        KvPages.Read(KeyPages, slots, rows);
        rows.CopyTo<float>(keys[..(n * d)]);
        if (values.IsEmpty) return;
        KvPages.Read(ValuePages, slots, rows);
        rows.CopyTo<float>(values[..(n * d)]);
    }

    /// <summary>
    /// Applies <paramref name="decisions"/> to <paramref name="sequence"/>: merges first (in order), then compensation
    /// sums of the dropped tokens, then compaction to the kept tokens in order, freeing emptied pages. Clears the decisions.
    /// </summary>
    public void Apply(int sequence, KvDecisions decisions)
    {
        ArgumentNullException.ThrowIfNull(decisions);
        var heads = _heads[CheckSequence(sequence)];
        if (decisions.Layers != Layers || decisions.KvHeads != KvHeads)
            throw new ArgumentException($"PagedKvCache.Apply: decisions are for [{decisions.Layers}, {decisions.KvHeads}] (layers, kv heads), the cache is [{Layers}, {KvHeads}].", nameof(decisions));
        if (decisions.IsEmpty) return;
        // Every decision is checked before anything changes, so a bad one leaves the cache as it was.
        for (int i = 0; i < heads.Length; i++)
            if (decisions.HasKeep(i)) CheckKeep(heads[i], decisions.Kept(i), i);
        var merges = decisions.Merges;
        for (int m = 0; m < merges.Count; m++)
        {
            var (head, centre, token, _, _) = merges[m];
            if ((uint)centre >= (uint)heads[head].Count || (uint)token >= (uint)heads[head].Count)
                throw new ArgumentException($"PagedKvCache.Apply: merge of token {token} into {centre} is outside the {heads[head].Count} tokens " +
                                            $"of layer {head / KvHeads} kv head {head % KvHeads}.", nameof(decisions));
        }
        ApplyMerges(sequence, decisions);
        int moves = 0;
        for (int i = 0; i < heads.Length; i++)
        {
            if (!decisions.HasKeep(i)) continue;
            var head = heads[i];
            var keep = decisions.Kept(i);
            if (keep.Length == head.Count) continue;
            if (decisions.Compensates(i)) AddToCompensation(sequence, i, keep);
            var positions = head.PositionBuffer;
            for (int n = 0; n < keep.Length; n++)
            {
                if (keep[n] == n) continue;
                if (moves == _fromHost.Length) { Move(moves); moves = 0; }
                _fromHost[moves] = head.Slot(keep[n]);
                _toHost[moves++] = head.Slot(n);
                positions[n] = positions[keep[n]];
            }
            int needed = (keep.Length + head.PageTokens - 1) / head.PageTokens;
            // Returning a page before the pending moves out of it run is safe: nothing rents during Apply.
            for (int b = needed; b < head.PageCount; b++) Pool.Return(head.Pages[b]);
            head.Count = keep.Length;
            _dirty[sequence, i / KvHeads] = true;
            _lengthsDirty[sequence, i / KvHeads] = true;
        }
        if (moves > 0) Move(moves);
        decisions.Clear();
    }

    /// <summary>See <see cref="KvSequenceView.CandidateSoftmax"/>.</summary>
    internal void CandidateSoftmax(int sequence, int layer, ReadOnlySpan<float> query, int lo, int hi, Span<float> probabilities) =>
        (_scorer ??= new KvCandidateScorer(this)).Softmax(CheckSequence(sequence), layer, query, lo, hi, probabilities);

    /// <inheritdoc />
    public void Dispose()
    {
        _scorer?.Dispose();
        KeyPages.Dispose();
        ValuePages.Dispose();
        foreach (var t in _tableViews) t.Dispose();
        foreach (var t in _lengthViews) t.Dispose();
        foreach (var t in _compKeyViews) t.Dispose();
        foreach (var t in _compValueViews) t.Dispose();
        foreach (var t in _compBiasViews) t.Dispose();
        foreach (var t in _tables) t.Dispose();
        foreach (var t in _lengths) t.Dispose();
        foreach (var t in _compKeys) t.Dispose();
        foreach (var t in _compValues) t.Dispose();
        foreach (var t in _compBias) t.Dispose();
        _appendSlots.Dispose();
        _moveFrom.Dispose();
        _moveTo.Dispose();
        _moveRows.Dispose();
        _readSlots.Dispose();
        _readRows.Dispose();
    }

    private void CheckAppend(int layer, Tensor keys, Tensor values, int rows, int firstPosition)
    {
        const string Op = "PagedKvCache.Append";
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(values);
        if ((uint)layer >= (uint)Layers)
            throw new ArgumentOutOfRangeException(nameof(layer), $"{Op}: layer {layer} is outside 0..{Layers - 1}.");
        if (rows < 0 || firstPosition < 0 || (long)firstPosition + rows > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(rows), $"{Op}: rows {rows} from position {firstPosition} must be >= 0 and stay below 2^31.");
        var expected = new Shape(checked(rows * KvHeads), HeadDim);
        if (keys.DType != DType.F32 || keys.Shape != expected)
            throw new ArgumentException($"{Op}: keys is {keys.DType} {keys.Shape}; F32 {expected} ([rows x Hkv, D] with rows {rows}, Hkv {KvHeads}, D {HeadDim}) expected.", nameof(keys));
        if (values.DType != DType.F32 || values.Shape != expected)
            throw new ArgumentException($"{Op}: values is {values.DType} {values.Shape}; F32 {expected} ([rows x Hkv, D] with rows {rows}, Hkv {KvHeads}, D {HeadDim}) expected.", nameof(values));
    }

    private int CheckSequence(int sequence)
    {
        if ((uint)sequence >= (uint)_heads.Length)
            throw new ArgumentOutOfRangeException(nameof(sequence), $"PagedKvCache: sequence {sequence} is outside 0..{_heads.Length - 1}.");
        return sequence;
    }

    private void EnsureAppendRows(int n)
    {
        // Grows to the largest chunk seen (a prefill chunk), then stays: decode steps reuse it.
        if (n <= _appendSlots.Whole.Shape[0]) return;
        _appendSlots.Dispose();
        _appendSlots = new PrefixViews(Tensor.Zeros(new Shape(n), DType.I32, Backend));
        _appendSlotHost = new int[n];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Sync(int sequence, int layer)
    {
        var heads = _heads[sequence];
        int hkv = KvHeads, blocks = Layout.BlocksPerHead;
        if (_dirty[sequence, layer])
        {
            for (int h = 0; h < hkv; h++)
            {
                var head = heads[layer * hkv + h];
                head.Pages.AsSpan(0, head.PageCount).CopyTo(_tableHost.AsSpan(h * blocks, blocks));
            }
            _tableViews[sequence, layer].CopyFrom<int>(_tableHost);
            _dirty[sequence, layer] = false;
        }
        if (_lengthsDirty[sequence, layer])
        {
            for (int h = 0; h < hkv; h++) _lengthHost[h] = heads[layer * hkv + h].Count;
            _lengthViews[sequence, layer].CopyFrom<int>(_lengthHost);
            _lengthsDirty[sequence, layer] = false;
        }
    }

    private void Move(int count)
    {
        var from = _moveFrom[count];
        var to = _moveTo[count];
        var rows = _moveRows[count];
        from.CopyFrom<int>(_fromHost.AsSpan(0, count));
        to.CopyFrom<int>(_toHost.AsSpan(0, count));
        KvPages.Read(KeyPages, from, rows);
        KvPages.Write(rows, KeyPages, to);
        KvPages.Read(ValuePages, from, rows);
        KvPages.Write(rows, ValuePages, to);
    }

    // Per head: read its keys and values, fold each merge in order on the host, write the changed centres back.
    private void ApplyMerges(int sequence, KvDecisions decisions)
    {
        var merges = decisions.Merges;
        int d = HeadDim, start = 0;
        while (start < merges.Count)
        {
            int headIndex = merges[start].Head, end = start;
            while (end < merges.Count && merges[end].Head == headIndex) end++;
            var head = _heads[sequence][headIndex];
            ReadHead(sequence, headIndex / KvHeads, headIndex % KvHeads, _headKeys, _headValues);
            int changed = 0;
            for (int m = start; m < end; m++)
            {
                var (_, centre, token, wc, wt) = merges[m];
                float total = wc + wt;
                if (!(total > 0)) { wc = wt = 1; total = 2; }
                for (int i = 0; i < d; i++)
                {
                    _headKeys[centre * d + i] = (_headKeys[centre * d + i] * wc + _headKeys[token * d + i] * wt) / total;
                    _headValues[centre * d + i] = (_headValues[centre * d + i] * wc + _headValues[token * d + i] * wt) / total;
                }
                if (Array.IndexOf(_changed, centre, 0, changed) < 0) _changed[changed++] = centre;
            }
            WriteRows(head, changed);
            start = end;
        }
    }

    // Writes the host rows of the tokens _changed[..count] (from _headKeys / _headValues) back to their pages.
    private void WriteRows(KvHeadCache head, int count)
    {
        int d = HeadDim;
        for (int c = 0; c < count; c++)
        {
            int token = _changed[c];
            _readSlotHost[c] = head.Slot(token);
            _headKeys.AsSpan(token * d, d).CopyTo(_stageKeys.AsSpan(c * d, d));
            _headValues.AsSpan(token * d, d).CopyTo(_stageValues.AsSpan(c * d, d));
        }
        var slots = _readSlots[count];
        var rows = _readRows[count];
        slots.CopyFrom<int>(_readSlotHost.AsSpan(0, count));
        rows.CopyFrom<float>(_stageKeys.AsSpan(0, count * d));
        KvPages.Write(rows, KeyPages, slots);
        rows.CopyFrom<float>(_stageValues.AsSpan(0, count * d));
        KvPages.Write(rows, ValuePages, slots);
    }

    private void AddToCompensation(int sequence, int headIndex, ReadOnlySpan<int> keep)
    {
        var head = _heads[sequence][headIndex];
        int d = HeadDim;
        ReadHead(sequence, headIndex / KvHeads, headIndex % KvHeads, _headKeys, _headValues);
        for (int j = 0, k = 0; j < head.Count; j++)
        {
            if (k < keep.Length && keep[k] == j) { k++; continue; }
            for (int i = 0; i < d; i++)
            {
                head.CompensationKeySum[i] += _headKeys[j * d + i];
                head.CompensationValueSum[i] += _headValues[j * d + i];
            }
            head.CompensationCount++;
        }
        _compDirty[sequence, headIndex / KvHeads] = true;
    }

    private static void CheckKeep(KvHeadCache head, ReadOnlySpan<int> keep, int index)
    {
        int prev = -1;
        foreach (int k in keep)
        {
            if (k <= prev || k >= head.Count)
                throw new ArgumentException($"PagedKvCache.Apply: kept index {k} after {prev} of head {index} is not ascending within 0..{head.Count - 1}.");
            prev = k;
        }
    }
}
