// Copyright (c) HpcCore contributors. Licensed under the MIT license.
using System.CommandLine;
using HpcCore.Cli.Commands.Vit;
using HpcCore.Cli.Options;

namespace HpcCore.Cli.Commands;

/// <summary>
/// `hpccore demo`: `vit eval` on the committed Fashion-MNIST ViT and test images (assets/, so run it from the
/// repository root or name the files) with every token-reduction method, plot and merge maps included. `./build.sh
/// demo` runs exactly this; the method list lives here only.
/// </summary>
internal static class DemoCommand
{
    /// <summary>One or more settings of every method that applies to a classifier (docs/VIT.md explains each).</summary>
    public const string Methods =
        "baseline,tome:r=8,tome:r=16,tome:r=24,tome:r=26,tome:r=32,28,28,24,24,20,16,16,tome:r=32,evit:keep=0.7,vtc:keep=0.5," +
        "vtc:keep=0.5;from=4,ztp:keep=0.5,hiprune:keep=0.3;layer=2;object=1,fopru:keep=0.3;layer=2,todre:keep=0.3;layers=2," +
        "mmtok:keep=0.3;layers=2,aim:from=2;to=6,expedit:size=7;layer=2";

    public static Command Create()
    {
        var model = new Option<FileInfo>("--model") { Description = "ViT safetensors file.", DefaultValueFactory = _ => new FileInfo("assets/vit/vit-fmnist.safetensors") };
        var data = new Option<DirectoryInfo>("--data") { Description = "IDX image folder.", DefaultValueFactory = _ => new DirectoryInfo("assets/data/fashion-mnist") };
        var plot = new Option<FileInfo>("--plot") { Description = "Accuracy-vs-throughput PNG.", DefaultValueFactory = _ => new FileInfo("artifacts/demo/pareto.png") };
        var visualize = new Option<FileInfo>("--visualize") { Description = "Merge maps PNG.", DefaultValueFactory = _ => new FileInfo("artifacts/demo/merges.png") };
        var limit = new Option<int>("--limit") { Description = "Score at most this many images.", DefaultValueFactory = _ => int.MaxValue }.AtLeast(1);
        var json = new Option<bool>("--json") { Description = "Print the results as JSON instead of a table." };
        var command = new Command("demo", "The committed Fashion-MNIST ViT on its 1,000 test images with every token-reduction method: " +
                                          "accuracy, speed, a plot and merge maps (vit eval with the demo's methods; run from the repository root).")
        {
            model, data, plot, visualize, limit, json,
        };
        command.SetAction(r => VitEvalCommand.Run(r.GetValue(model)!, r.GetValue(data)!, Methods, r.GetValue(limit), batch: 64, threads: 0,
            r.GetValue(plot), r.GetValue(visualize), r.GetValue(json), rounds: 5));
        return command;
    }
}
