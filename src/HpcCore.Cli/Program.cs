// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The `hpccore` command: one subcommand per file under Commands/; CliApp handles errors and exit codes.
using HpcCore.Cli;
using HpcCore.Cli.Commands;
using HpcCore.Cli.Commands.Vit;

var root = CliApp.CreateRoot();
root.Subcommands.Add(InfoCommand.Create());
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(HpcCore.Cli.Commands.Lm.LmCommand.Create());
root.Subcommands.Add(VitCommand.Create());
root.Subcommands.Add(HpcCore.Cli.Commands.Vlm.VlmCommand.Create());
HpcCore.Cli.Commands.Encoder.EncoderCommands.AddTo(root);
return CliApp.Invoke(root, args);
