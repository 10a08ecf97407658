// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vlm;

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
public sealed record VlmEvalResult(string Method, string Mode, double Fraction, int Questions, double Accuracy, double VisualKept,
    double VisualPerLayer, double PrefillMs, double ReduceMs, double FirstTokenMs, double KvBytes);

/// <summary>Scores methods and budgets on a held-out question list with one pipeline; encoder output is reused per scene.</summary>
public sealed class VlmEvaluator
{
    private readonly VlmPipeline _pipeline;
    private readonly IReadOnlyList<VlmQuestion> _questions;
    private readonly ImageSet _images;
    private readonly List<(VlmVision Vision, double Ms)> _scenes = [];
    private readonly int[] _sceneOf;

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
                last = cells;
            }
            _sceneOf[i] = _scenes.Count - 1;
        }
    }

    /// <summary>Questions scored.</summary>
    public int Count => _questions.Count;

    /// <summary>Answers every question with <paramref name="method"/> at <paramref name="fraction"/>.</summary>
    public VlmEvalResult Run(VlmMethod method, double fraction)
    {
        ArgumentNullException.ThrowIfNull(method);
        int right = 0;
        double kept = 0, perLayer = 0, kv = 0;
        var prefill = new double[Count];
        var reduce = new double[Count];
        var first = new double[Count];
        for (int i = 0; i < Count; i++)
        {
            var q = _questions[i];
            var (vision, ms) = _scenes[_sceneOf[i]];
            var a = _pipeline.Answer(vision, ms, q.Question, method, fraction, seed: i);
            right += a.Token == q.Answer ? 1 : 0;
            kept += a.VisualKept;
            perLayer += a.Prefill.VisualPerLayer.Average();
            kv += a.Prefill.KvBytes;
            prefill[i] = a.PrefillMs;
            reduce[i] = a.ReduceMs;
            first[i] = a.FirstTokenMs;
        }
        int n = Math.Max(1, Count);
        return new VlmEvalResult(method.Name, _pipeline.HighRes ? "high-res" : "base", fraction, Count, (double)right / n, kept / n,
            perLayer / n, Median(prefill), Median(reduce), Median(first), kv / n);
    }

    private static double Median(double[] x)
    {
        if (x.Length == 0) return 0;
        var s = x.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }
}
