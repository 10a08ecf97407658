// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli;

using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using HpcCore.Cli.Errors;

/// <summary>
/// The root command and how it runs: parse errors become one line each and exit code 2, exceptions from a command
/// go through <see cref="CliErrors"/>, and every `--help` ends with the exit codes. Program.cs adds the subcommands.
/// </summary>
internal static class CliApp
{
    /// <summary>Prints the stack trace of an error as well as its one-line message (every command takes it).</summary>
    public static Option<bool> Verbose { get; } = new("--verbose") { Description = "Log the device chosen, fallbacks and load times to stderr; on an error, print the stack trace too.", Recursive = true };

    public static RootCommand CreateRoot()
    {
        var root = new RootCommand("HpcCore: fused transformer kernels, token reduction and model pipelines for .NET.") { Verbose };
        var help = root.Options.OfType<HelpOption>().Single();
        help.Action = new HelpWithExitCodes((SynchronousCommandLineAction)help.Action!);
        return root;
    }

    /// <summary>Parses <paramref name="args"/> and runs the command; returns the exit code.</summary>
    public static int Invoke(RootCommand root, string[] args)
    {
        ArgumentNullException.ThrowIfNull(root);
        var parsed = root.Parse(args);
        var stderr = Console.Error;
        // A parse error is reported here, not by System.CommandLine's handler, which prints the whole help after it.
        if (parsed.Errors.Count > 0 && parsed.Action is not HelpWithExitCodes)
        {
            foreach (var e in parsed.Errors) stderr.WriteLine($"hpccore: error: {CliErrors.OneLine(e.Message)}; see --help");
            return ExitCodes.Usage;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            Console.Out.Flush();
            return CliErrors.Report(e, parsed.GetValue(Verbose), stderr);
        }
    }

    /// <summary>System.CommandLine's help, then the exit codes.</summary>
    private sealed class HelpWithExitCodes(SynchronousCommandLineAction inner) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            int code = inner.Invoke(parseResult);
            parseResult.InvocationConfiguration.Output.WriteLine(ExitCodes.HelpText);
            return code;
        }
    }
}
