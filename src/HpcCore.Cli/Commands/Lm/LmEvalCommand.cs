// Copyright (c) HpcCore contributors. Licensed under the MIT license.
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using HpcCore.Cli.Errors;
using HpcCore.Cli.Logging;
using HpcCore.Cli.Options;
using HpcCore.Models;
using HpcCore.Models.Lm;
using HpcCore.Models.Lm.Loading;

namespace HpcCore.Cli.Commands.Lm;

/// <summary>`hpccore lm eval`: held-out perplexity, pass-key accuracy, KV bytes and decode speed of KV policies at budgets.</summary>
internal static class LmEvalCommand
{
    private static readonly double[] PlotBudgets = [0.05, 0.1, 0.2, 0.3, 0.5, 1.0];
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "llama2.c checkpoint (.bin), safetensors file, Hugging Face folder (config.json, model.safetensors or a sharded index), or llama GGUF file (.gguf, tokenizer embedded).", Required = true };
        var tokenizer = new Option<string>("--tokenizer") { Description = "Tokenizer (see lm generate --tokenizer); default for a Hugging Face folder or a .gguf model: its own." };
        var text = new Option<string>("--text") { Description = "Held-out text file (perplexity and pass-key filler).", Required = true };
        var kv = new LmKvOptions(allowList: true);
        var budget = new Option<double>("--budget") { Description = "Fraction of the prefilled tokens' KV entries each policy keeps.", DefaultValueFactory = _ => 0.2 }.AboveUpTo(0.0, 1.0);
        var ratio = new Option<double?>("--compression-ratio")
        {
            Description = "Instead of --budget: the fraction each policy drops (kvpress's compression_ratio), so --compression-ratio R is --budget 1-R.",
        };
        ratio.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<double?>() is { } v && !(v >= 0 && v < 1)) result.AddError(string.Create(CultureInfo.InvariantCulture, $"--compression-ratio {v} is outside [0, 1)"));
        });
        var context = new Option<int>("--context") { Description = "Tokens per window, at most the model's context (0: the model's context)." }.AtLeast(0);
        var windows = new Option<int>("--windows") { Description = "Perplexity windows.", DefaultValueFactory = _ => 4 }.AtLeast(1);
        var trials = new Option<int>("--passkey-trials") { Description = "Pass-key trials per (length, depth) cell.", DefaultValueFactory = _ => 2 }.AtLeast(1);
        var plot = new Option<string?>("--plot")
        {
            Description = "Sweep budgets 0.05..1 and draw quality vs budget for every policy evaluated into this PNG file (and a text chart).",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var detail = new Option<bool>("--passkey-detail") { Description = "Print pass-key accuracy by prompt length and needle depth." };
        var longRun = new Option<int>("--long")
        {
            Description = "Instead: decode N x the trained context of the text teacher-forced and print perplexity per window of the trained " +
                          "context (budget = --budget x the context); a policy that cannot go past the context says so.",
        }.AtLeast(0);
        var json = new Option<bool>("--json") { Description = "Print the results as JSON on stdout (progress stays on stderr)." };
        var threads = new Option<int>("--threads") { Description = "CPU threads (0: all cores).", DefaultValueFactory = _ => 1 }.AtLeast(0);
        var checkWeights = CheckWeightsOption.Create();
        var weightsDType = WeightsDTypeOption.Create();
        var command = new Command("eval", "Evaluate KV policies: held-out perplexity, pass-key accuracy, KV bytes held, decode tokens/s.")
            { model, tokenizer, text, budget, ratio, context, windows, trials, plot, detail, longRun, json, threads, checkWeights, weightsDType };
        kv.AddTo(command);
        command.Validators.Add(result =>
        {
            if (result.GetResult(ratio) is not null && result.GetResult(budget) is { Implicit: false })
                result.AddError("--budget and --compression-ratio say the same thing: give one");
        });
        command.SetAction(r =>
        {
            string[] policies = [.. LmKvOptions.Specs(r.GetValue(kv.Policy)!, allowList: true)];
            if (kv.PositionMode(r) is { } positions)
                policies = [.. policies.Select(p => p + (p.Contains(':', StringComparison.Ordinal) ? ";" : ":") + "positions=" + positions.ToString().ToLowerInvariant())];
            string textPath = r.GetValue(text)!;
            if (!File.Exists(textPath)) throw new FileNotFoundException($"--text: '{textPath}' does not exist.", textPath);
            var log = CliLog.For(r);
            using var backend = ModelDevice.OpenBest(r.GetValue(threads), logger: log);
            Console.Error.WriteLine($"[{ModelDevice.Describe(backend)}]");
            string modelPath = r.GetValue(model)!;
            CheckWeightsOption.CheckLm(r.GetValue(checkWeights), modelPath);
            var lm = LmModelFiles.Open(modelPath, LmModelPaths.Tokenizer(modelPath, r.GetValue(tokenizer)), backend, log, new LmLoadOptions(WeightsDTypeOption.Parse(r.GetValue(weightsDType)!)));
            var (config, weights, tok) = (lm.Config, lm.Weights, lm.Tokenizer);
            using var _ = weights;
            int window = r.GetValue(context);
            if (window > config.MaxSeqLen)
                throw new CliUsageException($"--context {window} is outside [0, {config.MaxSeqLen}] for this model (its trained context is {config.MaxSeqLen} tokens)");
            if (window == 0) window = config.MaxSeqLen;
            var clock = Stopwatch.StartNew();
            int[] heldOut = tok.Encode(File.ReadAllText(textPath), addBos: false);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[{textPath}: {heldOut.Length} tokens, encoded in {clock.Elapsed.TotalSeconds:F2} s]"));
            bool jsonOut = r.GetValue(json);
            double keep = r.GetValue(ratio) is { } dropped ? 1 - dropped : r.GetValue(budget);
            if (r.GetValue(longRun) is > 0 and var factor)
            {
                int needed = checked(factor * config.MaxSeqLen + 1);
                if (heldOut.Length + (tok.BosId >= 0 ? 1 : 0) < needed)
                    throw new CliUsageException($"--long {factor} needs {needed} tokens of --text and '{textPath}' has {heldOut.Length}: give a longer text or a smaller --long");
                int[] withBos = tok.BosId >= 0 ? [tok.BosId, .. heldOut] : heldOut;
                int tokens = Math.Max(4, (int)Math.Round(keep * config.MaxSeqLen));
                var longResults = new List<LmLongContextResult>();
                for (int i = 0; i < policies.Length; i++)
                {
                    Console.Error.WriteLine($"[{i + 1}/{policies.Length}] {policies[i]}");
                    longResults.Add(LmLongContext.Run(config, weights, backend, withBos, policies[i], tokens, factor));
                    if (!jsonOut) PrintLong(longResults[^1], tokens);
                }
                if (jsonOut) Console.WriteLine(JsonSerializer.Serialize(longResults, Indented));
                return 0;
            }
            if (heldOut.Length < window)
                throw new CliUsageException($"--text '{textPath}' has {heldOut.Length} tokens but a window needs {window}: give a longer text or a smaller --context");
            bool plotting = r.GetResult(plot) is not null;
            var budgets = plotting ? PlotBudgets : [keep];
            var options = new LmEvalOptions(r.GetValue(windows), window, PasskeyTrials: r.GetValue(trials), CacheDType: kv.CacheDType(r));
            if (!jsonOut) Console.WriteLine("policy       budget  perplexity  passkey      kv_bytes  decode_tok_s");
            var results = new List<LmEvalResult>();
            int runs = policies.Length * budgets.Length;
            foreach (string p in policies)
            foreach (double b in budgets)
            {
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{results.Count + 1}/{runs}] {p} at budget {b:F2}"));
                var res = LmEvaluator.Run(config, weights, backend, tok, heldOut, p, b, options);
                results.Add(res);
                if (jsonOut) continue;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{res.Policy,-12} {res.Budget,6:F2} {res.Perplexity,11:F3} {res.PasskeyCorrect,3}/{res.PasskeyTrials,-3} {res.MeanKvBytes,13} {res.DecodeTokensPerSecond,13:F0}"));
                if (r.GetValue(detail)) PrintCells(res);
            }
            if (jsonOut) Console.WriteLine(JsonSerializer.Serialize(results, Indented));
            if (plotting)
            {
                if (!jsonOut) LmPlots.TextChart(results);
                string path = r.GetValue(plot) ?? "lm-eval.png";
                LmPlots.QualityVsBudget(results, path);
                Console.Error.WriteLine($"plot: {path}");
            }
            return 0;
        });
        return command;
    }

    private static void PrintLong(LmLongContextResult res, int budget)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{res.Policy} (budget {budget} tokens): {string.Join("  ", res.Windows.Select(w => $"[{w.Start}..{w.Start + w.Tokens}) {w.Perplexity:F3}"))}"));
        if (res.Refused is not null) Console.WriteLine($"    refused: {res.Refused}");
    }

    private static void PrintCells(LmEvalResult res)
    {
        foreach (var group in res.Passkey.GroupBy(c => c.Length))
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    passkey length {group.Key,5}: {string.Join("  ", group.Select(c => $"depth {c.Depth:F1} {c.Correct}/{c.Trials}"))}"));
    }
}
