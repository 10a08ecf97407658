// Copyright (c) HpcCore contributors. Licensed under the MIT license.
using System.Runtime.InteropServices;

namespace HpcCore.Tools.OldVsNew;

/// <summary>
/// CPU time of the calling thread (clock_gettime(CLOCK_THREAD_CPUTIME_ID), nanosecond resolution). On a shared,
/// oversubscribed machine the wall clock mostly measures waiting for a core; for one-thread work this counts only the
/// work itself (cache and memory-bandwidth interference from other processes still show).
/// </summary>
internal static class ThreadClock
{
    private const int ClockThreadCpuTimeId = 3;

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out Timespec time);

    /// <summary>Seconds of CPU time this thread has used, or NaN off Linux.</summary>
    public static double Seconds()
    {
        if (!OperatingSystem.IsLinux() || ClockGetTime(ClockThreadCpuTimeId, out var t) != 0) return double.NaN;
        return t.Seconds + t.Nanoseconds * 1e-9;
    }
}
