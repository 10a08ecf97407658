// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Soak;

/// <summary>One sample of the process's resources (Linux /proc; zeros elsewhere), taken after a full GC.</summary>
internal readonly record struct ProcessGauges(double Minute, long RssBytes, long ManagedBytes, long Mappings, long Descriptors, long PoolLiveBuffers, long PoolRetainedBytes, long Calls)
{
    public static ProcessGauges Take(double minute, HpcCore.Cpu.CpuBackend cpu, long calls)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long rss = 0, maps = 0, fds = 0;
        if (OperatingSystem.IsLinux())
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    rss = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            maps = File.ReadLines("/proc/self/maps").LongCount();
            fds = Directory.GetFiles("/proc/self/fd").Length;
        }
        return new ProcessGauges(minute, rss, GC.GetTotalMemory(false), maps, fds, cpu.Memory.LiveBuffers, cpu.Memory.RetainedBytes, calls);
    }
}
