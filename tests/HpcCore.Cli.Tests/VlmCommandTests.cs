// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Tests;

using System.Text.Json;
using HpcCore.Cli.Errors;
using HpcCore.Models.Images;
using HpcCore.Models.Vlm;
using Xunit;

/// <summary>
/// `vlm ask` and `vlm eval` on the committed model: a conversation answers every question in turn, as many answers as
/// questions, the same first answer as a single question; `--image` answers as `--cells` for the same scene; `vlm eval --kv-policy` adds the conversation rows to its
/// JSON; misuse is one line and exit code 2 (issue #20).
/// </summary>
[Collection(nameof(ConsoleSwapping))]
public sealed class VlmCommandTests
{
    private static string Asset(params string[] parts) => Path.Combine([CliRun.RepoRoot, "assets", .. parts]);

    private static string[] Common(string verb) =>
    [
        "vlm", verb, "--model", Asset("vlm", "vlm-grid.safetensors"), "--vit", Asset("vlm", "vision.safetensors"),
        "--data", Asset("data", "fashion-mnist"), "--threads", "1",
    ];

    [Fact]
    public void Ask_Conversation_AnswersEachQuestion_FirstAsASingleQuestion()
    {
        string[] scene = ["--cells", "3,-1,17,42"];
        var (code, stdout, stderr) = CliRun.Run([.. Common("ask"), .. scene, "--question", "how many shirts",
            "--question", "what is at row 1 column 2", "--question", "is there a bag", "--kv-policy", "streaming", "--kv-budget", "16"]);
        Assert.True(code == ExitCodes.Ok, stderr);
        var answers = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, answers.Length);
        Assert.Contains("3 turns, KV policy streaming", stderr, StringComparison.Ordinal);
        var single = CliRun.Run([.. Common("ask"), .. scene, "--question", "how many shirts"]);
        Assert.True(single.Code == ExitCodes.Ok, single.Err);
        Assert.Equal(answers[0], single.Out.Trim());
    }

    [Fact]
    public void Ask_Image_AnswersAsTheSameSceneGivenByCells()
    {
        // The scene of --cells 3,-1,17,42 written as a 56 x 56 PNG with its exact pixels: the same answers, base and
        // high-res, with and without pruning.
        int[] cells = [3, -1, 17, 42];
        var images = ImageSet.LoadIdx(Asset("data", "fashion-mnist"));
        byte[] pixels = [.. VlmEvalSet.Scene(cells, images).Select(v => (byte)Math.Round(v * 255))];
        string dir = Directory.CreateTempSubdirectory("hpccore-cli-vlm-").FullName;
        try
        {
            string png = Path.Combine(dir, "scene.png");
            File.WriteAllBytes(png, TestPng.Grey(VlmScene.Side, VlmScene.Side, pixels));
            string[] questions = ["--question", "what is at row 2 column 2", "--question", "how many bags", "--question", "is there a trouser"];
            foreach (string[] options in new[] { Array.Empty<string>(), ["--high-res", "--method", "mmtok", "--keep", "0.25"] })
            {
                var byImage = CliRun.Run([.. Common("ask"), "--image", png, .. questions, .. options]);
                var byCells = CliRun.Run([.. Common("ask"), "--cells", string.Join(',', cells), .. questions, .. options]);
                Assert.True(byImage.Code == ExitCodes.Ok, byImage.Err);
                Assert.True(byCells.Code == ExitCodes.Ok, byCells.Err);
                Assert.Equal(3, byImage.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
                Assert.Equal(byCells.Out, byImage.Out);
            }

            // Another size is refused in one line naming the file and the size the model takes.
            string small = Path.Combine(dir, "small.png");
            File.WriteAllBytes(small, TestPng.Grey(28, 28, new byte[28 * 28]));
            var (code, _, stderr) = CliRun.Run([.. Common("ask"), "--image", small, "--question", "how many bags"]);
            Assert.NotEqual(ExitCodes.Ok, code);
            Assert.Contains("small.png' is 28x28; the VLM takes 56x56", stderr, StringComparison.Ordinal);
            Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Ask_Conversation_RefusesAnInLmMethod()
    {
        var (code, _, stderr) = CliRun.Run([.. Common("ask"), "--cells", "3,-1,17,42", "--question", "how many shirts",
            "--question", "is there a bag", "--method", "fastv", "--keep", "0.5"]);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("--method fastv prunes inside the LM", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Eval_KvPolicy_AddsConversationRows()
    {
        var (code, stdout, stderr) = CliRun.Run([.. Common("eval"), "--eval-set", Asset("vlm", "eval-set.json"), "--mode", "base", "--methods", "full,vtc,fastv", "--keep", "0.25",
            "--limit", "8", "--kv-policy", "full,h2o", "--kv-budget", "20", "--json"]);
        Assert.True(code == ExitCodes.Ok, stderr);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal(3, doc.RootElement.GetProperty("questions").GetArrayLength());
        var chats = doc.RootElement.GetProperty("conversations").EnumerateArray().ToList();
        // full and vtc (fastv is in-LM) under each policy; 8 questions are 2 scenes of 4.
        Assert.Equal(["full/full", "vtc/full", "full/h2o", "vtc/h2o"], chats.Select(c => $"{c.GetProperty("Method").GetString()}/{c.GetProperty("Policy").GetString()}"));
        Assert.All(chats, c => Assert.Equal(8, c.GetProperty("Turns").GetInt32()));
        Assert.All(chats, c => Assert.Equal(2, c.GetProperty("Conversations").GetInt32()));
        double FullKv(string policy) => chats.First(c => c.GetProperty("Method").GetString() == "full" && c.GetProperty("Policy").GetString() == policy).GetProperty("KvBytes").GetDouble();
        Assert.True(FullKv("h2o") < FullKv("full"), "H2O at budget 20 must hold less than the full cache");
    }

    [Fact]
    public void Eval_BadKvPolicy_IsAUsageError()
    {
        var (code, _, stderr) = CliRun.Run([.. Common("eval"), "--kv-policy", "h2o:window=3"]);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("--kv-policy", stderr, StringComparison.Ordinal);
    }
}
