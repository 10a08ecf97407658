// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Commands.Vit;

using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using HpcCore.Cli.Errors;
using HpcCore.Cli.Logging;
using HpcCore.Cli.Options;
using HpcCore.Models;
using HpcCore.Models.Images;
using HpcCore.Models.Vit;
using Microsoft.Extensions.Logging;

/// <summary>What `vit classify --json` prints per image.</summary>
internal sealed record VitClassification(string File, int[] Classes, string[]? Labels, double[] Probabilities, float[] Logits);

/// <summary>
/// `hpccore vit classify IMAGE...`: decodes PNG/JPEG (also BMP, TGA) files with the model's preprocessing
/// (ImageDecoder: resize to the model's input, its mean and std) and prints each file's most likely classes,
/// optionally under a token-reduction method.
/// </summary>
internal static class VitClassifyCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Create()
    {
        var images = new Argument<FileInfo[]>("images") { Description = "PNG or JPEG files (BMP and TGA also decode).", Arity = ArgumentArity.OneOrMore };
        var model = new Option<FileInfo>("--model") { Description = "ViT safetensors file (timm tensor names).", Required = true };
        var method = new Option<string>("--method")
        {
            Description = "One token-reduction method name[:key=value;...] (see vit eval --methods).",
            DefaultValueFactory = _ => "baseline",
        };
        method.Validators.Add(result =>
        {
            try
            {
                var specs = VitMethodSpec.ParseList(result.GetValueOrDefault<string>() ?? "");
                if (specs.Count != 1) result.AddError($"--method: give exactly one method, got {specs.Count}");
                foreach (var spec in specs) VitReducers.CheckKeys(spec);
            }
            catch (Exception e) when (e is ArgumentException or FormatException)
            {
                result.AddError($"--method: {e.Message.TrimEnd('.')}");
            }
        });
        var top = new Option<int>("--top") { Description = "Classes printed per image.", DefaultValueFactory = _ => 5 }.AtLeast(1);
        var labels = new Option<FileInfo?>("--labels") { Description = "Text file with one class name per line (line i names class i)." };
        var threads = new Option<int>("--threads") { Description = "CPU worker threads when the device is the CPU (0: all cores).", DefaultValueFactory = _ => 0 }.AtLeast(0);
        var json = new Option<bool>("--json") { Description = "Print one JSON array (per file: classes, labels, probabilities, logits)." };
        var command = new Command("classify", "Classify single image files (PNG, JPEG) with a ViT.") { images, model, method, top, labels, threads, json };
        command.SetAction(r => Run(r.GetValue(images)!, r.GetValue(model)!, r.GetValue(method)!, r.GetValue(top), r.GetValue(labels),
            r.GetValue(threads), r.GetValue(json), CliLog.For(r)));
        return command;
    }

    private static int Run(FileInfo[] images, FileInfo modelFile, string methodText, int top, FileInfo? labelsFile, int threads, bool json, ILogger log)
    {
        // Every input is checked before the model loads: a typo in the last file name fails at once.
        if (!modelFile.Exists) throw new FileNotFoundException($"--model: '{modelFile.FullName}' does not exist.", modelFile.FullName);
        foreach (var image in images)
            if (!image.Exists) throw new FileNotFoundException($"image '{image.FullName}' does not exist.", image.FullName);
        string[]? names = null;
        if (labelsFile is not null)
        {
            if (!labelsFile.Exists) throw new FileNotFoundException($"--labels: '{labelsFile.FullName}' does not exist.", labelsFile.FullName);
            names = File.ReadAllLines(labelsFile.FullName);
        }
        var spec = VitMethodSpec.ParseList(methodText)[0];
        using var backend = ModelDevice.OpenBest(threads, logger: log);
        using var weights = VitWeightsLoader.Load(modelFile.FullName, backend);
        var config = weights.Config;
        if (names is not null && names.Length < config.Classes)
            throw new CliUsageException($"--labels: '{labelsFile!.FullName}' names {names.Length} classes but the model has {config.Classes}");
        IVitTokenReducer? reducer;
        try
        {
            reducer = VitReducers.Create(spec, config);
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException($"--method: {e.Message.TrimEnd('.')} (the model has {config.Depth} blocks, a {config.Grid} x {config.Grid} patch grid)", e);
        }
        using var ownedReducer = reducer as IDisposable;
        using var session = new VitSession(weights, batch: 1, reducer);
        var pixels = new float[checked(config.Channels * config.ImageSize * config.ImageSize)];
        var results = new List<VitClassification>(images.Length);
        int k = Math.Min(top, config.Classes);
        foreach (var image in images)
        {
            ImageDecoder.Decode(image.FullName, config, pixels);
            float[] logits = session.Forward(pixels).ToArray<float>();
            double[] probabilities = Softmax(logits);
            // Most likely first; ties to the lower class id, as every index output in HpcCore.
            int[] order = [.. Enumerable.Range(0, logits.Length).OrderByDescending(i => logits[i]).ThenBy(i => i).Take(k)];
            results.Add(new VitClassification(image.Name, order, names is null ? null : [.. order.Select(i => names[i])],
                [.. order.Select(i => probabilities[i])], logits));
            if (!json)
                Console.WriteLine($"{image.Name}: " + string.Join(", ", order.Select(i =>
                    string.Create(CultureInfo.InvariantCulture, $"{(names is null ? $"class {i}" : names[i])} {100 * probabilities[i]:F1}%"))));
        }
        if (json) Console.WriteLine(JsonSerializer.Serialize(results, Indented));
        return 0;
    }

    // In double, max-subtracted: probabilities of a handful of logits, printed once.
    private static double[] Softmax(float[] logits)
    {
        double max = logits.Max(), sum = 0;
        var p = new double[logits.Length];
        for (int i = 0; i < p.Length; i++) sum += p[i] = Math.Exp(logits[i] - max);
        for (int i = 0; i < p.Length; i++) p[i] /= sum;
        return p;
    }
}
