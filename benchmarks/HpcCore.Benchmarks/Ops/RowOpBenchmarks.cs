// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Shared setup of the row-wise op suites: an F32 [Rows, Cols] input, a destination and per-column parameters.
using BenchmarkDotNet.Attributes;
using HpcCore.Benchmarks.Infrastructure;
using HpcCore.Devices;
using HpcCore.Tensors;

namespace HpcCore.Benchmarks.Ops;

/// <summary>Base of the row-op suites; shapes are "RowsxCols" (model widths plus an odd size).</summary>
public abstract class RowOpBenchmarks : IFlopCount, IDisposable
{
    /// <summary>The backend.</summary>
    protected IBackend Device { get; private set; } = null!;

    /// <summary>Input [Rows, Cols].</summary>
    protected Tensor X { get; private set; } = null!;

    /// <summary>Second input [Rows, Cols].</summary>
    protected Tensor Y { get; private set; } = null!;

    /// <summary>Destination [Rows, Cols].</summary>
    protected Tensor Destination { get; private set; } = null!;

    /// <summary>Per-column parameter [Cols] (gamma).</summary>
    protected Tensor Gamma { get; private set; } = null!;

    /// <summary>Per-column parameter [Cols] (beta).</summary>
    protected Tensor Beta { get; private set; } = null!;

    /// <summary>The backend under test.</summary>
    [ParamsSource(nameof(Backends))]
    public string Backend { get; set; } = "cpu";

    /// <summary>"RowsxCols".</summary>
    [Params("1024x768", "197x768", "12288x1024", "3079x7")]
    public string Shape { get; set; } = "1024x768";

    /// <summary>Names for <see cref="Backend"/>.</summary>
    public static IEnumerable<string> Backends() => BenchBackends.Names();

    /// <summary>Rows and columns parsed from <see cref="Shape"/>.</summary>
    protected (int Rows, int Cols) Dims
    {
        get
        {
            var p = Shape.Split('x');
            return (int.Parse(p[0], System.Globalization.CultureInfo.InvariantCulture),
                int.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>FLOPs per element of <paramref name="method"/>.</summary>
    protected abstract double FlopsPerElement(string method);

    /// <inheritdoc/>
    public double Flops(string method)
    {
        var (r, c) = Dims;
        return FlopsPerElement(method) * r * c;
    }

    /// <summary>Runs every benchmark of the suite once.</summary>
    protected abstract void WarmUp();

    /// <summary>Allocates, fills and warms up.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var (r, c) = Dims;
        Device = BenchBackends.Create(Backend);
        X = Tensor.From<float>(BenchBackends.Uniform(r * c, 1), new Shape(r, c), Device);
        Y = Tensor.From<float>(BenchBackends.Uniform(r * c, 2), new Shape(r, c), Device);
        Destination = Tensor.Empty(new Shape(r, c), DType.F32, Device);
        Gamma = Tensor.From<float>(BenchBackends.Uniform(c, 3), new Shape(c), Device);
        Beta = Tensor.From<float>(BenchBackends.Uniform(c, 4), new Shape(c), Device);
        WarmUp();
    }

    /// <summary>Frees the tensors and the backend.</summary>
    [GlobalCleanup]
    public void Dispose()
    {
        X?.Dispose();
        Y?.Dispose();
        Destination?.Dispose();
        Gamma?.Dispose();
        Beta?.Dispose();
        Device?.Dispose();
        GC.SuppressFinalize(this);
    }
}
