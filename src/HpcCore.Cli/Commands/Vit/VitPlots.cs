// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Commands.Vit;

using ScottPlot;

/// <summary>The accuracy-vs-throughput (Pareto) plot of `vit eval --plot`.</summary>
internal static class VitPlots
{
    /// <summary>Top-1 against images/s at the large batch, one labelled point per method, the Pareto front joined.</summary>
    public static void AccuracyVsThroughput(IReadOnlyList<VitEvalResult> results, string path)
    {
        var plot = new Plot();
        foreach (var r in results)
        {
            var point = plot.Add.Marker(r.ImagesPerSecondBatchN, 100 * r.Top1, MarkerShape.FilledCircle, 8);
            point.LegendText = r.Method;
            var label = plot.Add.Text(r.Method, r.ImagesPerSecondBatchN, 100 * r.Top1);
            label.LabelFontSize = 11;
            label.OffsetX = 6;
            label.OffsetY = -6;
        }
        // Pareto front: methods no other method beats on both accuracy and speed, by increasing speed.
        var front = results.Where(r => !results.Any(o => o != r && o.Top1 >= r.Top1 && o.ImagesPerSecondBatchN > r.ImagesPerSecondBatchN))
            .OrderBy(r => r.ImagesPerSecondBatchN).ToArray();
        if (front.Length > 1)
        {
            var line = plot.Add.ScatterLine(front.Select(r => r.ImagesPerSecondBatchN).ToArray(), front.Select(r => 100 * r.Top1).ToArray());
            line.LinePattern = LinePattern.Dashed;
            line.LegendText = "Pareto front";
        }
        int batch = results.Count > 0 ? results[0].LargeBatch : 0;
        // Fast, accurate methods sit top right: keep the legend out of their way and leave room for the labels.
        plot.Legend.Alignment = Alignment.LowerLeft;
        plot.Axes.Margins(0.15, 0.1);
        plot.Title("ViT token reduction: accuracy vs throughput");
        plot.XLabel($"images/s (batch {batch})");
        plot.YLabel("top-1 accuracy (%)");
        plot.SavePng(path, 900, 600);
    }
}
