// Copyright (c) HpcCore contributors. Licensed under the MIT license.
using System.CommandLine;
using System.Text.Json;
using HpcCore.Cli.Errors;
using HpcCore.Cli.Options;
using HpcCore.Models;
using HpcCore.Models.KvCache;
using HpcCore.Models.Lm;
using HpcCore.Models.Lm.Loading;
using HpcCore.Models.Lm.Sampling;

namespace HpcCore.Cli.Commands.Lm;

/// <summary>`hpccore lm generate`: streams a continuation of a prompt.</summary>
internal static class LmGenerateCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "llama2.c checkpoint (.bin), safetensors file, or Hugging Face folder (config.json + model.safetensors).", Required = true };
        var tokenizer = new Option<string>("--tokenizer") { Description = "Tokenizer, by file type: llama2.c .bin, SentencePiece .model, GPT-2 BPE vocab.json (merges.txt beside) or .tiktoken, or gpt2 (built-in GPT-2 BPE).", Required = true };
        var prompt = new Option<string>("--prompt") { Description = "Prompt text (at most the model's context in tokens).", DefaultValueFactory = _ => "Once upon a time" };
        var kv = new LmKvOptions(allowList: false);
        var budget = new Option<int>("--kv-budget") { Description = "Tokens each head keeps under an evicting or selecting policy.", DefaultValueFactory = _ => 64 }.AtLeast(1);
        var temperature = new Option<float>("--temperature") { Description = "0: greedy.", DefaultValueFactory = _ => 0f }.AtLeast(0f);
        var topK = new Option<int>("--top-k") { Description = "0: off." }.AtLeast(0);
        var topP = new Option<float>("--top-p") { Description = "0: off." }.InRange(0f, 1f);
        var seed = new Option<ulong>("--seed") { Description = "Sampling seed.", DefaultValueFactory = _ => 42UL };
        var steps = new Option<int>("--steps") { Description = "Most new tokens.", DefaultValueFactory = _ => 256 }.AtLeast(0);
        var threads = new Option<int>("--threads") { Description = "CPU threads (0: all cores).", DefaultValueFactory = _ => 1 }.AtLeast(0);
        var json = new Option<bool>("--json") { Description = "Print one JSON object (text, token ids, speed, KV bytes) at the end instead of streaming the text." };
        var checkWeights = CheckWeightsOption.Create();
        var command = new Command("generate", "Generate text from a prompt, streaming it to stdout (device: the best found; HPCCORE_DEVICE=cpu|cuda|opencl|ilgpu-cpu overrides).")
            { model, tokenizer, prompt, budget, temperature, topK, topP, seed, steps, threads, json, checkWeights };
        kv.AddTo(command);
        command.SetAction(r =>
        {
            var (entry, settings) = KvPolicyRegistry.Parse(r.GetValue(kv.Policy)!, new KvPolicySettings { Budget = r.GetValue(budget) });
            using var backend = ModelDevice.OpenBest(r.GetValue(threads));
            CheckWeightsOption.CheckLm(r.GetValue(checkWeights), r.GetValue(model)!);
            var (config, weights, tok) = LmModelFiles.Load(r.GetValue(model)!, r.GetValue(tokenizer)!, backend);
            using var _ = weights;
            string text = r.GetValue(prompt)!;
            CheckPromptFits(tok.Encode(text, addBos: tok.BosId >= 0).Length, config.MaxSeqLen);
            var retrieval = entry.Name == "razor" ? LmRetrievalHeads.Detect(config, weights, backend, period: Math.Max(2, config.MaxSeqLen / 4)) : null;
            var kvPolicy = KvPolicyRegistry.Create(entry.Name, settings with { RetrievalHeads = retrieval, ContextHint = config.MaxSeqLen });
            using var decoder = new LmDecoder(config, weights, backend,
                new LmDecoderOptions(Policy: kvPolicy, Positions: kv.PositionMode(r), CacheDType: kv.CacheDType(r)));
            Console.Error.WriteLine($"[{ModelDevice.Describe(backend)}]");
            var sampling = new SamplerOptions(r.GetValue(temperature), r.GetValue(topK), r.GetValue(topP), r.GetValue(seed));
            bool jsonOut = r.GetValue(json);
            var result = LmGenerator.Generate(decoder, tok, text, r.GetValue(steps), sampling, jsonOut ? null : Console.Write);
            if (jsonOut)
            {
                Console.WriteLine(JsonSerializer.Serialize(new LmGenerateResult(result.Text, result.PromptTokens, result.GeneratedTokens,
                    result.DecodeTokensPerSecond, decoder.Cache.BytesHeld, decoder.Cache.Pool.PeakBytesHeld, kvPolicy.Name,
                    decoder.PositionMode.ToString().ToLowerInvariant()), Indented));
                return 0;
            }
            Console.WriteLine();
            Console.Error.WriteLine($"[{result.PromptTokens.Length} prompt tokens, {result.GeneratedTokens.Length} generated, " +
                                    $"decode {result.DecodeTokensPerSecond:F0} tok/s, KV held {decoder.Cache.BytesHeld} bytes " +
                                    $"(peak {decoder.Cache.Pool.PeakBytesHeld}), policy {kvPolicy.Name}, positions {decoder.PositionMode.ToString().ToLowerInvariant()}]");
            return 0;
        });
        return command;
    }

    // The prompt is prefilled whole, so it must fit the trained context under every policy: eviction and renumbered
    // positions (which let generation run past the context) act only after the prefill.
    private static void CheckPromptFits(int tokens, int context)
    {
        if (tokens > context)
            throw new CliUsageException($"--prompt is {tokens} tokens (with BOS) but the model's context is {context}: shorten the prompt " +
                                        $"to at most {context} tokens (--kv-policy streaming --kv-positions renumbered lets generation, " +
                                        "not the prompt, run past the context)");
    }
}
