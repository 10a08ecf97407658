// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

/// <summary>
/// Recycled Attention (Xu et al. 2024; methods.md 3.13): every <see cref="Stride"/>-th decode step attends to the
/// whole cache and records, per kv head, the <see cref="Budget"/> tokens with the most attention (summed over the
/// head's query heads); the steps in between attend only to those tokens plus the ones generated since. The full
/// cache is kept (memory is not reduced; attention work is).
/// </summary>
public sealed class RecycledKvPolicy(int budget, int stride = 8) : KvPolicy
{
    private KvSelection _selection = null!;
    private float[] _capture = [];
    private float[] _mass = [];
    private int[][][] _recycled = [];
    private int[][] _recycledCount = [];
    private int[] _countAtFull = [];
    private int[] _step = [];
    private bool[] _full = [];
    private int _heads;
    private int _stride;

    /// <summary>Tokens recycled per kv head.</summary>
    public int Budget { get; } = budget > 0 ? budget : throw new ArgumentOutOfRangeException(nameof(budget), $"Recycled: budget {budget} must be positive.");
    /// <summary>A full step every this many decode steps.</summary>
    public int Stride { get; } = stride > 0 ? stride : throw new ArgumentOutOfRangeException(nameof(stride), $"Recycled: stride {stride} must be positive.");

    /// <inheritdoc />
    public override string Name => "recycled";

    /// <summary>The decision at a full step: per-kv-head attention mass [count] summed over its query heads -> top tokens.</summary>
    public static int Decide(ReadOnlySpan<float> mass, int budget, Span<int> keep) => KvTopK.Select(mass, 0, mass.Length, budget, keep);

    /// <inheritdoc />
    public override void Begin(PagedKvCache cache, int heads)
    {
        int max = cache.Head(0, 0).MaxTokens;
        _heads = heads;
        _stride = max + 1;
        _selection = new KvSelection(cache.KvHeads, max);
        _capture = new float[heads * _stride];
        _mass = new float[max];
        _recycled = new int[cache.Layers][][];
        _recycledCount = new int[cache.Layers][];
        _countAtFull = new int[cache.Layers];
        _step = new int[cache.Layers];
        _full = new bool[cache.Layers];
        for (int l = 0; l < cache.Layers; l++)
        {
            _recycled[l] = new int[cache.KvHeads][];
            _recycledCount[l] = new int[cache.KvHeads];
            for (int h = 0; h < cache.KvHeads; h++) _recycled[l][h] = new int[Budget];
            _countAtFull[l] = -1;
        }
    }

    /// <inheritdoc />
    public override PagedAttentionOptions Options(PagedKvCache cache, int layer, ReadOnlySpan<float> q, int rows, int firstPosition, int promptLength)
    {
        _full[layer] = false;
        if (rows != 1) return default;
        if (_countAtFull[layer] < 0 || _step[layer] % Stride == 0)
        {
            _full[layer] = true;
            return new PagedAttentionOptions(Capture: _capture, CaptureStride: _stride);
        }
        int count = cache.Head(layer, 0).Count;
        for (int kvh = 0; kvh < cache.KvHeads; kvh++)
        {
            var buf = _selection.Buffer(kvh);
            int m = 0;
            foreach (int i in _recycled[layer][kvh].AsSpan(0, _recycledCount[layer][kvh])) buf[m++] = i;
            for (int i = _countAtFull[layer]; i < count; i++) buf[m++] = i;
            _selection.SetCount(kvh, m);
        }
        return new PagedAttentionOptions(Selection: _selection);
    }

    /// <inheritdoc />
    public override void AfterAttention(PagedKvCache cache, int layer, int rows)
    {
        if (rows != 1) return;
        _step[layer]++;
        if (!_full[layer]) return;
        int group = _heads / cache.KvHeads;
        for (int kvh = 0; kvh < cache.KvHeads; kvh++)
        {
            // The current token (last index) counts as generated since the full step, not as recycled context.
            int context = cache.Head(layer, kvh).Count - 1;
            var mass = _mass.AsSpan(0, context);
            mass.Clear();
            for (int g = 0; g < group; g++)
                System.Numerics.Tensors.TensorPrimitives.Add(mass, _capture.AsSpan((kvh * group + g) * _stride, context), mass);
            _recycledCount[layer][kvh] = Decide(mass, Budget, _recycled[layer][kvh]);
            _countAtFull[layer] = context;
        }
    }
}
