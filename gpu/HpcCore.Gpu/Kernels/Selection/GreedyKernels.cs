// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Greedy farthest point (ToDRE) and max coverage (MMTok) on ILGPU: one group per batch runs the whole sequential
// loop, its threads striding over the points (distance update or gain) and agreeing on each pick with a group
// arg-max (greater value, or equal and lower index; NaN compares as -inf, so numbers win and ties go low, as on
// the CPU). Rows are normalised first with the similarity kernels' normaliser. Distances, coverage and flags live in
// pooled scratch. Limits: contiguous F32, one group per batch (fine for B >= number of SMs or small N; a
// multi-group step with a grid-wide reduction is the next step for B = 1 at large N).
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace HpcCore.Gpu.Kernels;

using HpcCore.Kernels;

/// <summary>Dims of the greedy kernels.</summary>
internal readonly struct GreedyParams(int batch, int n, int c, int k, int flag)
{
    public readonly int Batch = batch;
    /// <summary>Points (farthest point) or candidates (coverage).</summary>
    public readonly int N = n;
    /// <summary>Channels (farthest point) or items to cover U (coverage).</summary>
    public readonly int C = c;
    public readonly int K = k;
    /// <summary>1 when seeds (farthest point) or weights (coverage) are given.</summary>
    public readonly int Flag = flag;
}

/// <summary>Greedy selection launchers.</summary>
internal sealed class GreedyKernels(Accelerator accelerator, LaunchPolicy policy, IlgpuMemoryPool memory)
{
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, long, int> _normalize =
        accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, long, int>(SimilarityKernels.NormalizeKernel);
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<int>, ArrayView<int>, GreedyParams> _farthest =
        policy.WarpShuffles
            ? accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<int>, ArrayView<int>, GreedyParams>(Kernel<WarpShuffleReduce>)
            : accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<int>, ArrayView<int>, GreedyParams>(Kernel<SharedTreeReduce>);
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, GreedyParams> _coverage =
        policy.WarpShuffles
            ? accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, GreedyParams>(CoverageKernel<WarpShuffleReduce>)
            : accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, GreedyParams>(CoverageKernel<SharedTreeReduce>);

    public void FarthestPoint(in FarthestPointArgs a)
    {
        if (a.Batch == 0 || a.K == 0) return;
        long points = (long)a.Batch * a.N, floats = points * a.C + points;
        var buffer = memory.Rent(floats * sizeof(float) + points * sizeof(int));
        try
        {
            var unit = ((ArrayView<byte>)buffer.View).SubView(0, points * a.C * sizeof(float)).Cast<float>();
            var dist = ((ArrayView<byte>)buffer.View).SubView(points * a.C * sizeof(float), points * sizeof(float)).Cast<float>();
            var flags = ((ArrayView<byte>)buffer.View).SubView(floats * sizeof(float), points * sizeof(int)).Cast<int>();
            int group = policy.ElementwiseGroupSize;
            if (a.C > 0) _normalize(new KernelConfig(policy.GridFor(points, group), group), DeviceViews.Elements<float>(a.Features, points * a.C), unit, points, a.C);
            var dest = DeviceViews.Elements<int>(a.Dest, (long)a.Batch * a.K);
            _farthest(new KernelConfig(Math.Min(a.Batch, policy.MaxGroups), policy.RowGroupSize(a.N)), a.C > 0 ? unit : dist,
                a.Seeds is null ? dest : DeviceViews.Elements<int>(a.Seeds, a.Batch), dist, flags, dest,
                new GreedyParams(a.Batch, a.N, a.C, a.K, a.Seeds is null ? 0 : 1));
        }
        finally
        {
            memory.Return(buffer);
        }
    }

    public void Coverage(in CoverageArgs a)
    {
        if (a.Batch == 0 || a.K == 0) return;
        long cov = (long)a.Batch * a.U, cand = (long)a.Batch * a.N;
        var buffer = memory.Rent(Math.Max(1, cov) * sizeof(float) + cand * sizeof(int));
        try
        {
            var coverage = ((ArrayView<byte>)buffer.View).SubView(0, Math.Max(1, cov) * sizeof(float)).Cast<float>();
            var flags = ((ArrayView<byte>)buffer.View).SubView(Math.Max(1, cov) * sizeof(float), cand * sizeof(int)).Cast<int>();
            var s = (long)a.U * a.N * a.Batch == 0 ? coverage : DeviceViews.Elements<float>(a.Similarity, (long)a.Batch * a.U * a.N);
            _coverage(new KernelConfig(Math.Min(a.Batch, policy.MaxGroups), policy.RowGroupSize(a.N)), s,
                a.Weights is null ? coverage : DeviceViews.Elements<float>(a.Weights, cov), coverage, flags,
                DeviceViews.Elements<int>(a.Dest, (long)a.Batch * a.K), new GreedyParams(a.Batch, a.N, a.U, a.K, a.Weights is null ? 0 : 1));
        }
        finally
        {
            memory.Return(buffer);
        }
    }

    /// <summary>Greedy k-center under 1 - cos, one group per batch.</summary>
    /// <param name="unit">[B, N, C] unit rows.</param>
    /// <param name="seeds">[B] first picks (read when Flag is 1).</param>
    /// <param name="dist">[B, N] scratch distances.</param>
    /// <param name="flags">[B, N] scratch chosen flags.</param>
    /// <param name="dest">[B, K] picks.</param>
    /// <param name="p">Dims.</param>
    internal static void Kernel<TReduce>(ArrayView<float> unit, ArrayView<int> seeds, ArrayView<float> dist, ArrayView<int> flags, ArrayView<int> dest, GreedyParams p)
        where TReduce : struct, IGroupReduce
    {
        var values = SharedMemory.Allocate<float>(LaunchPolicy.MaxReduceThreads);
        var indices = SharedMemory.Allocate<int>(LaunchPolicy.MaxReduceThreads);
        int tid = Group.IdxX, g = Group.DimX;
        for (int b = Grid.IdxX; b < p.Batch; b += Grid.DimX)
        {
            long row = (long)b * p.N;
            for (int i = tid; i < p.N; i += g)
            {
                dist[row + i] = float.PositiveInfinity;
                flags[row + i] = 0;
            }
            int pick = p.Flag != 0 ? seeds[b] : 0;
            for (int step = 0; step < p.K; step++)
            {
                Group.Barrier();
                if (tid == 0)
                {
                    dest[(long)b * p.K + step] = pick;
                    flags[row + pick] = 1;
                }
                Group.Barrier();
                if (step + 1 == p.K) break;
                float best = float.NegativeInfinity;
                int bestIndex = -1;
                long at = (row + pick) * p.C;
                for (int i = tid; i < p.N; i += g)
                {
                    float dot = 0f;
                    long ai = (row + i) * p.C;
                    for (int c = 0; c < p.C; c++) dot += unit[ai + c] * unit[at + c];
                    float d = 1f - dot, old = dist[row + i];
                    float m = XMath.IsNaN(d) || XMath.IsNaN(old) ? float.NaN : d < old ? d : old;
                    dist[row + i] = m;
                    if (flags[row + i] != 0) continue;
                    float key = XMath.IsNaN(m) ? float.NegativeInfinity : m;
                    if (bestIndex < 0 || key > best)
                    {
                        best = key;
                        bestIndex = i;
                    }
                }
                default(TReduce).ArgMax(ref best, ref bestIndex, values, indices);
                pick = bestIndex;
            }
            Group.Barrier();
        }
    }

    /// <summary>Greedy weighted max coverage, one group per batch.</summary>
    /// <param name="s">[B, U, N] similarities.</param>
    /// <param name="w">[B, U] weights (read when Flag is 1).</param>
    /// <param name="cov">[B, U] scratch coverage.</param>
    /// <param name="flags">[B, N] scratch picked flags.</param>
    /// <param name="dest">[B, K] picks.</param>
    /// <param name="p">Dims (C holds U).</param>
    internal static void CoverageKernel<TReduce>(ArrayView<float> s, ArrayView<float> w, ArrayView<float> cov, ArrayView<int> flags, ArrayView<int> dest, GreedyParams p)
        where TReduce : struct, IGroupReduce
    {
        var values = SharedMemory.Allocate<float>(LaunchPolicy.MaxReduceThreads);
        var indices = SharedMemory.Allocate<int>(LaunchPolicy.MaxReduceThreads);
        int tid = Group.IdxX, g = Group.DimX, u = p.C;
        for (int b = Grid.IdxX; b < p.Batch; b += Grid.DimX)
        {
            long covRow = (long)b * u, flagRow = (long)b * p.N, sBase = (long)b * u * p.N;
            for (int q = tid; q < u; q += g) cov[covRow + q] = 0f;
            for (int v = tid; v < p.N; v += g) flags[flagRow + v] = 0;
            for (int step = 0; step < p.K; step++)
            {
                Group.Barrier();
                float best = float.NegativeInfinity;
                int bestIndex = -1;
                for (int v = tid; v < p.N; v += g)
                {
                    if (flags[flagRow + v] != 0) continue;
                    float gain = 0f;
                    for (int q = 0; q < u; q++)
                    {
                        float r = s[sBase + (long)q * p.N + v] - cov[covRow + q];
                        gain += (r > 0f ? r : 0f) * (p.Flag != 0 ? w[covRow + q] : 1f);
                    }
                    float key = XMath.IsNaN(gain) ? float.NegativeInfinity : gain;
                    if (bestIndex < 0 || key > best)
                    {
                        best = key;
                        bestIndex = v;
                    }
                }
                default(TReduce).ArgMax(ref best, ref bestIndex, values, indices);
                if (tid == 0)
                {
                    dest[(long)b * p.K + step] = bestIndex;
                    flags[flagRow + bestIndex] = 1;
                }
                for (int q = tid; q < u; q += g)
                {
                    float c = s[sBase + (long)q * p.N + bestIndex];
                    float old = cov[covRow + q];
                    cov[covRow + q] = c > old ? c : old;
                }
            }
            Group.Barrier();
        }
    }
}
