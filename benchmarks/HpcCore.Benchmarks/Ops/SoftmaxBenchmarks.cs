// Copyright (c) HpcCore contributors. Licensed under the MIT license.
using BenchmarkDotNet.Attributes;
using HpcCore.Ops;

namespace HpcCore.Benchmarks.Ops;

/// <summary>Row softmax (attention-score rows).</summary>
public class SoftmaxBenchmarks : RowOpBenchmarks
{
    /// <summary>Max, subtract, exp (counted as 1), sum, scale: about 5 FLOPs per element.</summary>
    protected override double FlopsPerElement(string method) => 5;

    /// <inheritdoc/>
    protected override void WarmUp() => Forward();

    /// <summary>softmax(X) into a destination.</summary>
    [Benchmark(Baseline = true)]
    public void Forward()
    {
        Softmax.Forward(X, Destination);
        Device.Synchronize();
    }
}
