// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Errors;

/// <summary>
/// A command-line value that parses but is refused: a method or KV policy spec the registries reject, or an option
/// out of range for the model loaded (--context beyond its trained length). Exit code 2, like a parse error.
/// </summary>
internal sealed class CliUsageException : Exception
{
    public CliUsageException() { }

    public CliUsageException(string message) : base(message) { }

    public CliUsageException(string message, Exception inner) : base(message, inner) { }
}
