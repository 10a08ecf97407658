// Copyright (c) HpcCore contributors. Licensed under the MIT license.
using System.CommandLine;
using HpcCore.Cli.Errors;
using HpcCore.Cpu;
using HpcCore.Models.Lm.Loading;
using HpcCore.Models.Lm.Loading.Gguf;
using HpcCore.Models.Lm.Tokenization;

namespace HpcCore.Cli.Commands.Lm;

/// <summary>`hpccore lm convert`: writes any Llama-family model the loader reads (a Hugging Face folder included) as a self-contained llama GGUF file.</summary>
internal static class LmConvertCommand
{
    private static readonly Dictionary<string, GgufTensorType> Types = new(StringComparer.Ordinal)
    {
        ["f32"] = GgufTensorType.F32, ["f16"] = GgufTensorType.F16, ["bf16"] = GgufTensorType.BF16, ["q8_0"] = GgufTensorType.Q8_0,
    };

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model to convert (any --model lm generate reads).", Required = true };
        var tokenizer = new Option<string>("--tokenizer") { Description = "Its llama2.c/SentencePiece-style tokenizer (.bin) or byte-level BPE tokenizer.json (Llama 3's pre-tokenizer); not needed for a Hugging Face folder or a .gguf model." };
        var to = new Option<string>("--to") { Description = "Output format.", DefaultValueFactory = _ => "gguf" };
        to.AcceptOnlyFromAmong("gguf");
        var type = new Option<string>("--type") { Description = "Type of the weight matrices (norms stay f32; so do matrices whose rows are not whole q8_0 blocks).", DefaultValueFactory = _ => "f32" };
        type.AcceptOnlyFromAmong([.. Types.Keys]);
        var output = new Option<string>("--out") { Description = "Output file (.gguf).", Required = true };
        var command = new Command("convert", "Convert a Llama-family model and its tokenizer to one GGUF file (llama architecture) that llama.cpp and hpccore read.")
            { model, tokenizer, to, type, output };
        command.SetAction(r =>
        {
            using var cpu = new CpuBackend(threads: 1);
            var (config, weights, tok) = LmModelFiles.Load(r.GetValue(model)!, LmModelPaths.Tokenizer(r.GetValue(model)!, r.GetValue(tokenizer)), cpu);
            using var _ = weights;
            if (tok is not LlamaCTokenizer && tok is not MlTextTokenizer { ByteLevelBpe: not null })
                throw new CliUsageException("--tokenizer must be a llama2.c-style .bin tokenizer or a byte-level BPE tokenizer.json (or the model a Hugging Face folder or a .gguf): GGUF's llama vocabulary holds SentencePiece pieces or byte-level BPE tokens and merges");
            var stored = Types[r.GetValue(type)!];
            try
            {
                GgufLlamaWriter.Write(r.GetValue(output)!, config, weights, tok, stored, Path.GetFileNameWithoutExtension(Path.TrimEndingDirectorySeparator(r.GetValue(model)!)));
            }
            catch (ArgumentException e)
            {
                // The model or tokenizer has something GGUF's llama cannot hold (biases, another pre-tokenizer...).
                throw new CliUsageException(e.Message);
            }
            Console.Error.WriteLine($"[wrote {r.GetValue(output)}: {config.Layers} layers x {config.Dim}, vocab {config.VocabSize}, {stored}]");
            return 0;
        });
        return command;
    }
}
