// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Shared scaffolding of the bad-input tests: tensors of every kind a front door must reject (wrong dtype, other
// device, disposed, strided), all owned and disposed with the test, and Rejects, which checks the exception type and
// that its message names the op, the argument and the shapes.
namespace HpcCore.Tests.Ops;

using HpcCore.Cpu;
using HpcCore.Tensors;
using Xunit;

public abstract class BadInputTestBase : IDisposable
{
    private readonly List<Tensor> _owned = [];

    /// <summary>The backend the ops run on.</summary>
    protected CpuBackend Cpu { get; } = new(threads: 1);

    /// <summary>A second backend, for "is on another device" checks.</summary>
    protected CpuBackend OtherBackend { get; } = new(threads: 1);

    public void Dispose()
    {
        foreach (var t in _owned) t.Dispose();
        Cpu.Dispose();
        OtherBackend.Dispose();
        GC.SuppressFinalize(this);
    }

    protected Tensor T(DType dtype, params int[] dims) => Own(Tensor.Zeros(new Shape(dims), dtype, Cpu));

    protected Tensor F(params int[] dims) => T(DType.F32, dims);

    protected Tensor I(params int[] dims) => T(DType.I32, dims);

    protected Tensor U8(params int[] dims) => T(DType.U8, dims);

    protected Tensor H(params int[] dims) => T(DType.F16, dims);

    protected Tensor Other(params int[] dims) => Own(Tensor.Zeros(new Shape(dims), DType.F32, OtherBackend));

    protected Tensor Ints(int[] values, params int[] dims) => Own(Tensor.From<int>(values, new Shape(dims), Cpu));

    /// <summary>A [dims[0], dims[1]] view with non-unit last stride (a transposed [dims[1], dims[0]]).</summary>
    protected Tensor Strided(params int[] dims) => Own(F(dims[1], dims[0]).Transpose(0, 1));

    protected Tensor Disposed(params int[] dims)
    {
        var t = Tensor.Zeros(new Shape(dims), DType.F32, Cpu);
        t.Dispose();
        return t;
    }

    protected Tensor Own(Tensor t)
    {
        _owned.Add(t);
        return t;
    }

    protected static void Rejects<TException>(Action call, params string[] fragments) where TException : Exception
    {
        var e = Assert.ThrowsAny<TException>(call);
        foreach (var f in fragments) Assert.Contains(f, e.Message, StringComparison.Ordinal);
    }
}
