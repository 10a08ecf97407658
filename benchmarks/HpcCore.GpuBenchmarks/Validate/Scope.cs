// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.GpuBenchmarks.Validate;

using HpcCore.Devices;
using HpcCore.Ops;
using HpcCore.Tensors;

/// <summary>Tensors of one case run on one backend, disposed together; host-side inputs and poisoned outputs.</summary>
public sealed class Scope(IBackend backend) : IDisposable
{
    private readonly List<Tensor> _owned = [];

    /// <summary>The backend the case runs on.</summary>
    public IBackend Backend => backend;

    /// <summary>Keeps <paramref name="t"/> until the scope ends.</summary>
    public Tensor Own(Tensor t)
    {
        _owned.Add(t);
        return t;
    }

    /// <summary>Uploads floats as F32, or as F16 when <paramref name="dtype"/> is "f16".</summary>
    public Tensor F(float[] data, Shape shape, string dtype = "f32")
    {
        var f32 = Tensor.From<float>(data, shape, backend);
        if (dtype != "f16") return Own(f32);
        using (f32) return Own(Cast.To(f32, DType.F16));
    }

    /// <summary>Uploads I32 values.</summary>
    public Tensor I(int[] data, Shape shape) => Own(Tensor.From<int>(data, shape, backend));

    /// <summary>Uploads bytes as U8.</summary>
    public Tensor U8(byte[] data, Shape shape) => Own(Tensor.FromBytes(data, shape, DType.U8, backend));

    /// <summary>A destination filled with NaN (floats) or int.MinValue (I32), so unwritten elements show.</summary>
    public Tensor Poison(Shape shape, DType dtype)
    {
        if (dtype == DType.I32) return I(Enumerable.Repeat(int.MinValue, (int)shape.ElementCount).ToArray(), shape);
        return F(Enumerable.Repeat(float.NaN, (int)shape.ElementCount).ToArray(), shape, dtype == DType.F16 ? "f16" : "f32");
    }

    /// <summary>A float output on the host (F16 widened exactly).</summary>
    public CaseOutput Floats(string name, Tensor t)
    {
        backend.Synchronize();
        if (t.DType == DType.F32) return new(name, t.ToArray<float>(), null);
        using var wide = Cast.To(t, DType.F32);
        backend.Synchronize();
        return new(name, wide.ToArray<float>(), null);
    }

    /// <summary>A float output compared bit for bit (copies, gathers, conversions).</summary>
    public CaseOutput Bits(string name, Tensor t)
    {
        var f = Floats(name, t).Floats!;
        return new(name, null, Array.ConvertAll(f, BitConverter.SingleToInt32Bits));
    }

    /// <summary>An index output on the host.</summary>
    public CaseOutput Ints(string name, Tensor t)
    {
        backend.Synchronize();
        return new(name, null, t.ToArray<int>());
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var t in _owned) t.Dispose();
        _owned.Clear();
    }
}
