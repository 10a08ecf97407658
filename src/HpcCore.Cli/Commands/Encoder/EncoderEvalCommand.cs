// Copyright (c) HpcCore contributors. Licensed under the MIT license.
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using HpcCore.Cli.Timing;
using HpcCore.Diagnostics;
using HpcCore.Models;
using HpcCore.Models.Encoder;
using HpcCore.Models.Encoder.Reduction;
using Spectre.Console;

namespace HpcCore.Cli.Commands.Encoder;

/// <summary>
/// `hpccore encoder eval`: token-reduction methods side by side on retrieval sets (tools/encoder-eval/build_sets.py):
/// recall@1, MRR, mean cosine of each reduced embedding to the full model's, and speed-up. Methods run in rotation
/// over several rounds (the interleaved method of `bench quick`) and each one's median time is compared.
/// </summary>
internal static class EncoderEvalCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Hugging Face encoder folder.", Required = true };
        var sets = new Option<string[]>("--set") { Description = "Retrieval set JSON ({queries, documents}); repeatable.", Required = true, AllowMultipleArgumentsPerToken = true };
        var methods = new Option<string[]>("--methods")
        {
            Description = "Method specs, the first being the baseline: none, tome:r=N, tome:ratio=F, evit:keep=F[;layers=a,b].",
            AllowMultipleArgumentsPerToken = true,
            DefaultValueFactory = _ => ["none", "tome:ratio=0.1", "evit:keep=0.7"],
        };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Truncation, [CLS] and [SEP] included.", DefaultValueFactory = _ => 128 };
        var batch = new Option<int>("--batch") { Description = "Texts per forward pass.", DefaultValueFactory = _ => 32 };
        var rounds = new Option<int>("--rounds") { Description = "Timing rounds (each method once per round, rotated).", DefaultValueFactory = _ => 3 };
        var threads = new Option<int>("--threads") { Description = "CPU threads (0: all cores).", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "One JSON line per (set, method) instead of a table." };
        var command = new Command("eval", "Compare token-reduction methods on retrieval sets: quality drop and speed-up.")
            { model, sets, methods, maxTokens, batch, rounds, threads, json };
        command.SetAction(r =>
        {
            using var backend = ModelDevice.OpenBest(Math.Max(0, r.GetValue(threads)));
            using var encoder = EncoderModel.Load(r.GetValue(model)!, backend);
            int depth = encoder.Weights.Config.Layers, max = r.GetValue(maxTokens), b = Math.Max(1, r.GetValue(batch));
            var specs = r.GetValue(methods)!;
            var embedders = specs.Select(s => new SentenceEmbedder(encoder, max, b, EncoderReducers.Parse(s, depth))).ToArray();
            try
            {
                foreach (var path in r.GetValue(sets)!)
                    Evaluate(path, encoder.Name, specs, embedders, Math.Max(1, r.GetValue(rounds)), max, r.GetValue(json));
            }
            finally
            {
                foreach (var e in embedders) e.Dispose();
            }
            return 0;
        });
        return command;
    }

    private static void Evaluate(string path, string modelName, string[] specs, SentenceEmbedder[] embedders, int rounds, int maxTokens, bool json)
    {
        var (name, queries, documents) = ReadSet(path);
        var qTokens = embedders[0].Tokenize(queries);
        var dTokens = embedders[0].Tokenize(documents);
        double meanTokens = qTokens.Concat(dTokens).Average(t => t.Length);
        var times = specs.Select(_ => new List<double>()).ToArray();
        var results = new (float[][] Q, float[][] D)[specs.Length];
        var flops = new double[specs.Length];
        // One untimed pass of each method first: the first call of a method pays JIT compilation, plan building and
        // the first touch of its buffers (the first method's first round timed ~25x slow without it).
        foreach (var embedder in embedders) embedder.Embed(qTokens);
        for (int round = 0; round < rounds; round++)
            for (int k = 0; k < specs.Length; k++)
            {
                int m = (k + round) % specs.Length;
                long t0 = Stopwatch.GetTimestamp();
                var q = embedders[m].Embed(qTokens);
                flops[m] = embedders[m].Flops;
                results[m] = (q, embedders[m].Embed(dTokens));
                flops[m] += embedders[m].Flops;
                times[m].Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
            }
        double baseTime = Quantiles.Median([.. times[0]]);
        var (baseR1, _) = RetrievalMetrics.Score(results[0].Q, results[0].D);
        var table = new Table().Title($"{name} ({queries.Length} pairs, {meanTokens:F0} tokens on average, max {maxTokens}) - {modelName}");
        foreach (var h in new[] { "method", "recall@1", "drop (points)", "MRR", "cosine to full", "FLOPs vs full", "median s", "speed-up (p25-p75)" }) table.AddColumn(h);
        for (int m = 0; m < specs.Length; m++)
        {
            var (r1, mrr) = RetrievalMetrics.Score(results[m].Q, results[m].D);
            double cos = (RetrievalMetrics.MeanCosine(results[m].Q, results[0].Q) + RetrievalMetrics.MeanCosine(results[m].D, results[0].D)) / 2;
            double time = Quantiles.Median([.. times[m]]);
            // Per-round speed-ups (each round ran every method back to back), so the load's swings show as a spread.
            var gain = GainSpread.Of(times[0].Zip(times[m], (b, t) => b / t).ToArray());
            if (json)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{{\"set\":\"{name}\",\"model\":\"{modelName}\",\"method\":\"{specs[m]}\",\"max_tokens\":{maxTokens},\"recall_at_1\":{r1:F4},\"mrr\":{mrr:F4},\"cosine_to_full\":{cos:F5},\"flops_ratio\":{flops[m] / flops[0]:F3},\"median_s\":{time:F3},\"speedup\":{baseTime / time:F3},\"speedup_p25_p75\":[{gain.P25:F3},{gain.P75:F3}]}}"));
            else
                table.AddRow(specs[m], (100 * r1).ToString("F1", CultureInfo.InvariantCulture), (100 * (baseR1 - r1)).ToString("F1", CultureInfo.InvariantCulture),
                    mrr.ToString("F3", CultureInfo.InvariantCulture), cos.ToString("F4", CultureInfo.InvariantCulture),
                    (flops[m] / flops[0]).ToString("F3", CultureInfo.InvariantCulture),
                    time.ToString("F2", CultureInfo.InvariantCulture), m == 0 ? "1 (baseline)" : gain.ToString());
        }
        if (!json) AnsiConsole.Write(table);
        if (MachineLoad.BusyWarning() is { } busy) Console.Error.WriteLine(busy);
    }

    private static (string Name, string[] Queries, string[] Documents) ReadSet(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { MaxDepth = 4 });
        var root = doc.RootElement;
        string[] Strings(string key) =>
            root.ValueKind == JsonValueKind.Object && root.TryGetProperty(key, out var a) && a.ValueKind == JsonValueKind.Array
                ? [.. a.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : throw new InvalidDataException($"encoder eval: {path}: {key} holds a {e.ValueKind}; strings are needed."))]
                : throw new InvalidDataException($"encoder eval: {path} has no array '{key}'.");
        var queries = Strings("queries");
        var documents = Strings("documents");
        if (queries.Length != documents.Length || queries.Length == 0)
            throw new InvalidDataException($"encoder eval: {path} has {queries.Length} queries and {documents.Length} documents; they must pair up (and not be empty).");
        string name = root.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : Path.GetFileNameWithoutExtension(path);
        return (name, queries, documents);
    }
}
