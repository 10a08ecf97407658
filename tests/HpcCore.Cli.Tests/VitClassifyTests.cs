// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Tests;

using System.Text.Json;
using HpcCore.Cli.Errors;
using HpcCore.Models.Images;
using Xunit;

/// <summary>
/// `vit classify IMAGE...` on the committed Fashion-MNIST ViT: the first test images, written here as PNG files with
/// their exact pixels, get the logits PyTorch gave for them (assets/vit/golden.json, written by
/// tools/train/vit/export.py) and those logits' top class.
/// </summary>
[Collection(nameof(ConsoleSwapping))]
public sealed class VitClassifyTests : IDisposable
{
    // The golden's logits come from float32 PyTorch; ours from float32 on another summation order.
    private const double LogitTolerance = 1e-3;

    private readonly string _dir = Directory.CreateTempSubdirectory("hpccore-cli-vit-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Model => Path.Combine(CliRun.RepoRoot, "assets", "vit", "vit-fmnist.safetensors");

    [Fact]
    public void Png_GetsPyTorchsLogitsAndTopClass()
    {
        var images = IdxFile.Read(Path.Combine(CliRun.RepoRoot, "assets", "data", "fashion-mnist", "t10k-images-idx3-ubyte.gz"));
        int h = images.Dims[1], w = images.Dims[2];
        string[] files = [.. Enumerable.Range(0, 3).Select(i =>
        {
            string path = Path.Combine(_dir, $"test{i}.png");
            File.WriteAllBytes(path, TestPng.Grey(w, h, images.Data.AsSpan(i * h * w, h * w).ToArray()));
            return path;
        })];
        var (code, stdout, stderr) = CliRun.Run(["vit", "classify", "--model", Model, "--top", "3", "--threads", "1", "--json", .. files]);
        Assert.True(code == ExitCodes.Ok, stderr);
        using var golden = JsonDocument.Parse(File.ReadAllText(Path.Combine(CliRun.RepoRoot, "assets", "vit", "golden.json")));
        var expected = golden.RootElement.GetProperty("logits");
        var results = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(3, results.GetArrayLength());
        for (int i = 0; i < 3; i++)
        {
            var r = results[i];
            Assert.Equal($"test{i}.png", r.GetProperty("File").GetString());
            float[] want = [.. expected[i].EnumerateArray().Select(e => e.GetSingle())];
            float[] got = [.. r.GetProperty("Logits").EnumerateArray().Select(e => e.GetSingle())];
            Assert.Equal(want.Length, got.Length);
            for (int c = 0; c < want.Length; c++)
                Assert.True(Math.Abs(want[c] - got[c]) <= LogitTolerance * (1 + Math.Abs(want[c])), $"image {i} class {c}: torch {want[c]}, ours {got[c]}");
            int top = Array.IndexOf(want, want.Max());
            Assert.Equal(top, r.GetProperty("Classes")[0].GetInt32());
            Assert.Equal(3, r.GetProperty("Probabilities").GetArrayLength());
        }
    }

    [Fact]
    public void NotAnImage_IsFormatError_NamingTheFile()
    {
        string path = Path.Combine(_dir, "notes.png");
        File.WriteAllText(path, "not an image");
        var (code, _, stderr) = CliRun.Run("vit", "classify", "--model", Model, path);
        Assert.Equal(ExitCodes.Format, code);
        Assert.Contains("notes.png", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingImage_IsInputFile_BeforeTheModelLoads()
    {
        var (code, _, stderr) = CliRun.Run("vit", "classify", "--model", "no-such-model.safetensors", Path.Combine(_dir, "missing.png"));
        Assert.Equal(ExitCodes.InputFile, code);
        Assert.Contains("no-such-model.safetensors", stderr, StringComparison.Ordinal);
    }
}
