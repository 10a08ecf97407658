// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Tests;

using System.Text.Json;
using HpcCore.Cli.Errors;
using HpcCore.Models.Onnx;
using Xunit;

/// <summary>
/// `encoder prepare`, `embed --json` and `encoder eval --json` end to end on all-MiniLM-L6-v2 (issue #17), run only
/// where its NuGet package is restored (`dotnet restore tools/encoder-models`, which build.sh does).
/// </summary>
[Collection(nameof(ConsoleSwapping))]
public sealed class EncoderCommandTests : IClassFixture<EncoderCommandTests.PreparedMiniLm>
{
    private readonly PreparedMiniLm _model;

    public EncoderCommandTests(PreparedMiniLm model) => _model = model;

    /// <summary>The MiniLM folder written once by `hpccore encoder prepare minilm --out DIR`.</summary>
    public sealed class PreparedMiniLm : IDisposable
    {
        public PreparedMiniLm()
        {
            if (SentenceEncoderPackage.All.First(p => p.Key == "minilm").FindAssembly() is null) return;
            Folder = Directory.CreateTempSubdirectory("hpccore-cli-minilm-").FullName;
            (PrepareCode, _, PrepareErr) = CliRun.Run("encoder", "prepare", "minilm", "--out", Folder);
        }

        public string? Folder { get; }

        public int PrepareCode { get; }

        public string PrepareErr { get; } = "";

        public void Dispose()
        {
            if (Folder is not null) Directory.Delete(Folder, recursive: true);
        }
    }

    private sealed class MiniLmFactAttribute : FactAttribute
    {
        public MiniLmFactAttribute()
        {
            var package = SentenceEncoderPackage.All.First(p => p.Key == "minilm");
            if (package.FindAssembly() is null) Skip = package.MissingMessage;
        }
    }

    [MiniLmFact]
    public void Prepare_WritesTheHuggingFaceFolder()
    {
        Assert.True(_model.PrepareCode == ExitCodes.Ok, _model.PrepareErr);
        foreach (var file in new[] { "config.json", "model.safetensors", "vocab.txt" })
            Assert.True(File.Exists(Path.Combine(_model.Folder!, file)), file);
    }

    [MiniLmFact]
    public void Embed_Json_KeepsInputOrder_UnitVectors_AndTheDocumentedShape()
    {
        string input = Path.Combine(_model.Folder!, "texts.json");
        File.WriteAllText(input, """["A man is playing a guitar.", "The stock market fell sharply today.", "A man is playing a guitar."]""");
        var (code, stdout, stderr) = CliRun.Run("embed", "--model", _model.Folder!, "--input", input, "--json");
        Assert.True(code == ExitCodes.Ok, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal(["model", "dim", "embeddings"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(384, root.GetProperty("dim").GetInt32());
        var e = root.GetProperty("embeddings").EnumerateArray().Select(v => v.EnumerateArray().Select(x => x.GetDouble()).ToArray()).ToArray();
        Assert.Equal(3, e.Length);
        Assert.All(e, v => Assert.Equal(384, v.Length));
        Assert.All(e, v => Assert.Equal(1.0, Math.Sqrt(v.Sum(x => x * x)), 5));
        double Cos(double[] a, double[] b) => a.Zip(b, (x, y) => x * y).Sum();
        Assert.Equal(1.0, Cos(e[0], e[2]), 6);
        Assert.True(Cos(e[0], e[1]) < 0.5, $"unrelated texts have cosine {Cos(e[0], e[1]):F3}");
    }

    [MiniLmFact]
    public void EncoderEval_Json_ScoresEveryMethod_WithSpeedSpreads()
    {
        string set = Path.Combine(_model.Folder!, "set.json");
        File.WriteAllText(set, """
            {"name": "tiny", "queries": ["a dog runs in the park", "the cat sleeps on the sofa", "rain falls on the city", "a chef cooks pasta"],
             "documents": ["a puppy running across grass", "a kitten napping on a couch", "a wet street in a storm", "spaghetti being prepared in a kitchen"]}
            """);
        var (code, stdout, stderr) = CliRun.Run("encoder", "eval", "--model", _model.Folder!, "--set", set, "--methods", "none", "evit:keep=0.5",
            "--rounds", "2", "--json");
        Assert.True(code == ExitCodes.Ok, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(["none", "evit:keep=0.5"], lines.Select(l => l.GetProperty("method").GetString()));
        Assert.Equal(1.0, lines[0].GetProperty("cosine_to_full").GetDouble(), 5);
        Assert.Equal(1.0, lines[0].GetProperty("recall_at_1").GetDouble());
        Assert.True(lines[1].GetProperty("flops_ratio").GetDouble() < 1);
        var spread = lines[1].GetProperty("speedup_p25_p75").EnumerateArray().Select(x => x.GetDouble()).ToArray();
        Assert.True(spread[0] <= spread[1]);
    }

    [Fact]
    public void Embed_MissingModelFolder_IsInputFile()
    {
        string input = Path.Combine(Path.GetTempPath(), $"hpccore-embed-{Guid.NewGuid():N}.json");
        File.WriteAllText(input, """["x"]""");
        try
        {
            var (code, _, stderr) = CliRun.Run("embed", "--model", "no-such-encoder-folder", "--input", input, "--json");
            Assert.Equal(ExitCodes.InputFile, code);
            Assert.Contains("no-such-encoder-folder", Assert.Single(ExitCodeTests.Lines(stderr)), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(input);
        }
    }
}
