// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Commands.Vlm;

using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using HpcCore.Cli.Errors;
using HpcCore.Models;
using HpcCore.Models.Images;
using HpcCore.Models.KvCache;
using HpcCore.Models.Vit;
using HpcCore.Models.Vlm;
using Spectre.Console;

/// <summary>
/// `hpccore vlm eval`: accuracy on the held-out questions against the share of visual tokens kept, for every
/// reduction method and baseline, in base and high-resolution mode, with prefill time, time to the answer token and
/// KV-cache bytes; a table or JSON, and a Pareto plot.
/// </summary>
internal static class VlmEvalCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Create()
    {
        var (model, vit) = VlmCommand.ModelOptions();
        var data = VlmCommand.DataOption();
        var set = new Option<FileInfo>("--eval-set") { Description = "Held-out questions (eval-set.json from tools/train/vlm/export.py).", DefaultValueFactory = _ => new FileInfo("assets/vlm/eval-set.json") };
        var methods = new Option<string>("--methods") { Description = $"Comma-separated methods: {string.Join(", ", VlmMethod.Known)}.", DefaultValueFactory = _ => string.Join(",", VlmMethod.Known) };
        methods.Validators.Add(r =>
        {
            foreach (var m in Split(r.GetValueOrDefault<string>() ?? ""))
                if (!VlmMethod.Known.Contains(m)) r.AddError($"--methods: unknown method '{m}' (known: {string.Join(", ", VlmMethod.Known)})");
        });
        var keep = new Option<string>("--keep") { Description = "Comma-separated shares of the visual tokens kept, in (0, 1].", DefaultValueFactory = _ => "0.5,0.25,0.11" };
        keep.Validators.Add(r =>
        {
            foreach (var k in Split(r.GetValueOrDefault<string>() ?? ""))
                if (!double.TryParse(k, NumberStyles.Float, CultureInfo.InvariantCulture, out double f) || !(f > 0 && f <= 1))
                    r.AddError($"--keep: '{k}' is not a share in (0, 1]");
        });
        var mode = new Option<string>("--mode") { Description = "base, high-res or both.", DefaultValueFactory = _ => "both" };
        mode.AcceptOnlyFromAmong("base", "high-res", "both");
        var limit = new Option<int>("--limit") { Description = "Score at most this many questions per mode.", DefaultValueFactory = _ => int.MaxValue };
        limit.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 1) r.AddError("--limit: must be >= 1"); });
        var threads = new Option<int>("--threads") { Description = "CPU worker threads when the device is the CPU (0: all cores).", DefaultValueFactory = _ => 0 };
        var plot = new Option<FileInfo?>("--plot") { Description = "Write the accuracy-vs-prefill-time (Pareto) PNG here." };
        var json = new Option<bool>("--json") { Description = "Print the results as JSON instead of a table." };
        var kvPolicy = new Option<string?>("--kv-policy")
        {
            Description = $"Also ask each scene's questions as one conversation, decoding under these KV policies (comma-separated: {KvPolicyRegistry.Names}; " +
                          "settings as in lm eval), combined with every pre-LM method at every --keep: visual pruning and KV eviction as one configuration.",
        };
        kvPolicy.Validators.Add(r =>
        {
            try
            {
                foreach (var spec in Split(r.GetValueOrDefault<string?>() ?? "")) KvPolicyRegistry.Parse(spec, new KvPolicySettings());
            }
            catch (ArgumentException e)
            {
                r.AddError($"--kv-policy: {e.Message.TrimEnd('.')}");
            }
        });
        var kvBudget = new Option<int>("--kv-budget") { Description = "Tokens per kv head the KV policies keep, unless a spec sets budget=.", DefaultValueFactory = _ => 32 };
        kvBudget.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 1) r.AddError("--kv-budget: must be >= 1"); });
        var command = new Command("eval", "Accuracy, prefill time, time to first token and KV bytes of the VLM against the visual tokens kept.")
        {
            model, vit, data, set, methods, keep, mode, limit, threads, plot, json, kvPolicy, kvBudget,
        };
        command.SetAction(r => Run(r.GetValue(model)!, r.GetValue(vit)!, r.GetValue(data)!, r.GetValue(set)!, r.GetValue(methods)!,
            r.GetValue(keep)!, r.GetValue(mode)!, r.GetValue(limit), r.GetValue(threads), r.GetValue(plot), r.GetValue(json),
            r.GetValue(kvPolicy), r.GetValue(kvBudget)));
        return command;
    }

    private static string[] Split(string s) => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public static int Run(FileInfo modelFile, FileInfo vitFile, DirectoryInfo dataDir, FileInfo setFile, string methodList, string keepList,
        string mode, int limit, int threads, FileInfo? plot, bool json, string? kvPolicies = null, int kvBudget = 32)
    {
        VlmCommand.Require(modelFile, "--model");
        VlmCommand.Require(vitFile, "--vit");
        VlmCommand.Require(setFile, "--eval-set");
        if (!dataDir.Exists) throw new DirectoryNotFoundException($"--data: folder '{dataDir.FullName}' does not exist.");
        var names = Split(methodList);
        var fractions = Split(keepList).Select(k => double.Parse(k, CultureInfo.InvariantCulture)).Where(f => f < 1).Distinct().ToArray();
        using var backend = ModelDevice.OpenBest(threads);
        using var vitWeights = VitWeightsLoader.Load(vitFile.FullName, backend);
        using var weights = VlmWeights.Load(modelFile.FullName, backend);
        var images = ImageSet.LoadIdx(dataDir.FullName);
        var set = VlmEvalSet.Load(setFile.FullName, images);
        if (!json)
            AnsiConsole.MarkupLine($"VLM: ViT {vitWeights.Config.Depth} blocks D {vitWeights.Config.Dim} -> projector -> decoder {weights.LmConfig.Layers} layers " +
                $"D {weights.LmConfig.Dim}; device: [bold]{Markup.Escape(ModelDevice.Describe(backend))}[/]");
        var results = new List<VlmEvalResult>();
        var chats = new List<VlmChatEvalResult>();
        var policySpecs = Split(kvPolicies ?? "");
        foreach (bool highRes in mode switch { "base" => new[] { false }, "high-res" => [true], _ => [false, true] })
        {
            using var pipeline = new VlmPipeline(vitWeights, weights, highRes);
            var evaluator = new VlmEvaluator(pipeline, highRes ? set.HighRes : set.Base, images, limit);
            if (evaluator.Count == 0) continue;
            int layers = weights.LmConfig.Layers, depth = vitWeights.Config.Depth;
            results.Add(evaluator.Run(VlmMethod.Create("full", layers, depth), 1));
            foreach (double f in fractions)
                foreach (var name in names.Where(n => n != "full"))
                    results.Add(evaluator.Run(VlmMethod.Create(name, layers, depth), f));
            foreach (var spec in policySpecs)
            {
                var (entry, settings) = KvPolicyRegistry.Parse(spec, new KvPolicySettings { Budget = kvBudget });
                using var chat = new VlmChat(pipeline, KvPolicyRegistry.Create(entry.Name, settings));
                chats.Add(evaluator.RunChat(chat, VlmMethod.Create("full", layers, depth), 1));
                foreach (double f in fractions)
                    foreach (var name in names.Where(n => n != "full" && VlmMethod.PreLm.Contains(n)))
                        chats.Add(evaluator.RunChat(chat, VlmMethod.Create(name, layers, depth), f));
            }
        }
        if (json) Console.WriteLine(JsonSerializer.Serialize(new { questions = results, conversations = chats }, Indented));
        else
        {
            AnsiConsole.Write(Table(results));
            if (chats.Count > 0) AnsiConsole.Write(ChatTable(chats));
        }
        if (plot is not null)
        {
            plot.Directory?.Create();
            VlmPlots.AccuracyVsPrefill(results, plot.FullName);
            if (!json) AnsiConsole.MarkupLine($"plot: {Markup.Escape(plot.FullName)}");
        }
        return 0;
    }

    private static Table Table(List<VlmEvalResult> results)
    {
        var table = new Table().AddColumns("mode", "method", "keep", "acc %", "Δ pts", "visual in", "visual/layer", "prefill ms",
            "prefill speed-up [[p25-p75]]", "reduce ms", "TTFT ms", "KV KiB");
        foreach (var r in results)
        {
            var full = results.First(x => x.Mode == r.Mode && x.Method == "full");
            table.AddRow(r.Mode, Markup.Escape(r.Method), F(100 * r.Fraction, "F0") + "%", F(100 * r.Accuracy, "F1"),
                F(100 * (r.Accuracy - full.Accuracy), "+0.0;-0.0;0.0"), F(r.VisualKept, "F1"), F(r.VisualPerLayer, "F1"),
                F(r.PrefillMs, "F3"), Markup.Escape($"{F(r.PrefillSpeedup, "F2")}x [{F(r.SpeedupP25, "F2")}-{F(r.SpeedupP75, "F2")}]"), F(r.ReduceMs, "F2"),
                F(r.FirstTokenMs, "F2"), F(r.KvBytes / 1024, "F1"));
        }
        return table;
    }

    // Δ and the KV ratio against the same mode's full method under the full policy (no reduction at all), when it ran.
    private static Table ChatTable(List<VlmChatEvalResult> results)
    {
        var table = new Table().AddColumns("mode", "method", "keep", "kv policy", "turns", "acc %", "Δ pts", "visual in", "prefill ms",
            "TTFT ms", "decode ms/tok", "KV KiB end", "KV KiB peak", "KV vs full");
        foreach (var r in results)
        {
            var full = results.FirstOrDefault(x => x.Mode == r.Mode && x.Method == "full" && x.Policy == "full") ??
                       results.First(x => x.Mode == r.Mode && x.Method == "full" && x.Policy == r.Policy);
            table.AddRow(r.Mode, Markup.Escape(r.Method), F(100 * r.Fraction, "F0") + "%", Markup.Escape(r.Policy), r.Turns.ToString(CultureInfo.InvariantCulture),
                F(100 * r.Accuracy, "F1"), F(100 * (r.Accuracy - full.Accuracy), "+0.0;-0.0;0.0"), F(r.VisualKept, "F1"), F(r.PrefillMs, "F3"),
                F(r.FirstTokenMs, "F2"), F(r.DecodeMs, "F3"), F(r.KvBytes / 1024, "F1"), F(r.KvPeakBytes / 1024, "F1"),
                F(r.KvPeakBytes / Math.Max(1, full.KvPeakBytes), "F2") + "x");
        }
        return table;
    }

    private static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
}
