// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Commands.Vit;

using System.CommandLine;

/// <summary>`hpccore vit ...`: the ViT pipeline's subcommands.</summary>
internal static class VitCommand
{
    public static Command Create() => new("vit", "Vision Transformer pipeline: evaluation with token reduction, classifying image files.")
    {
        VitEvalCommand.Create(),
        VitClassifyCommand.Create(),
    };
}
