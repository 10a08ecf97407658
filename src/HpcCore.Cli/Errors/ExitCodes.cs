// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Errors;

/// <summary>
/// The process exit codes, one per kind of failure, so that a script can tell a typo from a missing file from a
/// broken model without reading the message. `--help` prints <see cref="HelpText"/>; docs/CLI.md lists the same.
/// </summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Internal = 1;
    public const int Usage = 2;
    public const int InputFile = 3;
    public const int Format = 4;
    public const int Device = 5;
    public const int OutOfMemory = 6;

    public static string HelpText { get; } =
        "Exit codes:\n" +
        "  0  success\n" +
        "  1  unexpected internal error (a bug: rerun with --verbose for the stack trace)\n" +
        "  2  usage: unknown option, bad value, bad method or KV policy spec\n" +
        "  3  an input file is missing or unreadable\n" +
        "  4  a model, tokenizer or data file is malformed\n" +
        "  5  device: the requested device could not be opened (HPCCORE_DEVICE)\n" +
        "  6  out of memory (host, device or KV page pool)";
}
