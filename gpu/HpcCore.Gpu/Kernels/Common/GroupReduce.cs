// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Group all-reductions for one-group-per-row kernels, in two implementations chosen per device when a kernel is
// loaded (kernels are generic over IGroupReduce; ILGPU compiles one body per reducer):
// - WarpShuffleReduce: an xor butterfly of warp shuffles, one partial per warp in shared memory, a second butterfly;
//   every thread gets the result after two barriers. CUDA, Intel OpenCL GPUs (sub-group shuffles) and the emulator.
// - SharedTreeReduce: a tree over shared memory, log2(group) barriers. For OpenCL devices ILGPU cannot lower warp
//   shuffles on (ILGPU 1.5.3 maps Warp.Shuffle* on OpenCL only to Intel's sub-group built-ins; pocl, AMD and NVIDIA
//   OpenCL have none it uses).
// Both give every thread the same result; the arg-max order is total, so its winner is the same in either.
// Limits: groups of at most LaunchPolicy.MaxReduceThreads threads; the shuffle form also needs a multiple of the warp.
using ILGPU;
using ILGPU.Algorithms;

namespace HpcCore.Gpu.Kernels;

/// <summary>A group-wide reduction; every thread of the group must call it (it contains barriers).</summary>
internal interface IGroupReduce
{
    /// <summary>Sum over the group; <paramref name="scratch"/> is shared memory of MaxReduceThreads floats.</summary>
    float Sum(float value, ArrayView<float> scratch);

    /// <summary>Maximum over the group, NaN-propagating like TensorPrimitives.Max.</summary>
    float Max(float value, ArrayView<float> scratch);

    /// <summary>
    /// Arg-max over the group of (value, index) pairs: the larger value wins, equal values go to the lower index,
    /// index -1 means "no candidate" (e.g. only NaNs seen). Result in <paramref name="value"/> / <paramref name="index"/>.
    /// </summary>
    void ArgMax(ref float value, ref int index, ArrayView<float> scratchValues, ArrayView<int> scratchIndices);
}

/// <summary>The orders the reducers share.</summary>
internal static class GroupReduce
{
    /// <summary>Maximum with NaN propagation: NaN if either input is NaN.</summary>
    public static float MaxNaN(float a, float b) => XMath.IsNaN(a) || XMath.IsNaN(b) ? float.NaN : a > b ? a : b;

    /// <summary>True when (v, i) beats (bestV, bestI) under the arg-max order.</summary>
    public static bool Better(float v, int i, float bestV, int bestI) =>
        i >= 0 && (bestI < 0 || v > bestV || (v == bestV && i < bestI));
}

/// <summary>Warp-shuffle butterflies, then one partial per warp through shared memory.</summary>
internal readonly struct WarpShuffleReduce : IGroupReduce
{
    public float Sum(float value, ArrayView<float> scratch)
    {
        value = WarpSum(value);
        int lane = Warp.LaneIdx, warps = Group.DimX / Warp.WarpSize;
        if (lane == 0) scratch[Warp.WarpIdx] = value;
        Group.Barrier();
        value = lane < warps ? scratch[lane] : 0f;
        value = WarpSum(value);
        Group.Barrier(); // scratch may be reused right after
        return value;
    }

    public float Max(float value, ArrayView<float> scratch)
    {
        value = WarpMax(value);
        int lane = Warp.LaneIdx, warps = Group.DimX / Warp.WarpSize;
        if (lane == 0) scratch[Warp.WarpIdx] = value;
        Group.Barrier();
        value = lane < warps ? scratch[lane] : float.NegativeInfinity;
        value = WarpMax(value);
        Group.Barrier();
        return value;
    }

    public void ArgMax(ref float value, ref int index, ArrayView<float> scratchValues, ArrayView<int> scratchIndices)
    {
        WarpArgMax(ref value, ref index);
        int lane = Warp.LaneIdx, warps = Group.DimX / Warp.WarpSize;
        if (lane == 0)
        {
            scratchValues[Warp.WarpIdx] = value;
            scratchIndices[Warp.WarpIdx] = index;
        }
        Group.Barrier();
        value = lane < warps ? scratchValues[lane] : float.NegativeInfinity;
        index = lane < warps ? scratchIndices[lane] : -1;
        WarpArgMax(ref value, ref index);
        Group.Barrier();
    }

    private static float WarpSum(float value)
    {
        for (int offset = Warp.WarpSize / 2; offset > 0; offset >>= 1) value += Warp.ShuffleXor(value, offset);
        return value;
    }

    private static float WarpMax(float value)
    {
        for (int offset = Warp.WarpSize / 2; offset > 0; offset >>= 1) value = GroupReduce.MaxNaN(value, Warp.ShuffleXor(value, offset));
        return value;
    }

    private static void WarpArgMax(ref float value, ref int index)
    {
        for (int offset = Warp.WarpSize / 2; offset > 0; offset >>= 1)
        {
            float v = Warp.ShuffleXor(value, offset);
            int i = Warp.ShuffleXor(index, offset);
            if (GroupReduce.Better(v, i, value, index))
            {
                value = v;
                index = i;
            }
        }
    }
}

/// <summary>A halving tree over shared memory: each step folds the upper half onto the lower, then a barrier.</summary>
internal readonly struct SharedTreeReduce : IGroupReduce
{
    public float Sum(float value, ArrayView<float> scratch) => Fold<AddFold>(value, scratch);

    public float Max(float value, ArrayView<float> scratch) => Fold<MaxFold>(value, scratch);

    public void ArgMax(ref float value, ref int index, ArrayView<float> scratchValues, ArrayView<int> scratchIndices)
    {
        int tid = Group.IdxX;
        scratchValues[tid] = value;
        scratchIndices[tid] = index;
        Group.Barrier();
        for (int width = Group.DimX; width > 1;)
        {
            int half = (width + 1) / 2;
            if (tid < width - half && GroupReduce.Better(scratchValues[tid + half], scratchIndices[tid + half], scratchValues[tid], scratchIndices[tid]))
            {
                scratchValues[tid] = scratchValues[tid + half];
                scratchIndices[tid] = scratchIndices[tid + half];
            }
            Group.Barrier();
            width = half;
        }
        value = scratchValues[0];
        index = scratchIndices[0];
        Group.Barrier();
    }

    private static float Fold<TFold>(float value, ArrayView<float> scratch)
        where TFold : struct, IFold
    {
        int tid = Group.IdxX;
        scratch[tid] = value;
        Group.Barrier();
        for (int width = Group.DimX; width > 1;)
        {
            int half = (width + 1) / 2;
            if (tid < width - half) scratch[tid] = default(TFold).Apply(scratch[tid], scratch[tid + half]);
            Group.Barrier();
            width = half;
        }
        value = scratch[0];
        Group.Barrier(); // scratch may be reused right after
        return value;
    }

    private interface IFold
    {
        float Apply(float a, float b);
    }

    private readonly struct AddFold : IFold
    {
        public float Apply(float a, float b) => a + b;
    }

    private readonly struct MaxFold : IFold
    {
        public float Apply(float a, float b) => GroupReduce.MaxNaN(a, b);
    }
}
