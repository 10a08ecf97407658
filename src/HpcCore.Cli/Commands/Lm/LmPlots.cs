// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Commands.Lm;

using System.Globalization;
using HpcCore.Models.Lm;
using ScottPlot;

/// <summary>Quality against KV budget for every policy evaluated (`lm eval --plot`).</summary>
internal static class LmPlots
{
    /// <summary>Two panels side by side: perplexity (relative to the full cache) and pass-key accuracy, one line per policy.</summary>
    public static void QualityVsBudget(IReadOnlyList<LmEvalResult> results, string path)
    {
        double full = results.Where(r => r.Budget >= 1).Select(r => r.Perplexity).DefaultIfEmpty(results.Min(r => r.Perplexity)).Min();
        var layout = new Multiplot();
        layout.AddPlots(2);
        layout.Layout = new ScottPlot.MultiplotLayouts.Columns();
        var perplexity = layout.GetPlot(0);
        var passkey = layout.GetPlot(1);
        foreach (var policy in results.GroupBy(r => r.Policy))
        {
            var points = policy.OrderBy(r => r.Budget).ToArray();
            double[] x = points.Select(r => 100 * r.Budget).ToArray();
            var a = perplexity.Add.Scatter(x, points.Select(r => 100 * (r.Perplexity / full - 1)).ToArray());
            a.LegendText = policy.Key;
            var b = passkey.Add.Scatter(x, points.Select(r => 100 * r.PasskeyAccuracy).ToArray());
            b.LegendText = policy.Key;
        }
        perplexity.Title("Held-out perplexity vs KV budget");
        perplexity.XLabel("budget (% of context)");
        perplexity.YLabel("perplexity above the full cache (%)");
        perplexity.Legend.Alignment = Alignment.UpperRight;
        passkey.Title("Pass-key retrieval vs KV budget");
        passkey.XLabel("budget (% of context)");
        passkey.YLabel("pass-key accuracy (%)");
        passkey.Legend.Alignment = Alignment.LowerRight;
        passkey.Axes.SetLimitsY(-5, 105);
        layout.SavePng(path, 1400, 550);
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
