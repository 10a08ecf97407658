// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vlm;

using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using System.Runtime.CompilerServices;
using HpcCore.Devices;
using HpcCore.Models.Lm;
using HpcCore.Ops;
using HpcCore.Tensors;

/// <summary>
/// The VLM's decoder prefill over input embeddings: the Llama block of <see cref="LmDecoder"/> (RMSNorm, RoPE, GQA,
/// SwiGLU, tied classifier) on the same core ops, with two things a text decoder does not need: every token carries
/// an explicit RoPE position (a pruned visual token keeps its original one, so the model still knows where in the
/// image a kept token came from) and an <see cref="IVlmLayerReducer"/> may drop visual tokens between layers (FastV,
/// ToDRE stage 2, AIM). Returns the logits after the last token and the KV-cache size the prefill leaves.
/// </summary>
public sealed class VlmLanguageModel
{
    private readonly LmConfig _c;
    private readonly LmWeights _w;
    private readonly IBackend _backend;
    private readonly double _streamedValues, _streamedBytes;

    /// <summary>A prefill runner over <paramref name="weights"/> (borrowed).</summary>
    public VlmLanguageModel(LmConfig config, LmWeights weights)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        if (config.Architecture != LmArchitecture.Llama) throw new ArgumentException("VlmLanguageModel: needs a Llama-architecture decoder", nameof(config));
        _c = config;
        _w = weights;
        _backend = weights.TokenEmbedding.Backend;
        _streamedValues = weights.StreamedValues;
        _streamedBytes = weights.StreamedBytes;
    }

    /// <summary>The decoder's shape.</summary>
    public LmConfig Config => _c;

    /// <summary>Input embedding rows [ids.Length, C] of text token <paramref name="ids"/>.</summary>
    public float[] Embed(ReadOnlySpan<int> ids)
    {
        foreach (int id in ids)
            if ((uint)id >= (uint)_c.VocabSize) throw new ArgumentOutOfRangeException(nameof(ids), $"VlmLanguageModel.Embed: token {id} is outside 0..{_c.VocabSize - 1}");
        using var idx = Tensor.From<int>(ids, new Shape(ids.Length), _backend);
        using var rows = Embedding.Gather(_w.TokenEmbedding, idx);
        return rows.ToArray<float>();
    }

    /// <summary>
    /// Runs the prompt <paramref name="embeddings"/> [T, C] at RoPE <paramref name="positions"/> [T] (ascending) and
    /// returns the logits after its last token.
    /// </summary>
    public VlmPrefill Prefill(float[] embeddings, int[] positions, bool[] isVisual, IVlmLayerReducer? reducer = null)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        ArgumentNullException.ThrowIfNull(positions);
        ArgumentNullException.ThrowIfNull(isVisual);
        int c = _c.Dim, t = positions.Length;
        if (t == 0 || embeddings.Length != checked(t * c) || isVisual.Length != t)
            throw new ArgumentException($"VlmLanguageModel.Prefill: {embeddings.Length} embedding values, {t} positions and {isVisual.Length} flags; expected [T, {c}], [T], [T] with T > 0", nameof(embeddings));
        for (int i = 0; i < t; i++)
            if (positions[i] < 0 || positions[i] >= _c.MaxSeqLen || (i > 0 && positions[i] <= positions[i - 1]))
                throw new ArgumentException($"VlmLanguageModel.Prefill: position {positions[i]} at {i} is not ascending inside [0, {_c.MaxSeqLen})", nameof(positions));
        // One unit of work for the backend, as LmDecoder's prompts: it may run on this thread alone (a hundred small
        // kernels, where a hand-off to a busy second core costs more than it saves).
        using var work = _backend.BeginWork(LmDecoder.PromptFlops(_c, _streamedValues, t, t), _streamedBytes);
        var tokensPerLayer = new int[_c.Layers];
        var visualPerLayer = new int[_c.Layers];
        var x = Tensor.From<float>(embeddings, new Shape(t, c), _backend);
        var pos = (int[])positions.Clone();
        var visual = (bool[])isVisual.Clone();
        try
        {
            for (int l = 0; l < _c.Layers; l++)
            {
                tokensPerLayer[l] = pos.Length;
                visualPerLayer[l] = visual.Count(v => v);
                var exports = reducer?.Exports(l) ?? VlmLayerExports.None;
                var step = RunLayer(l, x, pos, visual, exports);
                if (exports == VlmLayerExports.None) continue;
                var keep = reducer!.Keep(step);
                if (keep is null) continue;
                CheckKeep(reducer.Name, keep, visual);
                var next = GatherRows(x, keep);
                x.Dispose();
                x = next;
                pos = [.. keep.Select(i => pos[i])];
                visual = [.. keep.Select(i => visual[i])];
            }
            using var last = x.Narrow(0, pos.Length - 1, 1);
            using var normed = Norms.RmsNorm(last, _w.FinalNorm, _c.NormEpsilon);
            using var logits = Gemm.Multiply(normed, _w.Classifier, new GemmOptions(TransposeB: true));
            long kvBytes = 0;
            foreach (int n in tokensPerLayer) kvBytes += 2L * n * _c.KvDim * sizeof(float);
            return new VlmPrefill(logits.ToArray<float>(), tokensPerLayer, visualPerLayer, kvBytes);
        }
        finally
        {
            x.Dispose();
        }
    }

    // Text tokens stay; indices ascending and in range.
    private static void CheckKeep(string name, int[] keep, bool[] visual)
    {
        int prev = -1, text = 0;
        foreach (int i in keep)
        {
            if (i <= prev || i >= visual.Length)
                throw new InvalidOperationException($"VlmLanguageModel: reducer '{name}' kept index {i} (not ascending inside [0, {visual.Length}))");
            if (!visual[i]) text++;
            prev = i;
        }
        if (text != visual.Count(v => !v))
            throw new InvalidOperationException($"VlmLanguageModel: reducer '{name}' dropped a text token");
    }

    private Tensor GatherRows(Tensor x, int[] keep)
    {
        using var x3 = x.Reshape(1, x.Shape[0], x.Shape[1]);
        using var idx = Tensor.From<int>(keep, new Shape(1, keep.Length), _backend);
        using var g = Gather.Rows(x3, idx);
        return g.Reshape(keep.Length, x.Shape[1]);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private VlmLayerStep RunLayer(int l, Tensor x, int[] pos, bool[] visual, VlmLayerExports exports)
    {
        var lw = _w.Layers[l];
        int t = pos.Length, c = _c.Dim, h = _c.Heads, d = _c.HeadDim;
        using var normed = Norms.RmsNorm(x, lw.AttnNorm, _c.NormEpsilon);
        using var q = Linear(normed, lw.Wq);
        using var k = Linear(normed, lw.Wk);
        using var v = Linear(normed, lw.Wv);
        using var q4 = q.Reshape(1, t, h, d);
        using var k4 = k.Reshape(1, t, _c.KvHeads, d);
        using var v4 = v.Reshape(1, t, _c.KvHeads, d);
        using (var positions = Tensor.From<int>(pos, new Shape(1, t), _backend))
        {
            var rope = new RopeOptions(Theta: _c.RopeTheta, Layout: _c.RopeLayout, Positions: positions);
            Rope.Apply(q4, q4, rope);
            Rope.Apply(k4, k4, rope);
        }
        int firstText = Array.LastIndexOf(visual, true) + 1;
        int textRows = t - firstText;
        float[]? rowsHost = null, logitsHost = null;
        using var att = Tensor.Empty(new Shape(1, t, h, d), DType.F32, _backend);
        if (exports.HasFlag(VlmLayerExports.TextRows) && textRows > 0)
        {
            using var rowIdx = Tensor.From<int>(Enumerable.Range(firstText, textRows).ToArray(), new Shape(textRows), _backend);
            using var probs = Tensor.Empty(new Shape(1, h, textRows, t), DType.F32, _backend);
            Attention.Forward(q4, k4, v4, att, new AttentionOptions(Causal: true, RowIndices: rowIdx, RowProbabilities: probs));
            rowsHost = probs.ToArray<float>();
        }
        else
        {
            Attention.Forward(q4, k4, v4, att, new AttentionOptions(Causal: true));
        }
        if (exports.HasFlag(VlmLayerExports.Logits)) logitsHost = CausalLogits(q4, k4, t, h, d);
        using (var attRows = att.Reshape(t, c))
            Gemm.Multiply(attRows, lw.Wo, x, new GemmOptions(TransposeB: true, Beta: 1f));
        using var normed2 = Norms.RmsNorm(x, lw.FfnNorm, _c.NormEpsilon);
        using var gate = Linear(normed2, lw.Gate!);
        using var up = Linear(normed2, lw.Up);
        Activations.SwiGlu(gate, up, gate);
        Gemm.Multiply(gate, lw.Down, x, new GemmOptions(TransposeB: true, Beta: 1f));
        return new VlmLayerStep(l, visual, h, rowsHost, textRows, logitsHost, _backend);
    }

    // QK^T / sqrt(D) per query head (GQA: head h reads kv head h / group), causal entries -inf: AIM's graph. Rows of
    // one head are gathered contiguous first, so each logit is one SIMD dot product (TensorPrimitives) of D floats.
    private float[] CausalLogits(Tensor q4, Tensor k4, int t, int h, int d)
    {
        var qh = q4.ToArray<float>();
        var kh = k4.ToArray<float>();
        int kvh = _c.KvHeads, g = h / kvh;
        float scale = 1f / MathF.Sqrt(d);
        var o = new float[h * t * t];
        var qRows = new float[t * d];
        var kRows = new float[t * d];
        for (int head = 0; head < h; head++)
        {
            for (int i = 0; i < t; i++)
            {
                qh.AsSpan((i * h + head) * d, d).CopyTo(qRows.AsSpan(i * d));
                if (head % g == 0) kh.AsSpan((i * kvh + head / g) * d, d).CopyTo(kRows.AsSpan(i * d));
            }
            for (int i = 0; i < t; i++)
            {
                var row = o.AsSpan((head * t + i) * t, t);
                var q = qRows.AsSpan(i * d, d);
                for (int j = 0; j <= i; j++) row[j] = TensorPrimitives.Dot(q, kRows.AsSpan(j * d, d)) * scale;
                row[(i + 1)..].Fill(float.NegativeInfinity);
            }
        }
        return o;
    }

    private static Tensor Linear(Tensor x, Tensor w) => Gemm.Multiply(x, w, new GemmOptions(TransposeB: true));
}

/// <summary>Result of <see cref="VlmLanguageModel.Prefill"/>.</summary>
/// <param name="Logits">Logits [V] after the last token.</param>
/// <param name="TokensPerLayer">Tokens each decoder layer ran on (its KV cache length).</param>
/// <param name="VisualPerLayer">Visual tokens among them.</param>
/// <param name="KvBytes">F32 KV-cache bytes the prefill leaves: sum over layers of 2 x tokens x KvDim x 4.</param>
public sealed record VlmPrefill(float[] Logits, int[] TokensPerLayer, int[] VisualPerLayer, long KvBytes);
