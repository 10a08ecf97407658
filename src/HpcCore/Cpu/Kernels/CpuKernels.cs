// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The CPU backend's kernel set. One partial file per op under Cpu/Kernels; this file holds the shared plumbing.
// The loops a decoder step runs (GEMV, paged attention, softmax, norms, SwiGLU, RoPE, KV row moves, embedding
// gather) are marked AggressiveOptimization: with tiered compilation a method with a loop starts as tier-0 code and
// is promoted only ~100 ms after the process stops jitting new methods, so a short generation (a few hundred tokens,
// ~0.1 s) ran most of its steps unoptimised (stories260K: ~5k tok/s against ~27k in the steady state).
namespace HpcCore.Cpu;

using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>SIMD CPU kernels (one partial file per op). Arguments arrive validated from the op front doors.</summary>
internal sealed unsafe partial class CpuKernels : IKernels
{
    // Below this many elements per work item, waking a worker costs more than it saves.
    private const long MinElementsPerItem = 16 * 1024;

    private readonly CpuBackend _backend;

    public CpuKernels(CpuBackend backend) => _backend = backend;

    private CpuWorkerPool Pool => _backend.Pool;

    /// <summary>Typed pointer to element [0, ...] of a CPU tensor.</summary>
    internal static T* Ptr<T>(Tensor t) where T : unmanaged =>
        (T*)(((CpuStorage)t.Storage).Pointer + t.ByteOffset);

    /// <summary>How many work items to split <paramref name="rows"/> rows of <paramref name="rowLength"/> elements into.</summary>
    private int ItemsFor(long rows, long rowLength)
    {
        long total = rows * Math.Max(1, rowLength);
        long byWork = Math.Max(1, total / MinElementsPerItem);
        return (int)Math.Min(rows, Math.Min(byWork, Pool.ActiveThreads * 4L));
    }

    /// <summary>Splits [0, count) into <paramref name="items"/> near-equal ranges; returns range <paramref name="item"/>.</summary>
    internal static (long Start, long End) Range(long count, int items, int item) =>
        (count * item / items, count * (item + 1) / items);
}
