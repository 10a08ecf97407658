// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Logging;

using System.CommandLine;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

/// <summary>
/// The CLI's logger for the libraries' optional logging (device chosen, fallbacks, load times): with --verbose,
/// one "[hpccore] message" line per event on stderr (stdout stays the command's output, JSON included); otherwise
/// nothing.
/// </summary>
internal static class CliLog
{
    public static ILogger For(ParseResult result) => result.GetValue(CliApp.Verbose) ? new StderrLogger() : NullLogger.Instance;

    private sealed class StderrLogger : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            string level = logLevel >= LogLevel.Warning ? logLevel.ToString().ToLowerInvariant() + ": " : "";
            Console.Error.WriteLine($"[hpccore] {level}{formatter(state, exception)}");
        }
    }
}
