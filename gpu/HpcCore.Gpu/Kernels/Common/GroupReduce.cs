// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Warp and group all-reductions for one-group-per-row kernels. A warp reduces with an xor butterfly of shuffles
// (every lane ends with the result); warps then publish one partial each to shared memory and every warp reduces
// those partials again, so the whole group gets the result with two barriers and no broadcast step.
// Limits: the group size must be a multiple of the warp size and at most 32 warps (LaunchPolicy guarantees both).
using ILGPU;
using ILGPU.Algorithms;

namespace HpcCore.Gpu.Kernels;

/// <summary>Group-wide reductions; every thread of the group must call them (they contain barriers).</summary>
internal static class GroupReduce
{
    /// <summary>Sum over the group; <paramref name="scratch"/> is shared memory of at least 32 floats.</summary>
    public static float Sum(float value, ArrayView<float> scratch)
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

    /// <summary>Maximum over the group, NaN-propagating like TensorPrimitives.Max.</summary>
    public static float Max(float value, ArrayView<float> scratch)
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

    /// <summary>
    /// Arg-max over the group of (value, index) pairs: the larger value wins, equal values go to the lower index,
    /// index -1 means "no candidate" (e.g. only NaNs seen). Result in <paramref name="value"/> / <paramref name="index"/>.
    /// </summary>
    public static void ArgMax(ref float value, ref int index, ArrayView<float> scratchValues, ArrayView<int> scratchIndices)
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

    /// <summary>Maximum with NaN propagation: NaN if either input is NaN.</summary>
    public static float MaxNaN(float a, float b) => XMath.IsNaN(a) || XMath.IsNaN(b) ? float.NaN : a > b ? a : b;

    /// <summary>True when (v, i) beats (bestV, bestI) under the arg-max order.</summary>
    public static bool Better(float v, int i, float bestV, int bestI) =>
        i >= 0 && (bestI < 0 || v > bestV || (v == bestV && i < bestI));

    private static float WarpSum(float value)
    {
        for (int offset = Warp.WarpSize / 2; offset > 0; offset >>= 1) value += Warp.ShuffleXor(value, offset);
        return value;
    }

    private static float WarpMax(float value)
    {
        for (int offset = Warp.WarpSize / 2; offset > 0; offset >>= 1) value = MaxNaN(value, Warp.ShuffleXor(value, offset));
        return value;
    }

    private static void WarpArgMax(ref float value, ref int index)
    {
        for (int offset = Warp.WarpSize / 2; offset > 0; offset >>= 1)
        {
            float v = Warp.ShuffleXor(value, offset);
            int i = Warp.ShuffleXor(index, offset);
            if (Better(v, i, value, index))
            {
                value = v;
                index = i;
            }
        }
    }
}
