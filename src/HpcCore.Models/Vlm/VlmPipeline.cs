// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vlm;

using System.Diagnostics;
using HpcCore.Devices;
using HpcCore.Models.Vit;
using HpcCore.Models.Vlm.Reducers;
using HpcCore.Ops;
using HpcCore.Tensors;

/// <summary>
/// The grid-scene VLM, LLaVA's way: ViT patch features of every view, the MLP projector, then the decoder over
/// <c>&lt;s&gt;</c>, the visual tokens and the question; the answer is the argmax after the final '?'. A
/// <see cref="VlmMethod"/> cuts visual tokens before the LM and/or inside it; kept tokens keep their RoPE positions.
/// </summary>
public sealed class VlmPipeline : IDisposable
{
    private readonly VlmWeights _w;
    private readonly VlmVisionEncoder _encoder;
    private readonly VlmLanguageModel _lm;
    private readonly IBackend _backend;

    /// <summary>A pipeline over the ViT <paramref name="vit"/> and <paramref name="vlm"/> (both borrowed).</summary>
    public VlmPipeline(VitWeights vit, VlmWeights vlm, bool highRes)
    {
        ArgumentNullException.ThrowIfNull(vit);
        ArgumentNullException.ThrowIfNull(vlm);
        if (vit.Config.Dim != vlm.VisionDim)
            throw new ArgumentException($"VlmPipeline: the ViT gives {vit.Config.Dim}-wide features; the projector takes {vlm.VisionDim}", nameof(vlm));
        _w = vlm;
        HighRes = highRes;
        _encoder = new VlmVisionEncoder(vit, VlmScene.ViewCount(highRes), vlm.PoolFor(highRes));
        _lm = new VlmLanguageModel(vlm.LmConfig, vlm.Lm);
        _backend = vlm.Fc1Weight.Backend;
        VisualTokens = _encoder.Tokens;
    }

    /// <summary>Whether scenes are seen as thumbnail + crops.</summary>
    public bool HighRes { get; }

    /// <summary>Visual tokens before any reduction.</summary>
    public int VisualTokens { get; }

    /// <summary>The decoder.</summary>
    public VlmLanguageModel Language => _lm;

    /// <summary>The projector and decoder weights.</summary>
    public VlmWeights Weights => _w;

    /// <summary>Visual tokens kept at <paramref name="fraction"/> of <see cref="VisualTokens"/> (rounded, at least 1).</summary>
    public int Budget(double fraction)
    {
        if (!(fraction > 0 && fraction <= 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "VlmPipeline.Budget: must be in (0, 1]");
        return Math.Max(1, (int)Math.Round(fraction * VisualTokens));
    }

    /// <summary>
    /// Answers <paramref name="question"/> (token ids ending in '?') about <paramref name="scene"/> [56, 56] in [0, 1]
    /// with <paramref name="method"/> at <paramref name="fraction"/> of the visual tokens; <paramref name="seed"/> seeds
    /// the random baseline.
    /// </summary>
    public VlmAnswer Ask(ReadOnlySpan<float> scene, int[] question, VlmMethod method, double fraction = 1, int seed = 0)
    {
        var (vision, encodeMs) = Encode(scene);
        return Answer(vision, encodeMs, question, method, fraction, seed);
    }

    /// <summary>The vision encoder's output for <paramref name="scene"/> [56, 56] in [0, 1], and its time in ms.</summary>
    public (VlmVision Vision, double Milliseconds) Encode(ReadOnlySpan<float> scene)
    {
        var views = VlmScene.Views(scene, HighRes);
        var clock = Stopwatch.StartNew();
        var vision = _encoder.Encode(views);
        return (vision, clock.Elapsed.TotalMilliseconds);
    }

    /// <summary>
    /// <see cref="Ask"/> after the encoder: <paramref name="vision"/> from <see cref="Encode"/> (reusable across
    /// questions and methods; nothing writes to it), <paramref name="encodeMs"/> its time, counted in the time to first token.
    /// </summary>
    public VlmAnswer Answer(VlmVision vision, double encodeMs, int[] question, VlmMethod method, double fraction = 1, int seed = 0)
    {
        var clock = Stopwatch.StartNew();
        var prompt = Prompt(vision, question, method, fraction, seed);
        double reduceMs = clock.Elapsed.TotalMilliseconds;
        if (method.InLm is FastVReducer fastv) fastv.Budget = method.Visual is null ? prompt.Budget : prompt.VisualKept;
        if (method.InLm is AimLayerReducer aim) aim.Begin(prompt.VisualKept);
        double prefillStart = clock.Elapsed.TotalMilliseconds;
        var prefill = _lm.Prefill(prompt.Embeddings, prompt.Positions, prompt.IsVisual, method.InLm);
        double end = clock.Elapsed.TotalMilliseconds;
        return new VlmAnswer(Argmax(prefill.Logits), prefill.Logits, prompt.VisualKept, prefill, encodeMs, reduceMs, end - prefillStart, encodeMs + end);
    }

    /// <summary>
    /// The decoder's input for <paramref name="question"/> after <paramref name="method"/>'s pre-LM reduction at
    /// <paramref name="fraction"/>: <c>&lt;s&gt;</c>, the kept visual tokens projected (at their original positions),
    /// the question; the projector and the reduction run here.
    /// </summary>
    public VlmPrompt Prompt(VlmVision vision, int[] question, VlmMethod method, double fraction = 1, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(vision);
        ArgumentNullException.ThrowIfNull(question);
        ArgumentNullException.ThrowIfNull(method);
        if (question.Length == 0 || question[^1] != VlmVocabulary.Question)
            throw new ArgumentException("VlmPipeline.Answer: a question is token ids ending in '?'", nameof(question));
        if (vision.Tokens != VisualTokens)
            throw new ArgumentException($"VlmPipeline.Answer: vision has {vision.Tokens} tokens; this pipeline's mode gives {VisualTokens}", nameof(vision));
        int budget = Budget(fraction);
        var projected = Project(vision.Features, vision.Tokens);
        var text = _lm.Embed(question);
        VlmKept kept = method.Visual is { } visual
            ? visual.Reduce(new VlmVisualInput(vision, projected, text, _backend, seed), budget)
            : VlmKept.Select(Enumerable.Range(0, vision.Tokens).ToArray());
        CheckKept(method.Name, kept, vision.Tokens);
        float[] rows = kept.Indices is { } idx ? Gather(projected, idx) : Project(kept.Merged!, kept.Count);

        int c = _w.LmConfig.Dim, k = kept.Count, t = 1 + k + question.Length;
        var embeddings = new float[t * c];
        var positions = new int[t];
        var isVisual = new bool[t];
        _lm.Embed([VlmVocabulary.Bos]).CopyTo(embeddings, 0);
        rows.CopyTo(embeddings, c);
        text.CopyTo(embeddings, (1 + k) * c);
        for (int i = 0; i < k; i++)
        {
            positions[1 + i] = 1 + kept.Positions[i];
            isVisual[1 + i] = true;
        }
        for (int i = 0; i < question.Length; i++) positions[1 + k + i] = 1 + vision.Tokens + i;
        return new VlmPrompt(embeddings, positions, isVisual, k, budget);
    }

    /// <summary>The answer token: the argmax of <paramref name="logits"/>, ties to the lower id.</summary>
    public static int Argmax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
            if (logits[i] > logits[best]) best = i;
        return best;
    }

    /// <summary>The projector (LLaVA-1.5's MLP): GELU(x W1^T + b1) W2^T + b2 over <paramref name="n"/> host rows [n, Dv]; gives [n, C].</summary>
    public float[] Project(float[] features, int n)
    {
        using var x = Tensor.From<float>(features, new Shape(n, _w.VisionDim), _backend);
        using var h = Gemm.Multiply(x, _w.Fc1Weight, new GemmOptions(TransposeB: true, Bias: _w.Fc1Bias));
        Activations.Gelu(h, h);
        using var y = Gemm.Multiply(h, _w.Fc2Weight, new GemmOptions(TransposeB: true, Bias: _w.Fc2Bias));
        return y.ToArray<float>();
    }

    private float[] Gather(float[] rows, int[] indices)
    {
        int c = _w.LmConfig.Dim;
        var o = new float[indices.Length * c];
        for (int i = 0; i < indices.Length; i++) rows.AsSpan(indices[i] * c, c).CopyTo(o.AsSpan(i * c));
        return o;
    }

    private static void CheckKept(string method, VlmKept kept, int tokens)
    {
        if (kept.Count == 0) throw new InvalidOperationException($"VlmPipeline: method '{method}' kept no visual token");
        for (int i = 0; i < kept.Count; i++)
            if (kept.Positions[i] < 0 || kept.Positions[i] >= tokens || (i > 0 && kept.Positions[i] <= kept.Positions[i - 1]))
                throw new InvalidOperationException($"VlmPipeline: method '{method}' gave position {kept.Positions[i]} at {i} (not ascending inside [0, {tokens}))");
    }

    /// <inheritdoc />
    public void Dispose() => _encoder.Dispose();
}

/// <summary>The decoder's prompt for one question (<see cref="VlmPipeline.Prompt"/>).</summary>
/// <param name="Embeddings">Input rows [T, C]: &lt;s&gt;, the kept visual tokens, the question.</param>
/// <param name="Positions">RoPE positions [T]: a kept visual token keeps its original one.</param>
/// <param name="IsVisual">Which rows are visual tokens.</param>
/// <param name="VisualKept">Visual tokens among the rows.</param>
/// <param name="Budget">The visual-token budget the method was given.</param>
public sealed record VlmPrompt(float[] Embeddings, int[] Positions, bool[] IsVisual, int VisualKept, int Budget);

/// <summary>One answer.</summary>
/// <param name="Token">The answer token id (argmax of <see cref="Logits"/>).</param>
/// <param name="Logits">Logits [V] after the question.</param>
/// <param name="VisualKept">Visual tokens entering the LM.</param>
/// <param name="Prefill">Decoder prefill details (tokens per layer, KV bytes).</param>
/// <param name="EncodeMs">Vision encoder time.</param>
/// <param name="ReduceMs">Projector and pre-LM reduction time.</param>
/// <param name="PrefillMs">Decoder prefill time.</param>
/// <param name="FirstTokenMs">Time to first (and only) answer token: encoder + reduction + prefill.</param>
public sealed record VlmAnswer(int Token, float[] Logits, int VisualKept, VlmPrefill Prefill, double EncodeMs, double ReduceMs,
    double PrefillMs, double FirstTokenMs);
