// Copyright (c) HpcCore contributors. Licensed under the MIT license.
using BenchmarkDotNet.Attributes;
using HpcCore.Ops;

namespace HpcCore.Benchmarks.Ops;

/// <summary>Binary elementwise ops and activations (memory-bound: read the GFLOP/s column as elements/ns).</summary>
public class ElementwiseBenchmarks : RowOpBenchmarks
{
    /// <summary>Add/Multiply: 1 per element; GELU (erf): about 20.</summary>
    protected override double FlopsPerElement(string method) => method == nameof(Gelu) ? 20 : 1;

    /// <inheritdoc/>
    protected override void WarmUp()
    {
        Add();
        Multiply();
        Gelu();
    }

    /// <summary>X + Y.</summary>
    [Benchmark(Baseline = true)]
    public void Add()
    {
        Elementwise.Add(X, Y, Destination);
        Device.Synchronize();
    }

    /// <summary>X * Y.</summary>
    [Benchmark]
    public void Multiply()
    {
        Elementwise.Multiply(X, Y, Destination);
        Device.Synchronize();
    }

    /// <summary>GELU(X).</summary>
    [Benchmark]
    public void Gelu()
    {
        Activations.Gelu(X, Destination);
        Device.Synchronize();
    }
}
