// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vlm;

using System.Diagnostics;
using HpcCore.Models.KvCache;
using HpcCore.Models.Lm;

/// <summary>
/// A conversation about one scene in LLaVA's multi-turn format (<c>&lt;s&gt; image q1 a1 q2 a2 ...</c>, the format
/// the model was trained on), run as two reductions in one configuration: the method's pre-LM visual pruning cuts the
/// prompt, and a <see cref="KvPolicy"/> evicts from the KV cache while the answers are decoded. The first question's
/// prompt is prefilled into an <see cref="LmDecoder"/>'s paged cache at the kept tokens' original positions; every later
/// token (the model's own previous answer, then the next question) is decoded one at a time under the policy.
/// In-LM methods (FastV, ToDRE stage 2, AIM) prune inside <see cref="VlmLanguageModel"/>'s prefill and are refused here.
/// </summary>
public sealed class VlmChat : IDisposable
{
    private readonly VlmPipeline _pipeline;
    private readonly LmDecoder _decoder;
    private readonly int _kvBytesPerToken;

    /// <summary>A conversation runner over <paramref name="pipeline"/>'s decoder weights (borrowed) with <paramref name="policy"/>.</summary>
    public VlmChat(VlmPipeline pipeline, KvPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(policy);
        _pipeline = pipeline;
        var w = pipeline.Weights;
        _decoder = new LmDecoder(w.LmConfig, w.Lm, w.Lm.TokenEmbedding.Backend, new LmDecoderOptions(Policy: policy));
        _kvBytesPerToken = 2 * w.LmConfig.HeadDim * sizeof(float);
    }

    /// <summary>The KV policy in use.</summary>
    public KvPolicy Policy => _decoder.Policy;

    /// <summary>
    /// Asks <paramref name="questions"/> (token ids ending in '?') in turn about the scene <paramref name="vision"/>
    /// (from <see cref="VlmPipeline.Encode"/>; <paramref name="encodeMs"/> its time) with <paramref name="method"/> at
    /// <paramref name="fraction"/> of the visual tokens; each answer is the argmax after its question and is fed back.
    /// </summary>
    /// <exception cref="ArgumentException">No question, a question not ending in '?', or an in-LM method.</exception>
    public VlmChatResult Run(VlmVision vision, double encodeMs, IReadOnlyList<int[]> questions, VlmMethod method, double fraction = 1, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(questions);
        ArgumentNullException.ThrowIfNull(method);
        if (questions.Count == 0) throw new ArgumentException("VlmChat.Run: no question", nameof(questions));
        if (method.InLm is not null)
            throw new ArgumentException($"VlmChat.Run: method '{method.Name}' prunes inside the LM's prefill, which the KV-cache decoder does not run; use a pre-LM method ({string.Join(", ", VlmMethod.PreLm)}).", nameof(method));
        foreach (var q in questions)
            if (q is null || q.Length == 0 || q[^1] != VlmVocabulary.Question)
                throw new ArgumentException("VlmChat.Run: a question is token ids ending in '?'", nameof(questions));

        _decoder.Reset();
        var clock = Stopwatch.StartNew();
        var prompt = _pipeline.Prompt(vision, questions[0], method, fraction, seed);
        double reduceMs = clock.Elapsed.TotalMilliseconds;
        var answers = new int[questions.Count];
        ReadOnlySpan<float> logits = _decoder.PrefillEmbeddings(prompt.Embeddings, prompt.Positions);
        answers[0] = VlmPipeline.Argmax(logits);
        double prefillMs = clock.Elapsed.TotalMilliseconds - reduceMs;
        // The whole prompt sits in the cache until the policy's post-prefill compression (SnapKV, StreamingLLM) runs.
        var config = _pipeline.Weights.LmConfig;
        long peak = Math.Max((long)prompt.Positions.Length * config.Layers * config.KvHeads, _decoder.Cache.TokensHeld(_decoder.SequenceIndex));
        int steps = 0;
        double decodeStart = clock.Elapsed.TotalMilliseconds;
        for (int turn = 1; turn < questions.Count; turn++)
        {
            logits = _decoder.Decode(answers[turn - 1]);
            foreach (int token in questions[turn]) logits = _decoder.Decode(token);
            steps += 1 + questions[turn].Length;
            answers[turn] = VlmPipeline.Argmax(logits);
            peak = Math.Max(peak, _decoder.Cache.TokensHeld(_decoder.SequenceIndex));
        }
        double decodeMs = clock.Elapsed.TotalMilliseconds - decodeStart;
        long held = _decoder.Cache.TokensHeld(_decoder.SequenceIndex);
        return new VlmChatResult(answers, logits.ToArray(), prompt.VisualKept, reduceMs, prefillMs, encodeMs + reduceMs + prefillMs,
            steps == 0 ? 0 : decodeMs / steps, held * _kvBytesPerToken, peak * _kvBytesPerToken);
    }

    /// <inheritdoc />
    public void Dispose() => _decoder.Dispose();
}

/// <summary>One conversation (<see cref="VlmChat.Run"/>).</summary>
/// <param name="Answers">The answer token of each turn.</param>
/// <param name="LastLogits">Logits [V] after the last question.</param>
/// <param name="VisualKept">Visual tokens entering the LM.</param>
/// <param name="ReduceMs">Projector and pre-LM reduction time.</param>
/// <param name="PrefillMs">The first prompt's prefill into the cache.</param>
/// <param name="FirstTokenMs">Time to the first answer: encoder + reduction + prefill.</param>
/// <param name="DecodeMsPerToken">Mean decode step (answers fed back and later questions) under the policy.</param>
/// <param name="KvBytes">F32 KV-cache bytes held at the end, summed over layers and kv heads.</param>
/// <param name="KvPeakBytes">The most held at any time: the whole first prompt (cached before the policy compresses it) or after any turn.</param>
public sealed record VlmChatResult(int[] Answers, float[] LastLogits, int VisualKept, double ReduceMs, double PrefillMs, double FirstTokenMs,
    double DecodeMsPerToken, long KvBytes, long KvPeakBytes);
