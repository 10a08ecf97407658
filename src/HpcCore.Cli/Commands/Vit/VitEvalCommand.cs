// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Commands.Vit;

using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using HpcCore.Cli.Errors;
using HpcCore.Cli.Options;
using HpcCore.Cli.Timing;
using HpcCore.Diagnostics;
using HpcCore.Models.Images;
using HpcCore.Models;
using HpcCore.Models.Vit;
using HpcCore.Tensors;
using Spectre.Console;

/// <summary>
/// `hpccore vit eval`: runs a ViT over a labelled IDX image set once per token-reduction method and prints top-1
/// accuracy, images/s at batch 1 and at a large batch, GFLOPs per image and the tokens left per layer.
/// </summary>
internal static class VitEvalCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Create()
    {
        var model = new Option<FileInfo>("--model") { Description = "ViT safetensors file (timm tensor names).", Required = true };
        var data = new Option<DirectoryInfo>("--data") { Description = "Folder with t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz].", Required = true };
        var methods = new Option<string>("--methods")
        {
            Description = "Comma-separated methods name[:key=value;...], e.g. baseline,tome:r=8,evit:keep=0.7 (docs/CLI.md). Methods and their keys: " +
                          string.Join("; ", VitReducers.Keys.Select(m => m.Value.Length == 0 ? m.Key : $"{m.Key} ({string.Join(", ", m.Value)})")) + ".",
            DefaultValueFactory = _ => "baseline",
        };
        methods.Validators.Add(result =>
        {
            try
            {
                foreach (var spec in VitMethodSpec.ParseList(result.GetValueOrDefault<string>() ?? "")) VitReducers.CheckKeys(spec);
            }
            catch (Exception e) when (e is ArgumentException or FormatException)
            {
                result.AddError($"--methods: {e.Message.TrimEnd('.')}");
            }
        });
        var limit = new Option<int>("--limit") { Description = "Score at most this many images.", DefaultValueFactory = _ => int.MaxValue }.AtLeast(1);
        var batch = new Option<int>("--batch") { Description = "Large batch size for accuracy and throughput.", DefaultValueFactory = _ => 64 }.AtLeast(1);
        var threads = new Option<int>("--threads") { Description = "CPU worker threads when the device is the CPU (0: all cores).", DefaultValueFactory = _ => 0 }.AtLeast(0);
        var plot = new Option<FileInfo?>("--plot") { Description = "Write an accuracy-vs-throughput PNG here." };
        var visualize = new Option<FileInfo?>("--visualize") { Description = "Write merge maps of sample images (PNG) here." };
        var json = new Option<bool>("--json") { Description = "Print the results as JSON instead of a table." };
        var rounds = new Option<int>("--rounds")
        {
            Description = "Throughput rounds per batch size, each ~0.25 s of the method then ~0.25 s of the plain model (interleaved; medians reported).",
            DefaultValueFactory = _ => 5,
        }.AtLeast(1);
        var checkWeights = CheckWeightsOption.Create();
        var weightsDType = WeightsDTypeOption.Create();
        var command = new Command("eval", "Accuracy and speed of a ViT with token-reduction methods on an image set.")
        {
            model, data, methods, limit, batch, threads, plot, visualize, json, rounds, checkWeights, weightsDType,
        };
        command.SetAction(r => Run(r.GetValue(model)!, r.GetValue(data)!, r.GetValue(methods)!, r.GetValue(limit),
            r.GetValue(batch), r.GetValue(threads), r.GetValue(plot), r.GetValue(visualize), r.GetValue(json), r.GetValue(rounds), r.GetValue(checkWeights),
            WeightsDTypeOption.Parse(r.GetValue(weightsDType)!)));
        return command;
    }

    public static int Run(FileInfo modelFile, DirectoryInfo dataDir, string methodList, int limit, int batch, int threads,
        FileInfo? plot, FileInfo? visualize, bool json, int rounds, bool checkWeights = false, DType linearWeights = DType.F32)
    {
        var specs = VitMethodSpec.ParseList(methodList);
        if (!modelFile.Exists) throw new FileNotFoundException($"--model: '{modelFile.FullName}' does not exist.", modelFile.FullName);
        if (!dataDir.Exists) throw new DirectoryNotFoundException($"--data: folder '{dataDir.FullName}' does not exist.");
        using var backend = ModelDevice.OpenBest(threads);
        using var loaded = VitWeightsLoader.Load(modelFile.FullName, backend, checkWeights);
        using var narrowed = linearWeights == DType.BF16 ? loaded.ToBf16Linear() : null;
        var weights = narrowed ?? loaded;
        CheckAgainstModel(specs, weights.Config);
        var images = ImageSet.LoadIdx(dataDir.FullName);
        using var evaluator = new VitEvaluator(weights, images, limit, batch, rounds);
        var c = weights.Config;
        if (!json)
            AnsiConsole.MarkupLine($"model: [bold]{Markup.Escape(modelFile.Name)}[/] ({c.ImageSize}px, patch {c.PatchSize}, " +
                $"{c.Tokens} tokens, D {c.Dim}, {c.Depth} blocks, {c.Heads} heads); {evaluator.Count} images; device: " +
                $"[bold]{Markup.Escape(ModelDevice.Describe(backend))}[/]");
        var results = new List<VitEvalResult>();
        if (json)
        {
            foreach (var spec in specs) results.Add(evaluator.Run(spec, _ => { }));
        }
        else
        {
            AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    foreach (var spec in specs)
                    {
                        var task = ctx.AddTask(Markup.Escape(spec.Text), maxValue: evaluator.Count);
                        results.Add(evaluator.Run(spec, done => task.Value = done));
                        task.Value = evaluator.Count;
                    }
                });
        }
        if (json)
            Console.WriteLine(JsonSerializer.Serialize(results, Indented));
        else
            AnsiConsole.Write(Table(results));
        // On stderr, so that --json output stays one document.
        if (MachineLoad.BusyWarning() is { } busy) Console.Error.WriteLine(busy);
        if (plot is not null)
        {
            plot.Directory?.Create();
            VitPlots.AccuracyVsThroughput(results, plot.FullName);
            if (!json) AnsiConsole.MarkupLine($"plot: {Markup.Escape(plot.FullName)}");
        }
        if (visualize is not null)
        {
            visualize.Directory?.Create();
            VitMergeMaps.Draw(weights, images, specs, visualize.FullName);
            if (!json) AnsiConsole.MarkupLine($"merge maps: {Markup.Escape(visualize.FullName)}");
        }
        return 0;
    }

    // Blocks and values depend on the model's depth and grid: every method is built once (and dropped) before the
    // first is evaluated, so a bad spec late in the list fails at once rather than after the others have run.
    private static void CheckAgainstModel(IEnumerable<VitMethodSpec> specs, VitConfig config)
    {
        foreach (var spec in specs)
        {
            try
            {
                VitReducers.Create(spec, config)?.Dispose();
            }
            catch (ArgumentException e)
            {
                throw new CliUsageException($"--methods: {e.Message.TrimEnd('.')} (the model has {config.Depth} blocks, a {config.Grid} x {config.Grid} patch grid)", e);
            }
        }
    }

    private static Table Table(List<VitEvalResult> results)
    {
        var baseline = results.FirstOrDefault(r => r.Method == "baseline") ?? results[0];
        // Gains are medians of per-round ratios with their quartiles; the plain model's own row is its noise floor (a
        // second session of the same model), which a method's gain must clear to count.
        var table = new Table().AddColumns("method", "top-1 %", "Δ pts", "img/s b=1", "gain b=1 (p25-p75)", $"img/s b={baseline.LargeBatch}",
            $"gain b={baseline.LargeBatch} (p25-p75)", "GFLOPs/img", "tokens per layer (after reduction)");
        foreach (var r in results)
        {
            bool floor = ReferenceEquals(r, baseline);
            string Gain(GainSpread g) => floor ? $"noise floor {F(g.P25, "F2")}-{F(g.P75, "F2")}" : g.ToString();
            table.AddRow(Markup.Escape(r.Method), F(100 * r.Top1, "F2"), F(100 * (r.Top1 - baseline.Top1), "+0.00;-0.00;0.00"),
                F(r.ImagesPerSecondBatch1, "F1"), Gain(r.SpreadBatch1), F(r.ImagesPerSecondBatchN, "F1"),
                Gain(r.SpreadBatchN), F(r.GflopsPerImage, "F3"),
                string.Join(" ", r.TokensPerLayer));
        }
        return table;
    }

    private static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
}
