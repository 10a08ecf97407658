// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Axis reductions, PageRank and adaptive average pooling on ILGPU, one thread per output element (grid-stride),
// each accumulating in the CPU's order (ascending axis index / ascending i), so no atomics and deterministic results.
// PageRank: one launch per iteration (next[s, j] = sum_i cur[s, i] M[s, i, j], coalesced over j), ping-ponging
// between the destination and a pooled buffer so that the last iteration lands in the destination.
// Limits: contiguous F32.
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace HpcCore.Gpu.Kernels;

using HpcCore.Kernels;

/// <summary>Dims of the axis reduction.</summary>
internal readonly struct AxisParams(long outer, int length, long inner, int kind)
{
    public readonly long Outer = outer;
    public readonly int Length = length;
    public readonly long Inner = inner;
    public readonly int Kind = kind;
}

/// <summary>Dims of the pooling kernel.</summary>
internal readonly struct PoolParams(int batch, int h, int w, int outH, int outW, int c)
{
    public readonly int Batch = batch;
    public readonly int H = h;
    public readonly int W = w;
    public readonly int OutH = outH;
    public readonly int OutW = outW;
    public readonly int C = c;
}

/// <summary>Axis reduction, PageRank and pooling launchers.</summary>
internal sealed class GraphKernels(Accelerator accelerator, LaunchPolicy policy, IlgpuMemoryPool memory)
{
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, AxisParams> _reduce =
        accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, AxisParams>(Kernel);
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, long, int, int> _init =
        accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, long, int, int>(PageRankInitKernel);
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int> _step =
        accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int>(PageRankStepKernel);
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, PoolParams> _pool =
        accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, PoolParams>(PoolKernel);

    public void AxisReduce(in AxisReduceArgs a)
    {
        long outputs = a.Outer * a.Inner;
        if (outputs == 0) return;
        long n = outputs * a.Length;
        int group = policy.ElementwiseGroupSize;
        _reduce(new KernelConfig(policy.GridFor(outputs, group), group),
            n == 0 ? DeviceViews.Whole<float>(a.X) : DeviceViews.Elements<float>(a.X, n), DeviceViews.Elements<float>(a.Dest, outputs),
            new AxisParams(a.Outer, a.Length, a.Inner, (int)a.Kind));
    }

    public void PageRank(in PageRankArgs a)
    {
        long total = a.Slices * a.N;
        if (total == 0) return;
        int group = policy.ElementwiseGroupSize;
        var config = new KernelConfig(policy.GridFor(total, group), group);
        var dest = DeviceViews.Elements<float>(a.Dest, total);
        var m = DeviceViews.Elements<float>(a.Transition, total * a.N);
        var buffer = memory.Rent(total * sizeof(float));
        try
        {
            var other = ((ArrayView<byte>)buffer.View).SubView(0, total * sizeof(float)).Cast<float>();
            // Start where an even number of swaps ends in the destination.
            var cur = a.Iterations % 2 == 0 ? dest : other;
            var next = a.Iterations % 2 == 0 ? other : dest;
            _init(config, a.Initial is null ? dest : DeviceViews.Elements<float>(a.Initial, total), cur, total, a.N, a.Initial is null ? 0 : 1);
            for (int t = 0; t < a.Iterations; t++)
            {
                _step(config, m, cur, next, total, a.N);
                (cur, next) = (next, cur);
            }
        }
        finally
        {
            memory.Return(buffer);
        }
    }

    public void AdaptiveAvgPool2D(in AdaptivePoolArgs a)
    {
        long outputs = (long)a.Batch * a.OutH * a.OutW * a.C;
        if (outputs == 0) return;
        int group = policy.ElementwiseGroupSize;
        _pool(new KernelConfig(policy.GridFor(outputs, group), group),
            DeviceViews.Elements<float>(a.X, (long)a.Batch * a.H * a.W * a.C), DeviceViews.Elements<float>(a.Dest, outputs),
            new PoolParams(a.Batch, a.H, a.W, a.OutH, a.OutW, a.C));
    }

    /// <summary>d[o, i] = reduce over l of x[o, l, i] (kind 0 sum, 1 mean, 2 root mean square).</summary>
    /// <param name="x">[Outer, Length, Inner] input.</param>
    /// <param name="d">[Outer, Inner] output.</param>
    /// <param name="p">Dims and kind.</param>
    internal static void Kernel(ArrayView<float> x, ArrayView<float> d, AxisParams p)
    {
        long total = p.Outer * p.Inner;
        long gridStride = (long)Grid.DimX * Group.DimX;
        for (long t = Grid.GlobalIndex.X; t < total; t += gridStride)
        {
            long o = t / p.Inner, i = t - o * p.Inner;
            long at = o * p.Length * p.Inner + i;
            float s = 0f;
            for (int l = 0; l < p.Length; l++)
            {
                float v = x[at + l * p.Inner];
                s += p.Kind == 2 ? v * v : v;
            }
            d[t] = p.Kind == 0 ? s : p.Kind == 1 ? s / p.Length : XMath.Sqrt(s / p.Length);
        }
    }

    /// <summary>cur = initial, or 1/N everywhere.</summary>
    /// <param name="initial">[S, N] initial scores (read when hasInitial is 1).</param>
    /// <param name="cur">[S, N] iterate.</param>
    /// <param name="total">S * N.</param>
    /// <param name="n">N.</param>
    /// <param name="hasInitial">1 when initial holds scores.</param>
    internal static void PageRankInitKernel(ArrayView<float> initial, ArrayView<float> cur, long total, int n, int hasInitial)
    {
        long gridStride = (long)Grid.DimX * Group.DimX;
        for (long t = Grid.GlobalIndex.X; t < total; t += gridStride) cur[t] = hasInitial != 0 ? initial[t] : 1f / n;
    }

    /// <summary>next[s, j] = sum_i cur[s, i] m[s, i, j].</summary>
    /// <param name="m">[S, N, N] transition matrices.</param>
    /// <param name="cur">[S, N] current scores.</param>
    /// <param name="next">[S, N] next scores.</param>
    /// <param name="total">S * N.</param>
    /// <param name="n">N.</param>
    internal static void PageRankStepKernel(ArrayView<float> m, ArrayView<float> cur, ArrayView<float> next, long total, int n)
    {
        long gridStride = (long)Grid.DimX * Group.DimX;
        for (long t = Grid.GlobalIndex.X; t < total; t += gridStride)
        {
            long s = t / n;
            int j = (int)(t - s * n);
            long row = s * n;
            float acc = 0f;
            for (int i = 0; i < n; i++) acc += cur[row + i] * m[(row + i) * n + j];
            next[t] = acc;
        }
    }

    /// <summary>torch adaptive average pooling over channels-last [B, H, W, C].</summary>
    /// <param name="x">[B, H, W, C] grid.</param>
    /// <param name="d">[B, OutH, OutW, C] cells.</param>
    /// <param name="p">Dims.</param>
    internal static void PoolKernel(ArrayView<float> x, ArrayView<float> d, PoolParams p)
    {
        long total = (long)p.Batch * p.OutH * p.OutW * p.C;
        long gridStride = (long)Grid.DimX * Group.DimX;
        for (long t = Grid.GlobalIndex.X; t < total; t += gridStride)
        {
            long cell = t / p.C;
            int c = (int)(t - cell * p.C);
            int ow = (int)(cell % p.OutW), oh = (int)(cell / p.OutW % p.OutH);
            long b = cell / ((long)p.OutW * p.OutH);
            int h0 = oh * p.H / p.OutH, h1 = ((oh + 1) * p.H + p.OutH - 1) / p.OutH;
            int w0 = ow * p.W / p.OutW, w1 = ((ow + 1) * p.W + p.OutW - 1) / p.OutW;
            float s = 0f;
            for (int h = h0; h < h1; h++)
                for (int w = w0; w < w1; w++) s += x[((b * p.H + h) * p.W + w) * p.C + c];
            d[t] = s / ((h1 - h0) * (w1 - w0));
        }
    }
}
