// Copyright (c) HpcCore contributors. Licensed under the MIT license.
using System.Globalization;
using CoreLoad = HpcCore.Diagnostics.MachineLoad;

namespace HpcCore.Benchmarks.Quick;

/// <summary>The load fields of a quick-bench JSON line (HpcCore.Diagnostics.MachineLoad), warning once when busy.</summary>
public static class MachineLoad
{
    private static int s_warned;

    /// <summary><c>"load1":x,"busy":b</c>; the first busy reading also warns on stderr.</summary>
    public static string Json()
    {
        if (CoreLoad.Load1() is not { } load) return "\"load1\":null,\"busy\":null";
        if (CoreLoad.BusyWarning() is { } warning && Interlocked.Exchange(ref s_warned, 1) == 0) Console.Error.WriteLine(warning);
        return string.Create(CultureInfo.InvariantCulture, $"\"load1\":{load:F2},\"busy\":{(CoreLoad.IsBusy(load) ? "true" : "false")}");
    }
}
