// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Commands.Vlm;

using System.CommandLine;

/// <summary>`hpccore vlm ...`: the grid-scene vision-language pipeline's subcommands.</summary>
internal static class VlmCommand
{
    public static Command Create() => new("vlm", "Vision-language pipeline (LLaVA-style, grid scenes): visual-token reduction before and inside the LM.")
    {
        VlmEvalCommand.Create(),
        VlmAskCommand.Create(),
    };

    /// <summary>The options every vlm subcommand takes: the two model files (paths relative to the repository root by default).</summary>
    public static (Option<FileInfo> Model, Option<FileInfo> Vit) ModelOptions() =>
        (new Option<FileInfo>("--model") { Description = "VLM projector + decoder safetensors (tools/train/vlm/export.py).", DefaultValueFactory = _ => new FileInfo("assets/vlm/vlm-grid.safetensors") },
         new Option<FileInfo>("--vit") { Description = "The vision tower: a ViT safetensors file (the VLM's own, its last blocks tuned with it).", DefaultValueFactory = _ => new FileInfo("assets/vlm/vision.safetensors") });

    /// <summary>`--data`: the Fashion-MNIST IDX folder scenes draw their items from.</summary>
    public static Option<DirectoryInfo> DataOption() =>
        new("--data") { Description = "Folder with t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz].", DefaultValueFactory = _ => new DirectoryInfo("assets/data/fashion-mnist") };

    /// <summary>Throws FileNotFoundException naming the option when a file is missing.</summary>
    public static void Require(FileInfo file, string option)
    {
        if (!file.Exists) throw new FileNotFoundException($"{option}: '{file.FullName}' does not exist.", file.FullName);
    }
}
