// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The `hpccore` command: one subcommand per file under Commands/.
using System.CommandLine;
using HpcCore.Cli.Commands;
using HpcCore.Cli.Commands.Vit;

var root = new RootCommand("HpcCore: fused transformer kernels, token reduction and model pipelines for .NET.");
root.Subcommands.Add(InfoCommand.Create());
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(HpcCore.Cli.Commands.Lm.LmCommand.Create());
root.Subcommands.Add(VitCommand.Create());
HpcCore.Cli.Commands.Encoder.EncoderCommands.AddTo(root);
return root.Parse(args).Invoke();
