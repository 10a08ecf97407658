// Copyright (c) HpcCore contributors. Licensed under the MIT license.
using System.CommandLine;

namespace HpcCore.Cli.Commands.Encoder;

/// <summary>`hpccore encoder ...` (prepare, eval) and `hpccore embed`: sentence encoders (issue #17).</summary>
internal static class EncoderCommands
{
    /// <summary>Adds `encoder` and `embed` to <paramref name="root"/>.</summary>
    public static void AddTo(RootCommand root)
    {
        var encoder = new Command("encoder", "Sentence encoders (BERT family): prepare pretrained models, evaluate token reduction.");
        encoder.Subcommands.Add(EncoderPrepareCommand.Create());
        encoder.Subcommands.Add(EncoderEvalCommand.Create());
        root.Subcommands.Add(encoder);
        root.Subcommands.Add(EmbedCommand.Create());
    }
}
