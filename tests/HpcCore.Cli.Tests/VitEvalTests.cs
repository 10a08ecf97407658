// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Tests;

using System.Text.Json;
using HpcCore.Cli.Errors;
using Xunit;

/// <summary>
/// `vit eval` on the committed model: every row carries its per-round speed-up spread, and the table labels the plain
/// model's own ratio as the noise floor rather than a gain (issue #18).
/// </summary>
[Collection(nameof(ConsoleSwapping))]
public sealed class VitEvalTests
{
    private static string[] Args(params string[] extra) =>
    [
        "vit", "eval", "--model", Path.Combine(CliRun.RepoRoot, "assets", "vit", "vit-fmnist.safetensors"),
        "--data", Path.Combine(CliRun.RepoRoot, "assets", "data", "fashion-mnist"), "--methods", "baseline,tome:r=8",
        "--limit", "16", "--batch", "8", "--rounds", "3", "--threads", "1", .. extra,
    ];

    [Fact]
    public void Json_EveryRowHasOrderedGainSpreads()
    {
        var (code, stdout, stderr) = CliRun.Run(Args("--json"));
        Assert.True(code == ExitCodes.Ok, stderr);
        using var doc = JsonDocument.Parse(stdout);
        foreach (var row in doc.RootElement.EnumerateArray())
            foreach (var key in new[] { "SpreadBatch1", "SpreadBatchN" })
            {
                var s = row.GetProperty(key);
                double Get(string name) => s.GetProperty(name).GetDouble();
                Assert.True(Get("Min") <= Get("P25") && Get("P25") <= Get("Median") && Get("Median") <= Get("P75") && Get("P75") <= Get("Max"), $"{key}: {s}");
            }
    }

    [Fact]
    public void Table_LabelsThePlainModelsSelfRatioAsTheNoiseFloor()
    {
        var (code, stdout, stderr) = CliRun.Run(Args());
        Assert.True(code == ExitCodes.Ok, stderr);
        // Spectre wraps cells at the redirected console's 80 columns: the plain model's row (the first) holds the label
        // in both gain columns, and no other row does.
        var rows = stdout.Split('\n').Where(l => l.StartsWith('│')).ToArray();
        int first = Array.FindIndex(rows, l => l.Contains("baseli", StringComparison.Ordinal));
        int second = Array.FindIndex(rows, l => l.Contains("tome:r", StringComparison.Ordinal));
        Assert.True(first >= 0 && second > first, stdout);
        Assert.Equal(2, rows[first].Split("noise").Length - 1);
        Assert.DoesNotContain(rows.Skip(second), l => l.Contains("noise", StringComparison.Ordinal));
    }
}
