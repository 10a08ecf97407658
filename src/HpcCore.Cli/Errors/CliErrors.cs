// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Errors;

using System.Text.Json;
using HpcCore.Devices;
using HpcCore.Models.KvCache;
using HpcCore.Models.Lm.Loading;

/// <summary>
/// Turns an exception that escaped a command into one line on stderr and an exit code (<see cref="ExitCodes"/>).
/// The library's own exception types carry the detail (the file, the field, the shape); this adds only what the
/// user can do about it, so the line reads "hpccore: error: what went wrong; what to do".
/// </summary>
internal static class CliErrors
{
    /// <summary>Writes the error (and with <paramref name="verbose"/> the whole exception) and returns the exit code.</summary>
    public static int Report(Exception error, bool verbose, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(error);
        ArgumentNullException.ThrowIfNull(stderr);
        var (code, advice) = Classify(error);
        stderr.WriteLine($"hpccore: error: {OneLine(error.Message)}; {advice}");
        if (verbose) stderr.WriteLine(error.ToString());
        return code;
    }

    /// <summary>The exit code and the advice for <paramref name="error"/>; the order matters where types derive from one another.</summary>
    public static (int Code, string Advice) Classify(Exception error) => error switch
    {
        CliUsageException => (ExitCodes.Usage, "see --help"),
        // A truncated file is a malformed file, although EndOfStreamException is an IOException.
        EndOfStreamException or InvalidDataException or FormatException or LmFormatException or JsonException =>
            (ExitCodes.Format, "the file is not a valid model, tokenizer or data file of the kind its name suggests"),
        FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or IOException =>
            (ExitCodes.InputFile, "check the path and its permissions"),
        DeviceException => (ExitCodes.Device, "run `hpccore info` for the devices found, or set HPCCORE_DEVICE=cpu"),
        // ILGPU's accelerator and driver errors (the CLI ships the GPU backend; the library never names ILGPU types).
        _ when error.GetType().Namespace?.StartsWith("ILGPU", StringComparison.Ordinal) == true =>
            (ExitCodes.Device, "the GPU failed; set HPCCORE_DEVICE=cpu to run on the CPU"),
        OutOfMemoryException => (ExitCodes.OutOfMemory, "use a smaller model, --batch or --context, or free memory"),
        KvCapacityException => (ExitCodes.OutOfMemory, "raise --kv-budget or lower --steps"),
        _ => (ExitCodes.Internal, "this is a bug in hpccore: rerun with --verbose and report the stack trace"),
    };

    // Library messages are single sentences, but an inner parser's may span lines; the contract is one line per error.
    public static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).TrimEnd('.');
}
