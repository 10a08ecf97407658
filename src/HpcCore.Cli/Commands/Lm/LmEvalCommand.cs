// Copyright (c) HpcCore contributors. Licensed under the MIT license.
using System.CommandLine;
using System.Globalization;
using HpcCore.Models;
using HpcCore.Models.KvCache;
using HpcCore.Models.Lm;
using HpcCore.Models.Lm.Loading;

namespace HpcCore.Cli.Commands.Lm;

/// <summary>`hpccore lm eval`: held-out perplexity, pass-key accuracy, KV bytes and decode speed of KV policies at budgets.</summary>
internal static class LmEvalCommand
{
    private static readonly double[] PlotBudgets = [0.05, 0.1, 0.2, 0.3, 0.5, 1.0];

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "llama2.c checkpoint (.bin) or safetensors file.", Required = true };
        var tokenizer = new Option<string>("--tokenizer") { Description = "Tokenizer (see lm generate --tokenizer).", Required = true };
        var text = new Option<string>("--text") { Description = "Held-out text file (perplexity and pass-key filler).", Required = true };
        var kv = new LmKvOptions();
        kv.Policy.Description += " Or all.";
        var budget = new Option<double>("--budget") { Description = "Cache budget as a fraction of the context (0, 1].", DefaultValueFactory = _ => 0.2 };
        var context = new Option<int>("--context") { Description = "Tokens per window (0: the model's max sequence length)." };
        var windows = new Option<int>("--windows") { Description = "Perplexity windows.", DefaultValueFactory = _ => 4 };
        var trials = new Option<int>("--passkey-trials") { Description = "Pass-key trials per (length, depth) cell.", DefaultValueFactory = _ => 2 };
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
        };
        var threads = new Option<int>("--threads") { Description = "CPU threads (0: all cores).", DefaultValueFactory = _ => 1 };
        var command = new Command("eval", "Evaluate KV policies: held-out perplexity, pass-key accuracy, KV bytes held, decode tokens/s.")
            { model, tokenizer, text, budget, context, windows, trials, plot, detail, longRun, threads };
        kv.AddTo(command);
        command.SetAction(r =>
        {
            using var backend = ModelDevice.OpenBest(Math.Max(0, r.GetValue(threads)));
            Console.Error.WriteLine($"[{ModelDevice.Describe(backend)}]");
            var (config, weights, tok) = LmModelFiles.Load(r.GetValue(model)!, r.GetValue(tokenizer)!, backend);
            using var _ = weights;
            string heldOut = File.ReadAllText(r.GetValue(text)!);
            var options = new LmEvalOptions(r.GetValue(windows), r.GetValue(context), PasskeyTrials: r.GetValue(trials), CacheDType: kv.CacheDType(r));
            string name = r.GetValue(kv.Policy)!;
            string[] policies = name.Equals("all", StringComparison.OrdinalIgnoreCase) ? [.. KvPolicyRegistry.Entries.Select(e => e.Name)] : [name];
            if (kv.PositionMode(r) is { } positions)
                policies = [.. policies.Select(p => p + (p.Contains(':', StringComparison.Ordinal) ? ";" : ":") + "positions=" + positions.ToString().ToLowerInvariant())];
            if (r.GetValue(longRun) is > 0 and var factor)
            {
                int tokens = Math.Max(4, (int)Math.Round(r.GetValue(budget) * config.MaxSeqLen));
                foreach (string p in policies) PrintLong(LmLongContext.Run(config, weights, backend, tok, heldOut, p, tokens, factor), tokens);
                return 0;
            }
            bool plotting = r.GetResult(plot) is not null;
            var budgets = plotting ? PlotBudgets : [r.GetValue(budget)];
            Console.WriteLine("policy       budget  perplexity  passkey      kv_bytes  decode_tok_s");
            var results = new List<LmEvalResult>();
            foreach (string p in policies)
            foreach (double b in budgets)
            {
                var res = LmEvaluator.Run(config, weights, backend, tok, heldOut, p, b, options);
                results.Add(res);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{res.Policy,-12} {res.Budget,6:F2} {res.Perplexity,11:F3} {res.PasskeyCorrect,3}/{res.PasskeyTrials,-3} {res.MeanKvBytes,13} {res.DecodeTokensPerSecond,13:F0}"));
                if (r.GetValue(detail)) PrintCells(res);
            }
            if (plotting)
            {
                LmPlots.TextChart(results);
                string path = r.GetValue(plot) ?? "lm-eval.png";
                LmPlots.QualityVsBudget(results, path);
                Console.WriteLine($"plot: {path}");
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
