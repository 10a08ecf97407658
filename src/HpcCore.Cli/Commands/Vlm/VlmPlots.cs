// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Commands.Vlm;

using HpcCore.Models.Vlm;
using ScottPlot;

/// <summary>The accuracy-vs-prefill-time (Pareto) plot of `vlm eval --plot`.</summary>
internal static class VlmPlots
{
    // One colour per method (VlmMethod.Known order), the same in both modes: Tableau's ten and black.
    private static readonly string[] MethodColors =
        ["#000000", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

    /// <summary>
    /// Accuracy against median prefill ms, one series per method and mode (its budgets; a method keeps its colour,
    /// base solid with circles, high-res dotted with squares), the Pareto front per mode dashed.
    /// </summary>
    public static void AccuracyVsPrefill(IReadOnlyList<VlmEvalResult> results, string path)
    {
        var plot = new Plot();
        foreach (var group in results.GroupBy(r => (r.Mode, r.Method)))
        {
            var rows = group.OrderBy(r => r.PrefillMs).ToArray();
            var s = plot.Add.Scatter(rows.Select(r => r.PrefillMs).ToArray(), rows.Select(r => 100 * r.Accuracy).ToArray());
            int index = VlmMethod.Known.ToList().IndexOf(group.Key.Method);
            s.Color = Color.FromHex(MethodColors[Math.Max(0, index) % MethodColors.Length]);
            s.MarkerSize = 7;
            bool highRes = group.Key.Mode == "high-res";
            // One legend entry per method: its base series, or its high-res one when base mode was not run.
            bool labelled = !highRes || !results.Any(r => r.Mode != "high-res" && r.Method == group.Key.Method);
            s.LegendText = labelled ? group.Key.Method : "";
            if (highRes)
            {
                s.LinePattern = LinePattern.Dotted;
                s.MarkerShape = MarkerShape.FilledSquare;
            }
        }
        foreach (var mode in results.GroupBy(r => r.Mode))
        {
            var all = mode.ToArray();
            var front = all.Where(r => !all.Any(o => o != r && o.Accuracy >= r.Accuracy && o.PrefillMs < r.PrefillMs)).OrderBy(r => r.PrefillMs).ToArray();
            if (front.Length < 2) continue;
            var line = plot.Add.ScatterLine(front.Select(r => r.PrefillMs).ToArray(), front.Select(r => 100 * r.Accuracy).ToArray());
            line.LinePattern = LinePattern.Dashed;
            line.LineWidth = 2;
            line.Color = Color.FromHex(mode.Key == "high-res" ? "#a0a0a0" : "#404040");
            line.LegendText = $"Pareto front ({mode.Key})";
        }
        plot.Legend.Alignment = Alignment.LowerRight;
        plot.Title("VLM visual-token reduction: accuracy vs prefill time (base: circles, solid; high-res: squares, dotted)");
        plot.XLabel("median prefill (ms)");
        plot.YLabel("held-out accuracy (%)");
        plot.SavePng(path, 1000, 650);
    }
}
