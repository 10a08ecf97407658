// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Shared plumbing for conformance suites: one test body, bound to every backend by a thin subclass
// (candle's test_device!, ggml's test-backend-ops). Emulated GPU backends run the same bodies on tiny shapes.
namespace HpcCore.Testing.Conformance;

using HpcCore.Devices;
using HpcCore.Tensors;

/// <summary>Base of every conformance suite: the backend under test and helpers to move data on and off it.</summary>
public abstract class ConformanceBase
{
    /// <summary>The backend under test (owned by a fixture; never disposed here).</summary>
    protected abstract IBackend Backend { get; }

    /// <summary>True for ILGPU's CPU emulator: bodies then use tiny shapes so the suite runs in seconds.</summary>
    protected abstract bool IsEmulator { get; }

    /// <summary>Loosens a tolerance preset for backends with different arithmetic (e.g. GPU fast exp).</summary>
    protected virtual Tolerance Adjust(Tolerance tolerance) => tolerance;

    /// <summary>Row lengths swept by the bodies: the odd-size catalogue, or a tiny subset on emulators.</summary>
    protected int[] Sizes => IsEmulator ? [1, 7, 33] : TestData.OddSizes;

    /// <summary>A tensor on the backend under test holding <paramref name="data"/>.</summary>
    protected Tensor On<T>(T[] data, params int[] dims) where T : unmanaged => Tensor.From<T>(data, new Shape(dims), Backend);

    /// <summary>An uninitialised F32 tensor on the backend under test, poisoned with NaN so unwritten outputs show.</summary>
    protected Tensor Poisoned(params int[] dims)
    {
        var shape = new Shape(dims);
        var poison = new float[shape.ElementCount];
        Array.Fill(poison, float.NaN);
        return Tensor.From<float>(poison, shape, Backend);
    }

    /// <summary>Reads a tensor back to the host (synchronising first).</summary>
    protected float[] Read(Tensor t)
    {
        Backend.Synchronize();
        return t.ToArray<float>();
    }
}
