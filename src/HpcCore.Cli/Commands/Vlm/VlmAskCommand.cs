// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Commands.Vlm;

using System.CommandLine;
using System.Globalization;
using HpcCore.Cli.Errors;
using HpcCore.Models;
using HpcCore.Models.Images;
using HpcCore.Models.KvCache;
using HpcCore.Models.Vit;
using HpcCore.Models.Vlm;

/// <summary>
/// `hpccore vlm ask`: answers a question about a 56 x 56 greyscale scene (a PNG, or four cells taken from the
/// Fashion-MNIST set), optionally with a reduction method at a share of the visual tokens. Several --question options
/// (or a --kv-policy) make it a conversation on the cached decoder (VlmChat), one answer per line.
/// </summary>
internal static class VlmAskCommand
{
    public static Command Create()
    {
        var (model, vit) = VlmCommand.ModelOptions();
        var data = VlmCommand.DataOption();
        var image = new Option<FileInfo?>("--image") { Description = "A 56 x 56 greyscale image of a 2 x 2 grid of 28 x 28 items (white on black, as Fashion-MNIST)." };
        var cells = new Option<string?>("--cells") { Description = "Instead of --image: four image indices into --data, row-major, -1 for an empty cell (e.g. 3,-1,17,42)." };
        var question = new Option<string[]>("--question")
        {
            Description = "'what is at row R column C', 'how many CLASS' or 'is there a CLASS'. Repeat it for a conversation: each answer is fed back before the next question.",
            Required = true,
        };
        var kvPolicy = new Option<string?>("--kv-policy") { Description = $"Decode the conversation under this KV policy ({KvPolicyRegistry.Names}; settings as in lm eval)." };
        kvPolicy.Validators.Add(r =>
        {
            try
            {
                if (r.GetValueOrDefault<string?>() is { } spec) KvPolicyRegistry.Parse(spec, new KvPolicySettings());
            }
            catch (ArgumentException e)
            {
                r.AddError($"--kv-policy: {e.Message.TrimEnd('.')}");
            }
        });
        var kvBudget = new Option<int>("--kv-budget") { Description = "Tokens per kv head the KV policy keeps, unless its spec sets budget=.", DefaultValueFactory = _ => 32 };
        kvBudget.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 1) r.AddError("--kv-budget: must be >= 1"); });
        var method = new Option<string>("--method") { Description = $"Reduction method: {string.Join(", ", VlmMethod.Known)}.", DefaultValueFactory = _ => "full" };
        method.AcceptOnlyFromAmong([.. VlmMethod.Known]);
        var keep = new Option<double>("--keep") { Description = "Share of the visual tokens kept, in (0, 1].", DefaultValueFactory = _ => 1 };
        keep.Validators.Add(r => { double k = r.GetValueOrDefault<double>(); if (!(k > 0 && k <= 1)) r.AddError("--keep: must be in (0, 1]"); });
        var highRes = new Option<bool>("--high-res") { Description = "Thumbnail + 4 full-resolution crops (AnyRes) instead of the thumbnail alone." };
        var threads = new Option<int>("--threads") { Description = "CPU worker threads when the device is the CPU (0: all cores).", DefaultValueFactory = _ => 0 };
        var command = new Command("ask", "Answer questions about a grid scene.")
        {
            model, vit, data, image, cells, question, method, keep, highRes, threads, kvPolicy, kvBudget,
        };
        command.SetAction(r => Run(r.GetValue(model)!, r.GetValue(vit)!, r.GetValue(data)!, r.GetValue(image), r.GetValue(cells),
            r.GetValue(question)!, r.GetValue(method)!, r.GetValue(keep), r.GetValue(highRes), r.GetValue(threads), r.GetValue(kvPolicy), r.GetValue(kvBudget)));
        return command;
    }

    public static int Run(FileInfo modelFile, FileInfo vitFile, DirectoryInfo dataDir, FileInfo? image, string? cells, string[] questions,
        string method, double keep, bool highRes, int threads, string? kvPolicy = null, int kvBudget = 32)
    {
        if ((image is null) == (cells is null)) throw new CliUsageException("give exactly one of --image and --cells");
        var ids = new List<int[]>(questions.Length);
        foreach (var question in questions)
        {
            try
            {
                ids.Add(VlmVocabulary.ParseQuestion(question));
            }
            catch (FormatException e)
            {
                throw new CliUsageException($"--question: {e.Message}", e);
            }
        }
        bool conversation = ids.Count > 1 || kvPolicy is not null;
        if (conversation && !VlmMethod.PreLm.Contains(method))
            throw new CliUsageException($"--method {method} prunes inside the LM's prefill; a conversation (several --question, or --kv-policy) takes one of {string.Join(", ", VlmMethod.PreLm)}");
        VlmCommand.Require(modelFile, "--model");
        VlmCommand.Require(vitFile, "--vit");
        var scene = image is not null ? LoadScene(image) : SceneFromCells(cells!, dataDir);
        using var backend = ModelDevice.OpenBest(threads);
        using var vitWeights = VitWeightsLoader.Load(vitFile.FullName, backend);
        using var weights = VlmWeights.Load(modelFile.FullName, backend);
        using var pipeline = new VlmPipeline(vitWeights, weights, highRes);
        var reduction = VlmMethod.Create(method, weights.LmConfig.Layers, vitWeights.Config.Depth);
        if (conversation)
        {
            var (entry, settings) = KvPolicyRegistry.Parse(kvPolicy ?? "full", new KvPolicySettings { Budget = kvBudget });
            using var chat = new VlmChat(pipeline, KvPolicyRegistry.Create(entry.Name, settings));
            var (vision, encodeMs) = pipeline.Encode(scene);
            var r = chat.Run(vision, encodeMs, ids, reduction, keep);
            foreach (int token in r.Answers) Console.WriteLine(VlmVocabulary.Tokens[token]);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{ids.Count} turns, KV policy {chat.Policy.Name}; visual tokens {r.VisualKept}/{pipeline.VisualTokens}; prefill {r.PrefillMs:F2} ms, first answer {r.FirstTokenMs:F2} ms, " +
                $"decode {r.DecodeMsPerToken:F3} ms/token; KV {r.KvBytes / 1024.0:F1} KiB at the end, {r.KvPeakBytes / 1024.0:F1} KiB peak; device {ModelDevice.Describe(backend)}"));
            return 0;
        }
        var answer = pipeline.Ask(scene, ids[0], reduction, keep);
        Console.WriteLine(VlmVocabulary.Tokens[answer.Token]);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"question tokens: {string.Join(" ", ids[0].Select(i => VlmVocabulary.Tokens[i]))}; visual tokens {answer.VisualKept}/{pipeline.VisualTokens}; " +
            $"prefill {answer.PrefillMs:F2} ms, first token {answer.FirstTokenMs:F2} ms, KV {answer.Prefill.KvBytes / 1024.0:F1} KiB; device {ModelDevice.Describe(backend)}"));
        return 0;
    }

    private static float[] SceneFromCells(string text, DirectoryInfo dataDir)
    {
        if (!dataDir.Exists) throw new DirectoryNotFoundException($"--data: folder '{dataDir.FullName}' does not exist.");
        var images = ImageSet.LoadIdx(dataDir.FullName);
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length != VlmScene.Grid * VlmScene.Grid)
            throw new CliUsageException($"--cells: '{text}' has {parts.Length} entries; a scene has {VlmScene.Grid * VlmScene.Grid}");
        var idx = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out idx[i]) || idx[i] < -1 || idx[i] >= images.Count)
                throw new CliUsageException($"--cells: '{parts[i]}' is not -1 or an image index in 0..{images.Count - 1}");
        return VlmEvalSet.Scene(idx, images);
    }

    // A 56 x 56 greyscale PNG/JPEG/BMP, read as [0, 1] (other sizes are refused: the model was trained on this grid),
    // through ImageDecoder's checks, which make the decoder safe on untrusted files (issue #21).
    private static float[] LoadScene(FileInfo file)
    {
        VlmCommand.Require(file, "--image");
        if (file.Length > ImageLimits.Default.MaxBytes)
            throw new InvalidDataException($"--image: '{file.FullName}' has {file.Length} bytes, above {ImageLimits.Default.MaxBytes}");
        var bytes = File.ReadAllBytes(file.FullName);
        var (_, width, height) = ImageDecoder.Probe(bytes, file.FullName);
        if (width != VlmScene.Side || height != VlmScene.Side)
            throw new InvalidDataException($"--image: '{file.FullName}' is {width}x{height}; the VLM takes {VlmScene.Side}x{VlmScene.Side} grid scenes");
        var (pixels, _, _) = ImageDecoder.DecodePixels(bytes, channels: 1, file.FullName);
        return [.. pixels.Select(b => b / 255f)];
    }
}
