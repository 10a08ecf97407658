// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Shared front-door steps of the token-reduction ops: the capability lookup, shape arithmetic and the host-side
// index range checks (only possible where the indices are host-visible, i.e. on the CPU backend).
namespace HpcCore.Ops;

using HpcCore.Cpu;
using HpcCore.Diagnostics;
using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>Checks and helpers shared by the Ops/Selection front doors.</summary>
internal static class SelectionValidation
{
    /// <summary>The backend's selection kernels, or NotSupportedException naming the op and the device.</summary>
    public static ISelectionKernels Kernels(string op, Tensor t)
    {
        if (t.Backend.Kernels is ISelectionKernels kernels) return kernels;
        ThrowHelper.NotImplementedOnDevice(op, t.Device.ToString());
        return null!;
    }

    /// <summary><paramref name="shape"/> with its last axis replaced by <paramref name="last"/>.</summary>
    public static Shape WithLast(Shape shape, int last) => shape.WithDim(shape.Rank - 1, last);

    /// <summary><paramref name="shape"/> without its last axis.</summary>
    public static Shape WithoutLast(Shape shape)
    {
        Span<int> dims = stackalloc int[shape.Rank - 1];
        for (int i = 0; i < dims.Length; i++) dims[i] = shape[i];
        return new Shape(dims);
    }

    /// <summary>k is a count in [0, n]; the message (built only on failure) names <paramref name="context"/>'s shape.</summary>
    public static void Count(string op, string name, int k, int n, Tensor context, string contextName)
    {
        if (k < 0 || k > n) ThrowHelper.OutOfRange(op, name, k, $"must be in [0, {n}] ({contextName} has shape {context.Shape})");
    }

    /// <summary>
    /// Every entry of a host-visible I32 tensor lies in [lo, hi); GPU tensors are not read back (their kernels treat
    /// an out-of-range index as documented per op).
    /// </summary>
    public static void IndexRange(string op, string name, Tensor indices, int lo, int hi, Tensor context, string contextName)
    {
        if (indices.Storage is not CpuStorage) return;
        var span = indices.AsSpan<int>();
        for (int i = 0; i < span.Length; i++)
        {
            if (span[i] < lo || span[i] >= hi)
                ThrowHelper.Argument(op, name, $"(shape {indices.Shape}) holds {span[i]} at flat index {i}, outside [{lo}, {hi}) ({contextName} has shape {context.Shape})");
        }
    }

    /// <summary>Rank-3 [B, N, C] check with a layout name.</summary>
    public static void Rank3(string op, string name, Tensor t, string layout) => Check.Rank(op, name, t, 3, layout);
}
