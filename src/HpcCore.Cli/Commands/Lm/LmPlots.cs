// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Commands.Lm;

using System.Globalization;
using HpcCore.Cli.Plots;
using HpcCore.Models.Lm;
using ScottPlot;

/// <summary>Quality against KV budget for every policy evaluated (`lm eval --plot`).</summary>
internal static class LmPlots
{
    /// <summary>
    /// Two panels side by side: perplexity (relative to the full cache) and pass-key accuracy, one line per policy with
    /// the same colour and marker in both, and one legend outside the right panel.
    /// </summary>
    public static void QualityVsBudget(IReadOnlyList<LmEvalResult> results, string path)
    {
        double full = results.Where(r => r.Budget >= 1).Select(r => r.Perplexity).DefaultIfEmpty(results.Min(r => r.Perplexity)).Min();
        var layout = new Multiplot();
        layout.AddPlots(2);
        layout.Layout = new ScottPlot.MultiplotLayouts.Columns();
        var perplexity = layout.GetPlot(0);
        var passkey = layout.GetPlot(1);
        int series = 0;
        foreach (var policy in results.GroupBy(r => r.Policy))
        {
            var points = policy.OrderBy(r => r.Budget).ToArray();
            double[] x = points.Select(r => 100 * r.Budget).ToArray();
            var a = perplexity.Add.Scatter(x, points.Select(r => 100 * (r.Perplexity / full - 1)).ToArray(), SeriesStyle.ColorOf(series));
            var b = passkey.Add.Scatter(x, points.Select(r => 100 * r.PasskeyAccuracy).ToArray(), SeriesStyle.ColorOf(series));
            foreach (var s in new[] { a, b })
            {
                s.MarkerShape = SeriesStyle.MarkerOf(series);
                s.MarkerSize = 8;
            }
            b.LegendText = policy.Key;
            series++;
        }
        perplexity.Title("Held-out perplexity vs KV budget");
        perplexity.XLabel("budget (% of context)");
        perplexity.YLabel("perplexity above the full cache (%)");
        passkey.Title("Pass-key retrieval vs KV budget");
        passkey.XLabel("budget (% of context)");
        passkey.YLabel("pass-key accuracy (%)");
        SeriesStyle.LegendOutside(passkey);
        passkey.Axes.SetLimitsY(-5, 105);
        layout.SavePng(path, 1500, 550);
    }

    /// <summary>A text chart per policy: one bar per budget, length proportional to perplexity relative to the worst.</summary>
    public static void TextChart(IReadOnlyList<LmEvalResult> results)
    {
        double worst = results.Max(x => x.Perplexity);
        foreach (var policy in results.GroupBy(r => r.Policy))
        {
            Console.WriteLine();
            Console.WriteLine($"{policy.Key}: perplexity vs budget (shorter is better); # = pass-key accuracy");
            foreach (var x in policy)
            {
                int bar = (int)Math.Round(40 * x.Perplexity / worst);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{x.Budget,5:F2} |{new string('=', bar),-40}| {x.Perplexity:F3}  {new string('#', (int)Math.Round(10 * x.PasskeyAccuracy)),-10} {x.PasskeyAccuracy:P0}"));
            }
        }
    }
}
