// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Tests;

using System.Reflection;
using Spectre.Console;

/// <summary>
/// Runs `hpccore ARGS` in this process through the real entry point (Program.cs, every subcommand) and captures what
/// it writes. Console is process-wide, so every test that runs the CLI is in the <see cref="ConsoleSwapping"/>, which
/// xunit never runs in parallel with itself.
/// </summary>
internal static class CliRun
{
    private static readonly MethodInfo EntryPoint = typeof(CliApp).Assembly.EntryPoint
        ?? throw new InvalidOperationException("HpcCore.Cli has no entry point");

    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        Console.SetOut(stdout);
        Console.SetError(stderr);
        // Spectre's console keeps the writer it was created over: a new one over this run's stdout, so that a table
        // lands in the capture and no later run writes to this run's disposed writer.
        var oldAnsi = AnsiConsole.Console;
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stdout) });
        try
        {
            int code = (int)EntryPoint.Invoke(null, [args])!;
            return (code, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
            AnsiConsole.Console = oldAnsi;
        }
    }

    /// <summary>The repository root (assets/ and the stories260K folder are found from it).</summary>
    public static string RepoRoot { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "HpcCore.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no HpcCore.sln above {AppContext.BaseDirectory}");
    }
}

/// <summary>The tests that swap Console's writers or environment variables: run one at a time.</summary>
[Xunit.CollectionDefinition(nameof(ConsoleSwapping), DisableParallelization = true)]
public sealed class ConsoleSwapping;
