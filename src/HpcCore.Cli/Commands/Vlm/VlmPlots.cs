// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Commands.Vlm;

using HpcCore.Models.Vlm;
using ScottPlot;

/// <summary>The accuracy-vs-prefill-time (Pareto) plot of `vlm eval --plot`.</summary>
internal static class VlmPlots
{
    /// <summary>Accuracy against median prefill ms, one series per method (its budgets), the Pareto front per mode dashed.</summary>
    public static void AccuracyVsPrefill(IReadOnlyList<VlmEvalResult> results, string path)
    {
        var plot = new Plot();
        foreach (var group in results.GroupBy(r => (r.Mode, r.Method)))
        {
            var rows = group.OrderBy(r => r.PrefillMs).ToArray();
            var s = plot.Add.Scatter(rows.Select(r => r.PrefillMs).ToArray(), rows.Select(r => 100 * r.Accuracy).ToArray());
            s.LegendText = $"{group.Key.Method} ({group.Key.Mode})";
            s.MarkerSize = 7;
            if (group.Key.Mode == "high-res") s.LinePattern = LinePattern.Dotted;
        }
        foreach (var mode in results.GroupBy(r => r.Mode))
        {
            var all = mode.ToArray();
            var front = all.Where(r => !all.Any(o => o != r && o.Accuracy >= r.Accuracy && o.PrefillMs < r.PrefillMs)).OrderBy(r => r.PrefillMs).ToArray();
            if (front.Length < 2) continue;
            var line = plot.Add.ScatterLine(front.Select(r => r.PrefillMs).ToArray(), front.Select(r => 100 * r.Accuracy).ToArray());
            line.LinePattern = LinePattern.Dashed;
            line.LineWidth = 2;
            line.LegendText = $"Pareto front ({mode.Key})";
        }
        plot.Legend.Alignment = Alignment.LowerRight;
        plot.Title("VLM visual-token reduction: accuracy vs prefill time");
        plot.XLabel("median prefill (ms)");
        plot.YLabel("held-out accuracy (%)");
        plot.SavePng(path, 1000, 650);
    }
}
