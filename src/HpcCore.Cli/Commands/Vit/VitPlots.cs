// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Commands.Vit;

using HpcCore.Cli.Plots;
using ScottPlot;

/// <summary>The accuracy-vs-throughput (Pareto) plot of `vit eval --plot`.</summary>
internal static class VitPlots
{
    /// <summary>
    /// Top-1 against images/s at the large batch, one point per method (its own colour and marker, named in the legend
    /// outside the axes rather than by labels that would overlap), the Pareto front joined.
    /// </summary>
    public static void AccuracyVsThroughput(IReadOnlyList<VitEvalResult> results, string path)
    {
        var plot = new Plot();
        for (int i = 0; i < results.Count; i++)
        {
            var r = results[i];
            var point = plot.Add.Marker(r.ImagesPerSecondBatchN, 100 * r.Top1, SeriesStyle.MarkerOf(i), 10, SeriesStyle.ColorOf(i));
            point.LegendText = r.Method;
        }
        // Pareto front: methods no other method beats on both accuracy and speed, by increasing speed.
        var front = results.Where(r => !results.Any(o => o != r && o.Top1 >= r.Top1 && o.ImagesPerSecondBatchN > r.ImagesPerSecondBatchN))
            .OrderBy(r => r.ImagesPerSecondBatchN).ToArray();
        if (front.Length > 1)
        {
            var line = plot.Add.ScatterLine(front.Select(r => r.ImagesPerSecondBatchN).ToArray(), front.Select(r => 100 * r.Top1).ToArray());
            line.LinePattern = LinePattern.Dashed;
            line.Color = Colors.Gray;
            line.LegendText = "Pareto front";
        }
        int batch = results.Count > 0 ? results[0].LargeBatch : 0;
        SeriesStyle.LegendOutside(plot);
        plot.Axes.Margins(0.1, 0.1);
        plot.Title("ViT token reduction: accuracy vs throughput");
        plot.XLabel($"images/s (batch {batch})");
        plot.YLabel("top-1 accuracy (%)");
        plot.SavePng(path, 1000, 600);
    }
}
