// Copyright (c) HpcCore contributors. Licensed under the MIT license.
using System.CommandLine;
using System.Globalization;
using HpcCore.Cpu;
using HpcCore.Models.KvCache;
using HpcCore.Models.Lm;
using HpcCore.Models.Lm.Loading;

namespace HpcCore.Cli.Commands.Lm;

/// <summary>`hpccore lm eval`: held-out perplexity, pass-key accuracy, KV bytes and decode speed of a KV policy at a budget.</summary>
internal static class LmEvalCommand
{
    private static readonly double[] PlotBudgets = [0.1, 0.2, 0.3, 0.5, 1.0];

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "llama2.c checkpoint (.bin).", Required = true };
        var tokenizer = new Option<string>("--tokenizer") { Description = "llama2.c tokenizer (.bin).", Required = true };
        var text = new Option<string>("--text") { Description = "Held-out text file (perplexity and pass-key filler).", Required = true };
        var policy = new Option<string>("--kv-policy") { Description = $"KV policy: {KvPolicies.Names}.", DefaultValueFactory = _ => "full" };
        var budget = new Option<double>("--budget") { Description = "Cache budget as a fraction of the context (0, 1].", DefaultValueFactory = _ => 0.2 };
        var context = new Option<int>("--context") { Description = "Tokens per window (0: the model's max sequence length)." };
        var windows = new Option<int>("--windows") { Description = "Perplexity windows.", DefaultValueFactory = _ => 4 };
        var plot = new Option<bool>("--plot") { Description = "Sweep budgets 0.1..1 for the policy and print quality vs budget." };
        var threads = new Option<int>("--threads") { Description = "CPU threads (0: all cores).", DefaultValueFactory = _ => 1 };
        var command = new Command("eval", "Evaluate a KV policy: held-out perplexity, pass-key accuracy, KV bytes held, decode tokens/s.")
            { model, tokenizer, text, policy, budget, context, windows, plot, threads };
        command.SetAction(r =>
        {
            using var backend = new CpuBackend(r.GetValue(threads));
            var (config, weights, tok) = LmModelFiles.Load(r.GetValue(model)!, r.GetValue(tokenizer)!, backend);
            using var _ = weights;
            string heldOut = File.ReadAllText(r.GetValue(text)!);
            var options = new LmEvalOptions(r.GetValue(windows), r.GetValue(context));
            string name = r.GetValue(policy)!.ToLowerInvariant();
            var budgets = r.GetValue(plot) ? PlotBudgets : [r.GetValue(budget)];
            Console.WriteLine("policy       budget  perplexity  passkey      kv_bytes  decode_tok_s");
            var results = new List<LmEvalResult>();
            foreach (double b in budgets)
            {
                var res = LmEvaluator.Run(config, weights, backend, tok, heldOut, name, b, options);
                results.Add(res);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{res.Policy,-12} {res.Budget,6:F2} {res.Perplexity,11:F3} {res.PasskeyCorrect,3}/{res.PasskeyTrials,-3} {res.MeanKvBytes,13} {res.DecodeTokensPerSecond,13:F0}"));
            }
            if (r.GetValue(plot)) Plot(results);
            return 0;
        });
        return command;
    }

    private static void Plot(List<LmEvalResult> results)
    {
        // A text chart: one bar per budget, length proportional to perplexity relative to the worst.
        double worst = results.Max(x => x.Perplexity);
        Console.WriteLine();
        Console.WriteLine("perplexity vs budget (shorter is better); # = pass-key accuracy");
        foreach (var x in results)
        {
            int bar = (int)Math.Round(40 * x.Perplexity / worst);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{x.Budget,5:F2} |{new string('=', bar),-40}| {x.Perplexity:F3}  {new string('#', (int)Math.Round(10 * x.PasskeyAccuracy)),-10} {x.PasskeyAccuracy:P0}"));
        }
    }
}
