// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Tests;

using HpcCore.Cli.Errors;
using HpcCore.Models.KvCache;
using Xunit;

/// <summary>One test per exit code (docs/CLI.md): the code, and one stderr line that names the culprit.</summary>
[Collection(nameof(ConsoleSwapping))]
public sealed class ExitCodeTests
{
    [Fact]
    public void Help_ListsTheExitCodes()
    {
        var (code, stdout, _) = CliRun.Run("--help");
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("Exit codes:", stdout, StringComparison.Ordinal);
        Assert.Contains("6  out of memory", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownOption_IsUsage_OneLinePerError()
    {
        var (code, _, stderr) = CliRun.Run("lm", "generate", "--model", "m.bin", "--tokenizer", "t.bin", "--bogus", "--top-p", "2");
        Assert.Equal(ExitCodes.Usage, code);
        var lines = Lines(stderr);
        Assert.Equal(2, lines.Length);
        Assert.Contains(lines, l => l.Contains("'--bogus'", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("--top-p 2 is outside [0, 1]", StringComparison.Ordinal));
    }

    [Fact]
    public void MissingModel_IsInputFile_NamingIt()
    {
        var (code, _, stderr) = CliRun.Run("lm", "generate", "--model", "no-such-model.bin", "--tokenizer", "t.bin");
        Assert.Equal(ExitCodes.InputFile, code);
        Assert.Contains("no-such-model.bin", Assert.Single(Lines(stderr)), StringComparison.Ordinal);
    }

    [Fact]
    public void CheckWeights_RefusesANaNWeight_NamingTheTensor()
    {
        using var lm = new TinyLm();
        var bytes = File.ReadAllBytes(lm.Model);
        BitConverter.TryWriteBytes(bytes.AsSpan(28 + 4 * 5), float.NaN); // the token embedding's sixth value
        string nan = Path.Combine(lm.Folder, "nan.bin");
        File.WriteAllBytes(nan, bytes);
        var (code, _, stderr) = CliRun.Run("lm", "generate", "--model", nan, "--tokenizer", lm.Tokenizer, "--steps", "1", "--check-weights");
        Assert.Equal(ExitCodes.Format, code);
        Assert.Contains("token_embedding_table (1 non-finite)", Assert.Single(Lines(stderr)), StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Ok, CliRun.Run("lm", "generate", "--model", lm.Model, "--tokenizer", lm.Tokenizer, "--steps", "1", "--check-weights").Code);
    }

    [Fact]
    public void MalformedCheckpoint_IsFormat_NamingTheFileAndField()
    {
        using var lm = new TinyLm();
        string bad = Path.Combine(lm.Folder, "garbage.bin");
        File.WriteAllBytes(bad, [.. Enumerable.Repeat((byte)0xFF, 100)]);
        var (code, _, stderr) = CliRun.Run("lm", "generate", "--model", bad, "--tokenizer", lm.Tokenizer);
        Assert.Equal(ExitCodes.Format, code);
        string line = Assert.Single(Lines(stderr));
        Assert.Contains("garbage.bin", line, StringComparison.Ordinal);
        Assert.Contains("dim", line, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownDevice_IsDevice()
    {
        Environment.SetEnvironmentVariable("HPCCORE_DEVICE", "tpu");
        try
        {
            var (code, _, stderr) = CliRun.Run("info");
            Assert.True(code == ExitCodes.Device, stderr);
            Assert.Contains("HPCCORE_DEVICE='tpu'", Assert.Single(Lines(stderr)), StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable("HPCCORE_DEVICE", null);
        }
    }

    // Running out of memory on purpose would take the test host with it: the mapping is checked on the exceptions.
    [Fact]
    public void OutOfMemory_AndKvPoolExhausted_AreOutOfMemory()
    {
        Assert.Equal(ExitCodes.OutOfMemory, CliErrors.Classify(new InsufficientMemoryException()).Code);
        Assert.Equal(ExitCodes.OutOfMemory, CliErrors.Classify(new KvCapacityException("KvPagePool.Rent: all 4 pages are in use")).Code);
        using var stderr = new StringWriter();
        Assert.Equal(ExitCodes.OutOfMemory, CliErrors.Report(new InsufficientMemoryException("Tensor.Zeros: 64 GiB"), verbose: false, stderr));
        Assert.StartsWith("hpccore: error: Tensor.Zeros: 64 GiB;", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void UnexpectedException_IsInternal_AndVerboseAddsTheStackTrace()
    {
        var error = Thrown(new InvalidOperationException("boom"));
        using var quiet = new StringWriter();
        Assert.Equal(ExitCodes.Internal, CliErrors.Report(error, verbose: false, quiet));
        Assert.Contains("rerun with --verbose", Assert.Single(Lines(quiet.ToString())), StringComparison.Ordinal);
        using var loud = new StringWriter();
        Assert.Equal(ExitCodes.Internal, CliErrors.Report(error, verbose: true, loud));
        Assert.Contains($"at {typeof(ExitCodeTests).FullName}.{nameof(Thrown)}", loud.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Verbose_PrintsTheStackTraceOfARealError()
    {
        var (code, _, stderr) = CliRun.Run("lm", "generate", "--model", "no-such-model.bin", "--tokenizer", "t.bin", "--verbose");
        Assert.Equal(ExitCodes.InputFile, code);
        Assert.Contains("at HpcCore.Models.Lm.Loading.LmModelFiles.Open", stderr, StringComparison.Ordinal);
    }

    internal static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static Exception Thrown(Exception e)
    {
        try
        {
            throw e;
        }
        catch (Exception caught)
        {
            return caught;
        }
    }
}
