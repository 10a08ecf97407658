// Copyright (c) HpcCore contributors. Licensed under the MIT license.
using System.CommandLine;
using System.Runtime.Intrinsics;
using HpcCore.Cpu;
using HpcCore.Devices;
using Spectre.Console;

namespace HpcCore.Cli.Commands;

/// <summary>`hpccore info`: the devices found, the SIMD width and core count, and the default backend.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var emulators = new Option<bool>("--emulators") { Description = "Also list ILGPU's CPU emulator (tests only)." };
        var command = new Command("info", "Print the devices, SIMD width and core count HpcCore found.") { emulators };
        command.SetAction(result =>
        {
            Run(result.GetValue(emulators));
            return 0;
        });
        return command;
    }

    private static void Run(bool includeEmulators)
    {
        var table = new Table().AddColumns("device", "kind", "name");
        foreach (var d in HpcRuntime.ListDevices(includeEmulators))
            table.AddRow($"{d.Kind.ToString().ToLowerInvariant()}:{d.Ordinal}", d.Kind.ToString(), Markup.Escape(d.Name));
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"cores: {Environment.ProcessorCount}");
        AnsiConsole.MarkupLine($"SIMD: {CpuBackend.SimdWidthBits}-bit (Vector512 accelerated: {Vector512.IsHardwareAccelerated}, " +
                               $"Vector256: {Vector256.IsHardwareAccelerated})");
        AnsiConsole.MarkupLine($"providers: {string.Join(", ", HpcRuntime.Providers.Select(p => p.Name).DefaultIfEmpty("none"))}");
        using var backend = HpcRuntime.CreateDefault();
        var caps = backend.Capabilities;
        AnsiConsole.MarkupLine($"default backend: {Markup.Escape(backend.Device.ToString())} " +
                               $"(cores/SMs {caps.Cores}, memory {caps.MemoryBytes / (1 << 20)} MiB, warp {caps.WarpSize})");
    }
}
