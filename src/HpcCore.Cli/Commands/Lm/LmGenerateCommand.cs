// Copyright (c) HpcCore contributors. Licensed under the MIT license.
using System.CommandLine;
using System.Text.Json;
using HpcCore.Cli.Errors;
using HpcCore.Cli.Logging;
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
        var model = new Option<string>("--model") { Description = "llama2.c checkpoint (.bin), safetensors file, Hugging Face folder (config.json, model.safetensors or a sharded index; Llama, Mistral, Qwen2, GPT-2), or llama GGUF file (.gguf, tokenizer embedded).", Required = true };
        var tokenizer = new Option<string>("--tokenizer") { Description = "Tokenizer, by file type: llama2.c .bin, SentencePiece .model, tokenizer.json (byte-level BPE), GPT-2 BPE vocab.json (merges.txt beside) or .tiktoken, or gpt2 (built-in GPT-2 BPE). Default for a Hugging Face folder or a .gguf model: its own." };
        var prompt = new Option<string>("--prompt") { Description = "Prompt text (at most the model's context in tokens).", DefaultValueFactory = _ => "Once upon a time" };
        var kv = new LmKvOptions(allowList: false);
        var budget = new Option<int>("--kv-budget") { Description = "Tokens each head keeps under an evicting or selecting policy.", DefaultValueFactory = _ => 64 }.AtLeast(1);
        var temperature = new Option<float>("--temperature") { Description = "0: greedy. Default: the folder's generation_config.json, else 0.", DefaultValueFactory = _ => 0f }.AtLeast(0f);
        var topK = new Option<int>("--top-k") { Description = "0: off. Default: generation_config.json, else 0." }.AtLeast(0);
        var topP = new Option<float>("--top-p") { Description = "0: off. Default: generation_config.json, else 0." }.InRange(0f, 1f);
        var context = new Option<int>("--context")
        {
            Description = "Keep at most N tokens and shift past them: the StreamingLLM policy (4 attention sinks + the most recent tokens) with " +
                          "renumbered positions, so generation runs past N and past the model's context. N < the model's context.",
        }.AtLeast(5);
        var seed = new Option<ulong>("--seed") { Description = "Sampling seed.", DefaultValueFactory = _ => 42UL };
        var steps = new Option<int>("--steps") { Description = "Most new tokens.", DefaultValueFactory = _ => 256 }.AtLeast(0);
        var threads = new Option<int>("--threads") { Description = "CPU threads (0: all cores).", DefaultValueFactory = _ => 1 }.AtLeast(0);
        var json = new Option<bool>("--json") { Description = "Print one JSON object (text, token ids, speed, KV bytes) at the end instead of streaming the text." };
        var checkWeights = CheckWeightsOption.Create();
        var weightsDType = WeightsDTypeOption.Create();
        var command = new Command("generate", "Generate text from a prompt, streaming it to stdout (device: the best found; HPCCORE_DEVICE=cpu|cuda|opencl|ilgpu-cpu overrides).")
            { model, tokenizer, prompt, budget, temperature, topK, topP, context, seed, steps, threads, json, checkWeights, weightsDType };
        kv.AddTo(command);
        command.SetAction(r =>
        {
            int? window = r.GetResult(context) is { Implicit: false } ? r.GetValue(context) : null;
            if (window is not null)
                foreach (Option o in new Option[] { kv.Policy, kv.Positions, budget })
                    if (r.GetResult(o) is { Implicit: false })
                        throw new CliUsageException($"--context sets the KV policy (streaming), its budget and renumbered positions; drop {o.Name}");
            string spec = window is { } n ? $"streaming:sinks={StreamingSinks}" : r.GetValue(kv.Policy)!;
            var (entry, settings) = KvPolicyRegistry.Parse(spec, new KvPolicySettings { Budget = window ?? r.GetValue(budget) });
            string modelPath = r.GetValue(model)!;
            string? tokenizerPath = LmModelPaths.Tokenizer(modelPath, r.GetValue(tokenizer));
            var log = CliLog.For(r);
            using var backend = ModelDevice.OpenBest(r.GetValue(threads), logger: log);
            CheckWeightsOption.CheckLm(r.GetValue(checkWeights), modelPath);
            var lm = LmModelFiles.Open(modelPath, tokenizerPath, backend, log, new LmLoadOptions(WeightsDTypeOption.Parse(r.GetValue(weightsDType)!)));
            var (config, weights, tok) = (lm.Config, lm.Weights, lm.Tokenizer);
            using var _ = weights;
            if (window >= config.MaxSeqLen)
                throw new CliUsageException($"--context {window} is outside [5, {config.MaxSeqLen - 1}]: it must stay below the model's {config.MaxSeqLen} trained positions");
            if (window is not null && (config.Architecture != LmArchitecture.Llama || config.RopeScaling is not null))
                throw new CliUsageException($"--context shifts by renumbering RoPE positions, which this model cannot do " +
                                            $"({(config.RopeScaling is not null ? "llama3 rope_scaling" : "learned positions")}); generate within its {config.MaxSeqLen}-token context instead");
            string text = r.GetValue(prompt)!;
            CheckPromptFits(tok.Encode(text, addBos: tok.BosId >= 0).Length, window ?? config.MaxSeqLen, window is not null);
            var retrieval = entry.Name == "razor" ? LmRetrievalHeads.Detect(config, weights, backend, period: Math.Max(2, config.MaxSeqLen / 4)) : null;
            var kvPolicy = KvPolicyRegistry.Create(entry.Name, settings with { RetrievalHeads = retrieval, ContextHint = config.MaxSeqLen });
            // A shifting window appends one token before the policy evicts back to N: the cache holds N + 1.
            using var decoder = new LmDecoder(config, weights, backend,
                new LmDecoderOptions(Policy: kvPolicy, Positions: window is null ? kv.PositionMode(r) : KvPositionMode.Renumbered,
                    CacheDType: kv.CacheDType(r), MaxTokens: window + 1 ?? 0));
            Console.Error.WriteLine($"[{ModelDevice.Describe(backend)}]");
            float? Given(Option<float> o) => r.GetResult(o) is { Implicit: false } ? r.GetValue(o) : null;
            int? givenTopK = r.GetResult(topK) is { Implicit: false } ? r.GetValue(topK) : null;
            var sampling = lm.Generation.Sampler(Given(temperature), givenTopK, Given(topP), r.GetValue(seed));
            bool jsonOut = r.GetValue(json);
            var result = LmGenerator.Generate(decoder, tok, text, r.GetValue(steps), sampling, jsonOut ? null : Console.Write, lm.StopIds);
            if (jsonOut)
            {
                Console.WriteLine(JsonSerializer.Serialize(new LmGenerateResult(result.Text, result.PromptTokens, result.GeneratedTokens,
                    result.DecodeTokensPerSecond, decoder.Cache.BytesHeld, decoder.Cache.Pool.PeakBytesHeld, kvPolicy.Name,
                    decoder.PositionMode.ToString().ToLowerInvariant(), sampling.Temperature, sampling.TopK, sampling.TopP, window), Indented));
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

    // --context's attention sinks: StreamingLLM's 4 (Xiao et al. 2024, section 3.2).
    private const int StreamingSinks = 4;

    // The prompt is prefilled whole, so it must fit the trained context (or the --context window) under every policy:
    // eviction and renumbered positions (which let generation run past the context) act only after the prefill.
    private static void CheckPromptFits(int tokens, int context, bool window)
    {
        if (tokens > context)
            throw new CliUsageException(window
                ? $"--prompt is {tokens} tokens (with BOS) but --context is {context}: the prompt is prefilled whole, so raise --context or shorten the prompt"
                : $"--prompt is {tokens} tokens (with BOS) but the model's context is {context}: shorten the prompt " +
                  $"to at most {context} tokens (--context N, or --kv-policy streaming --kv-positions renumbered, lets generation, " +
                  "not the prompt, run past the context)");
    }
}
