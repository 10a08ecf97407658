// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vlm;

using HpcCore.Diagnostics;
using HpcCore.Models.Images;

/// <summary>One row of <c>vlm eval</c>: a method at a visual-token budget over a question set.</summary>
/// <param name="Method">Method name.</param>
/// <param name="Mode">"base" or "high-res".</param>
/// <param name="Fraction">Requested share of the visual tokens.</param>
/// <param name="Questions">Questions scored.</param>
/// <param name="Accuracy">Share answered right (the whole answer token).</param>
/// <param name="VisualKept">Mean visual tokens entering the LM.</param>
/// <param name="VisualPerLayer">Mean visual tokens per decoder layer (in-LM methods drop more after their layer).</param>
/// <param name="PrefillMs">Median decoder prefill time.</param>
/// <param name="ReduceMs">Median projector + pre-LM reduction time.</param>
/// <param name="FirstTokenMs">Median time to the answer token (encoder + reduction + prefill).</param>
/// <param name="KvBytes">Mean F32 KV-cache bytes after prefill.</param>
/// <param name="PrefillSpeedup">
/// Prefill speed-up over the full model, interleaved: each question's full prefill is timed right before the method's,
/// and this is the median of the per-question ratios (1 for the full model itself, whose rows time it against itself).
/// </param>
/// <param name="SpeedupP25">25th percentile of those ratios.</param>
/// <param name="SpeedupP75">75th percentile.</param>
public sealed record VlmEvalResult(string Method, string Mode, double Fraction, int Questions, double Accuracy, double VisualKept,
    double VisualPerLayer, double PrefillMs, double ReduceMs, double FirstTokenMs, double KvBytes, double PrefillSpeedup,
    double SpeedupP25, double SpeedupP75);

/// <summary>One row of <c>vlm eval --kv-policy</c>: a visual method and a KV policy as one configuration over conversations.</summary>
/// <param name="Method">Visual method name.</param>
/// <param name="Policy">KV policy name.</param>
/// <param name="Mode">"base" or "high-res".</param>
/// <param name="Fraction">Requested share of the visual tokens.</param>
/// <param name="Conversations">Scenes, one conversation each.</param>
/// <param name="Turns">Questions asked over all conversations.</param>
/// <param name="Accuracy">Share of turns answered right.</param>
/// <param name="VisualKept">Mean visual tokens entering the LM.</param>
/// <param name="PrefillMs">Median prefill of a conversation's first prompt.</param>
/// <param name="FirstTokenMs">Median time to the first answer (encoder + reduction + prefill).</param>
/// <param name="DecodeMs">Median over conversations of the mean decode step.</param>
/// <param name="KvBytes">Mean F32 KV-cache bytes at a conversation's end.</param>
/// <param name="KvPeakBytes">Mean of each conversation's largest KV cache.</param>
public sealed record VlmChatEvalResult(string Method, string Policy, string Mode, double Fraction, int Conversations, int Turns,
    double Accuracy, double VisualKept, double PrefillMs, double FirstTokenMs, double DecodeMs, double KvBytes, double KvPeakBytes);

/// <summary>Scores methods and budgets on a held-out question list with one pipeline; encoder output is reused per scene.</summary>
public sealed class VlmEvaluator
{
    private readonly VlmPipeline _pipeline;
    private readonly IReadOnlyList<VlmQuestion> _questions;
    private readonly ImageSet _images;
    private readonly List<(VlmVision Vision, double Ms)> _scenes = [];
    private readonly int[] _sceneOf;
    private readonly List<int> _firstOf = [];  // the first question of each scene (questions of a scene are consecutive)
    private readonly VlmMethod _full = new("full", null, null);

    /// <summary>An evaluator of <paramref name="questions"/> (at most <paramref name="limit"/>) over <paramref name="images"/>.</summary>
    public VlmEvaluator(VlmPipeline pipeline, IReadOnlyList<VlmQuestion> questions, ImageSet images, int limit = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(questions);
        ArgumentNullException.ThrowIfNull(images);
        _pipeline = pipeline;
        _questions = [.. questions.Take(limit)];
        _images = images;
        _sceneOf = new int[_questions.Count];
        int[]? last = null;
        for (int i = 0; i < _questions.Count; i++)
        {
            var cells = _questions[i].Cells;
            if (last is null || !last.SequenceEqual(cells))
            {
                _scenes.Add(pipeline.Encode(VlmEvalSet.Scene(cells, images)));
                _firstOf.Add(i);
                last = cells;
            }
            _sceneOf[i] = _scenes.Count - 1;
        }
    }

    /// <summary>Questions scored.</summary>
    public int Count => _questions.Count;

    // Untimed runs before a configuration's timed pass: the JIT compiles a code path first unoptimised and swaps in the
    // optimised code only after 30 calls and a 100 ms delay, so the first configuration measured in a process would
    // otherwise time its first few hundred milliseconds cold (measured: a 196-token conversation prefill at 4.8 ms
    // timed first, 0.9 ms timed second).
    private const int WarmUpRuns = 16;
    private static readonly TimeSpan WarmUpTime = TimeSpan.FromMilliseconds(300);

    private static void WarmUp(Action<int> run)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < WarmUpRuns || clock.Elapsed < WarmUpTime; i++) run(i);
    }

    /// <summary>
    /// Answers every question with <paramref name="method"/> at <paramref name="fraction"/>; before each, the full
    /// model answers it too (timed, not scored) for the interleaved speed-up.
    /// </summary>
    public VlmEvalResult Run(VlmMethod method, double fraction)
    {
        ArgumentNullException.ThrowIfNull(method);
        int right = 0;
        double kept = 0, perLayer = 0, kv = 0;
        var prefill = new double[Count];
        var reduce = new double[Count];
        var first = new double[Count];
        var ratio = new double[Count];
        if (Count > 0)
            WarmUp(w =>
            {
                var q = _questions[w % Count];
                var (vision, ms) = _scenes[_sceneOf[w % Count]];
                _pipeline.Answer(vision, ms, q.Question, _full, 1, seed: w);
                _pipeline.Answer(vision, ms, q.Question, method, fraction, seed: w);
            });
        for (int i = 0; i < Count; i++)
        {
            var q = _questions[i];
            var (vision, ms) = _scenes[_sceneOf[i]];
            double fullMs = _pipeline.Answer(vision, ms, q.Question, _full, 1, seed: i).PrefillMs;
            var a = _pipeline.Answer(vision, ms, q.Question, method, fraction, seed: i);
            ratio[i] = fullMs / Math.Max(1e-6, a.PrefillMs);
            right += a.Token == q.Answer ? 1 : 0;
            kept += a.VisualKept;
            perLayer += a.Prefill.VisualPerLayer.Average();
            kv += a.Prefill.KvBytes;
            prefill[i] = a.PrefillMs;
            reduce[i] = a.ReduceMs;
            first[i] = a.FirstTokenMs;
        }
        int n = Math.Max(1, Count);
        Array.Sort(ratio);
        return new VlmEvalResult(method.Name, _pipeline.HighRes ? "high-res" : "base", fraction, Count, (double)right / n, kept / n,
            perLayer / n, Median(prefill), Median(reduce), Median(first), kv / n, Median(ratio),
            Quantiles.NearestRank(ratio, 0.25), Quantiles.NearestRank(ratio, 0.75));
    }

    /// <summary>
    /// Asks each scene's questions as one conversation (<see cref="VlmChat"/>): <paramref name="method"/>'s visual
    /// pruning at <paramref name="fraction"/> and <paramref name="chat"/>'s KV policy while the answers are decoded.
    /// </summary>
    public VlmChatEvalResult RunChat(VlmChat chat, VlmMethod method, double fraction)
    {
        ArgumentNullException.ThrowIfNull(chat);
        ArgumentNullException.ThrowIfNull(method);
        int right = 0, turns = 0;
        double kept = 0, kv = 0, peak = 0;
        var prefill = new double[_scenes.Count];
        var first = new double[_scenes.Count];
        var decode = new List<double>(_scenes.Count);
        if (_scenes.Count > 0) WarmUp(w => chat.Run(_scenes[w % _scenes.Count].Vision, 0, QuestionsOf(w % _scenes.Count), method, fraction, seed: w));
        for (int s = 0; s < _scenes.Count; s++)
        {
            int start = _firstOf[s], end = End(s);
            var questions = QuestionsOf(s);
            var (vision, ms) = _scenes[s];
            var r = chat.Run(vision, ms, questions, method, fraction, seed: start);
            for (int i = start; i < end; i++) right += r.Answers[i - start] == _questions[i].Answer ? 1 : 0;
            turns += end - start;
            kept += r.VisualKept;
            kv += r.KvBytes;
            peak += r.KvPeakBytes;
            prefill[s] = r.PrefillMs;
            first[s] = r.FirstTokenMs;
            if (end - start > 1) decode.Add(r.DecodeMsPerToken);
        }
        int n = Math.Max(1, _scenes.Count);
        return new VlmChatEvalResult(method.Name, chat.Policy.Name, _pipeline.HighRes ? "high-res" : "base", fraction, _scenes.Count,
            turns, (double)right / Math.Max(1, turns), kept / n, Median(prefill), Median(first), Median([.. decode]), kv / n, peak / n);
    }

    private int End(int scene) => scene + 1 < _firstOf.Count ? _firstOf[scene + 1] : Count;

    private List<int[]> QuestionsOf(int scene) => [.. _questions.Skip(_firstOf[scene]).Take(End(scene) - _firstOf[scene]).Select(q => q.Question)];

    // The JSON report needs a number: a phase with no samples (no decode step in a one-question conversation) is 0.
    private static double Median(double[] x) => x.Length == 0 ? 0 : Quantiles.Median(x);
}
