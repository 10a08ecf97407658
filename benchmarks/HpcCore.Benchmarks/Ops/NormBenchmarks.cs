// Copyright (c) HpcCore contributors. Licensed under the MIT license.
using BenchmarkDotNet.Attributes;
using HpcCore.Ops;

namespace HpcCore.Benchmarks.Ops;

/// <summary>LayerNorm and RMSNorm over the last axis.</summary>
public class NormBenchmarks : RowOpBenchmarks
{
    /// <summary>LayerNorm: mean, variance, normalise, scale, shift (about 7 per element); RMSNorm about 4.</summary>
    protected override double FlopsPerElement(string method) => method == nameof(LayerNorm) ? 7 : 4;

    /// <inheritdoc/>
    protected override void WarmUp()
    {
        LayerNorm();
        RmsNorm();
    }

    /// <summary>LayerNorm(X) with gamma and beta.</summary>
    [Benchmark(Baseline = true)]
    public void LayerNorm()
    {
        Norms.LayerNorm(X, Gamma, Beta, Destination);
        Device.Synchronize();
    }

    /// <summary>RMSNorm(X) with gamma.</summary>
    [Benchmark]
    public void RmsNorm()
    {
        Norms.RmsNorm(X, Gamma, Destination);
        Device.Synchronize();
    }
}
