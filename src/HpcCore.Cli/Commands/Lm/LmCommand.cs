// Copyright (c) HpcCore contributors. Licensed under the MIT license.
using System.CommandLine;

namespace HpcCore.Cli.Commands.Lm;

/// <summary>`hpccore lm ...`: decoder language models (generate, eval).</summary>
internal static class LmCommand
{
    public static Command Create()
    {
        var command = new Command("lm", "Decoder language models: text generation, KV-cache policy evaluation and conversion to GGUF.");
        command.Subcommands.Add(LmGenerateCommand.Create());
        command.Subcommands.Add(LmEvalCommand.Create());
        command.Subcommands.Add(LmConvertCommand.Create());
        return command;
    }
}
