// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Per-thread scratch for the attention kernels. The worker pool's threads live as long as the process, so a
// thread-static native buffer that only grows gives every call after the first zero allocations and no page
// faults (it is pre-touched once, when it grows).
using System.Runtime.InteropServices;

namespace HpcCore.Cpu;

/// <summary>A growable, 64-byte aligned native float buffer per thread.</summary>
internal static unsafe class AttentionScratch
{
    [ThreadStatic]
    private static float* t_buffer;

    [ThreadStatic]
    private static long t_floats;

    /// <summary>This thread's buffer of at least <paramref name="floats"/> floats (contents undefined).</summary>
    public static float* Get(long floats)
    {
        if (floats <= t_floats) return t_buffer;
        long size = Math.Max(floats, t_floats * 2);
        if (t_buffer != null) NativeMemory.AlignedFree(t_buffer);
        t_buffer = (float*)NativeMemory.AlignedAlloc((nuint)(size * sizeof(float)), CpuMemoryPool.Alignment);
        NativeMemory.Clear(t_buffer, (nuint)(size * sizeof(float)));
        t_floats = size;
        return t_buffer;
    }
}
