// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The machine's load, reported beside every timing HpcCore's tools print: on a shared machine a run next to other
// work measures the scheduler as much as the kernels, and the reader must be told (issue #18).
using System.Globalization;

namespace HpcCore.Diagnostics;

/// <summary>The one-minute load average, and whether it shows the machine busy.</summary>
public static class MachineLoad
{
    /// <summary>The one-minute load average from /proc/loadavg, or null where there is none (not Linux).</summary>
    public static double? Load1()
    {
        try
        {
            string text = File.ReadAllText("/proc/loadavg");
            int space = text.IndexOf(' ', StringComparison.Ordinal);
            return double.Parse(space < 0 ? text : text[..space], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    /// <summary>Busy: more runnable threads than the cores there are, by more than half a core.</summary>
    public static bool IsBusy(double load1) => load1 > Environment.ProcessorCount + 0.5;

    /// <summary>A one-line warning when the machine is busy now, or null.</summary>
    public static string? BusyWarning()
    {
        if (Load1() is not { } load || !IsBusy(load)) return null;
        return string.Create(CultureInfo.InvariantCulture,
            $"warning: load average {load:F1} on {Environment.ProcessorCount} cores: the machine is busy, so timings and speed ratios are unreliable; read the spreads, or rerun when it is quiet.");
    }
}
