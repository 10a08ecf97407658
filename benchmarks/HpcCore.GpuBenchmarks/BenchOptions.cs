// Copyright (c) HpcCore contributors. Licensed under the MIT license.
using System.Globalization;

namespace HpcCore.GpuBenchmarks;

using HpcCore.Tensors;

/// <summary>Command-line options of the GPU benchmark.</summary>
public sealed record BenchOptions
{
    /// <summary>Usage text.</summary>
    public const string Usage =
        "usage: HpcCore.GpuBenchmarks [--smoke] [--dtype f32|f16|all] [--only TEXT] [--min-seconds S] [--max-iters N] [--warmup N]\n" +
        "  --smoke        tiny shapes on ILGPU's CPU emulator (no GPU needed)\n" +
        "  --dtype        operand dtype(s) (default all: f32 then f16)\n" +
        "  --only         only shapes whose key contains TEXT (e.g. Tq16384)\n" +
        "  --min-seconds  timed time per shape, about (default 1); at least 5 calls\n" +
        "  --max-iters    most timed calls per shape (default 100)\n" +
        "  --warmup       untimed calls after the accuracy check (default 3)";

    /// <summary>Tiny shapes on the emulator.</summary>
    public bool Smoke { get; init; }

    /// <summary>Operand dtypes to run.</summary>
    public IReadOnlyList<DType> DTypes { get; init; } = [DType.F32, DType.F16];

    /// <summary>Shape key filter.</summary>
    public string? Only { get; init; }

    /// <summary>Approximate timed seconds per shape.</summary>
    public double MinSeconds { get; init; } = 1.0;

    /// <summary>Most timed calls per shape.</summary>
    public int MaxIters { get; init; } = 100;

    /// <summary>Untimed calls before timing.</summary>
    public int Warmup { get; init; } = 3;

    /// <summary>Parses <paramref name="args"/>; on failure <paramref name="error"/> says why.</summary>
    public static bool TryParse(string[] args, out BenchOptions options, out string? error)
    {
        options = new BenchOptions();
        error = null;
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string? value = i + 1 < args.Length ? args[i + 1] : null;
            switch (a)
            {
                case "--smoke":
                    options = options with { Smoke = true };
                    continue;
                case "--dtype" when value is "f32" or "f16" or "all":
                    options = options with
                    {
                        DTypes = value == "f32" ? [DType.F32] : value == "f16" ? [DType.F16] : [DType.F32, DType.F16],
                    };
                    break;
                case "--only" when value is not null:
                    options = options with { Only = value };
                    break;
                case "--min-seconds" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && s > 0:
                    options = options with { MinSeconds = s };
                    break;
                case "--max-iters" when int.TryParse(value, CultureInfo.InvariantCulture, out int n) && n >= 5:
                    options = options with { MaxIters = n };
                    break;
                case "--warmup" when int.TryParse(value, CultureInfo.InvariantCulture, out int w) && w >= 0:
                    options = options with { Warmup = w };
                    break;
                default:
                    error = $"HpcCore.GpuBenchmarks: bad argument '{a}'{(value is null ? "" : $" '{value}'")}.";
                    return false;
            }
            i++;
        }
        return true;
    }
}
