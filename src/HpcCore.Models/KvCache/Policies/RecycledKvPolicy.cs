// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

using System.Numerics.Tensors;

/// <summary>When Recycled Attention runs a full-attention step.</summary>
public enum RecycleTrigger
{
    /// <summary>Every <see cref="RecycledKvPolicy.Stride"/>-th decode step (the paper's fixed stride).</summary>
    Stride,
    /// <summary>
    /// When the step's query drifts from the query of the layer's last full step: cosine below
    /// <see cref="RecycledKvPolicy.Threshold"/> (the paper's dynamic variant; per layer, all query heads as one vector).
    /// </summary>
    Query,
}

/// <summary>
/// Recycled Attention (Xu et al. 2024; methods.md 3.13): a full step attends to the whole cache and records, per kv
/// head, the <see cref="Budget"/> tokens with the most attention (summed over the head's query heads, from the op's
/// probability export); the steps in between attend only to those tokens plus the ones generated since. Full steps
/// come every <see cref="Stride"/> steps or, with <see cref="RecycleTrigger.Query"/>, when the query drifts. The full
/// cache is kept (memory is not reduced; attention work is).
/// </summary>
public sealed class RecycledKvPolicy(int budget, int stride = 8, RecycleTrigger trigger = RecycleTrigger.Stride, float threshold = 0.9f) : KvPolicy
{
    private float[] _mass = [];
    private int[][][] _recycled = [];
    private int[][] _recycledCount = [];
    private int[] _countAtFull = [];
    private int[] _step = [];
    private bool[] _full = [];
    private float[][] _fullQuery = [];

    /// <summary>Tokens recycled per kv head.</summary>
    public int Budget { get; } = budget > 0 ? budget : throw new ArgumentOutOfRangeException(nameof(budget), $"Recycled: budget {budget} must be positive.");
    /// <summary>A full step every this many decode steps (<see cref="RecycleTrigger.Stride"/>).</summary>
    public int Stride { get; } = stride > 0 ? stride : throw new ArgumentOutOfRangeException(nameof(stride), $"Recycled: stride {stride} must be positive.");
    /// <summary>What triggers a full step.</summary>
    public RecycleTrigger Trigger { get; } = Enum.IsDefined(trigger) ? trigger
        : throw new ArgumentOutOfRangeException(nameof(trigger), $"Recycled: trigger {(int)trigger} is not a RecycleTrigger value.");
    /// <summary>Query cosine below which a full step runs (<see cref="RecycleTrigger.Query"/>).</summary>
    public float Threshold { get; } = threshold is >= -1f and <= 1f ? threshold : throw new ArgumentOutOfRangeException(nameof(threshold), $"Recycled: threshold {threshold} must lie in [-1, 1].");
    /// <summary>Full and recycled decode steps so far (all layers).</summary>
    public (long Full, long Recycled) Stats { get; private set; }

    /// <inheritdoc />
    public override string Name => "recycled";

    /// <inheritdoc />
    public override bool ReadsQuery => Trigger == RecycleTrigger.Query;

    /// <summary>The decision at a full step: per-kv-head attention mass [count] summed over its query heads -> top tokens.</summary>
    public static int Decide(ReadOnlySpan<float> mass, int budget, Span<int> keep) => KvTopK.Select(mass, 0, mass.Length, budget, keep);

    /// <inheritdoc />
    public override void Begin(KvSequenceView cache, int heads)
    {
        int layers = cache.Layers;
        _mass = new float[cache.MaxTokensPerHead];
        _recycled = new int[layers][][];
        _recycledCount = new int[layers][];
        _countAtFull = new int[layers];
        _step = new int[layers];
        _full = new bool[layers];
        _fullQuery = new float[layers][];
        for (int l = 0; l < layers; l++)
        {
            _recycled[l] = new int[cache.KvHeads][];
            _recycledCount[l] = new int[cache.KvHeads];
            for (int h = 0; h < cache.KvHeads; h++) _recycled[l][h] = new int[Budget];
            _countAtFull[l] = -1;
            _fullQuery[l] = new float[heads * cache.HeadDim];
        }
        Stats = default;
    }

    /// <inheritdoc />
    public override KvRequest Request(KvSequenceView cache, in KvStep step, KvSelection selection)
    {
        int layer = step.Layer;
        _full[layer] = false;
        if (step.Rows != 1) return default;
        bool full = _countAtFull[layer] < 0 || (Trigger == RecycleTrigger.Stride
            ? _step[layer] % Stride == 0
            : TensorPrimitives.CosineSimilarity(step.Query, _fullQuery[layer]) < Threshold);
        if (full)
        {
            _full[layer] = true;
            if (Trigger == RecycleTrigger.Query) step.Query.CopyTo(_fullQuery[layer]);
            Stats = (Stats.Full + 1, Stats.Recycled);
            return new KvRequest(Probabilities: true);
        }
        Stats = (Stats.Full, Stats.Recycled + 1);
        for (int kvh = 0; kvh < cache.KvHeads; kvh++)
        {
            int count = cache.Count(layer, kvh);
            var buf = selection.Buffer(kvh);
            int m = 0;
            foreach (int i in _recycled[layer][kvh].AsSpan(0, _recycledCount[layer][kvh])) buf[m++] = i;
            for (int i = _countAtFull[layer]; i < count; i++) buf[m++] = i;
            selection.SetCount(kvh, m);
        }
        return new KvRequest(Selected: true);
    }

    /// <inheritdoc />
    public override void Observe(KvSequenceView cache, in KvStep step, in KvExports exports)
    {
        int layer = step.Layer;
        if (step.Rows != 1) return;
        _step[layer]++;
        if (!_full[layer]) return;
        int group = step.Heads / cache.KvHeads;
        for (int kvh = 0; kvh < cache.KvHeads; kvh++)
        {
            // The current token (last index) counts as generated since the full step, not as recycled context.
            int context = cache.Count(layer, kvh) - 1;
            var mass = _mass.AsSpan(0, context);
            mass.Clear();
            for (int g = 0; g < group; g++)
                TensorPrimitives.Add(mass, exports.Probabilities.Slice((kvh * group + g) * exports.Width, context), mass);
            _recycledCount[layer][kvh] = Decide(mass, Budget, _recycled[layer][kvh]);
            _countAtFull[layer] = context;
        }
    }
}
