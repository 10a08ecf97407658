// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Gemm.Multiply on each backend: the two model shapes of the quick comparison (1024x768 @ 768x768; ViT-B QKV,
// [197, 768] @ [768, 2304]), an nn.Linear-style transposed-B case, and odd sizes that exercise every edge tile.
using BenchmarkDotNet.Attributes;
using HpcCore.Benchmarks.Infrastructure;
using HpcCore.Devices;
using HpcCore.Ops;
using HpcCore.Tensors;

namespace HpcCore.Benchmarks.Ops;

/// <summary>GEMM throughput; shapes are "MxKxN" (A [M, K] @ B [K, N]).</summary>
public class GemmBenchmarks : IFlopCount, IDisposable
{
    private IBackend _backend = null!;
    private Tensor _a = null!, _b = null!, _bt = null!, _c = null!;
    private GemmOptions _options, _optionsT;

    /// <summary>The backend under test.</summary>
    [ParamsSource(nameof(Backends))]
    public string Backend { get; set; } = "cpu";

    /// <summary>The problem, "MxKxN".</summary>
    [Params("1024x768x768", "197x768x2304", "127x129x197", "6151x31x33")]
    public string Shape { get; set; } = "1024x768x768";

    /// <summary>Names for <see cref="Backend"/>.</summary>
    public static IEnumerable<string> Backends() => BenchBackends.Names();

    private (int M, int K, int N) Dims
    {
        get
        {
            var p = Shape.Split('x');
            return (int.Parse(p[0], System.Globalization.CultureInfo.InvariantCulture),
                int.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture),
                int.Parse(p[2], System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <inheritdoc/>
    public double Flops(string method)
    {
        var (m, k, n) = Dims;
        return 2.0 * m * n * k;
    }

    /// <summary>Allocates, fills and runs each variant once (warm-up: JIT, pooled pack buffers).</summary>
    [GlobalSetup]
    public void Setup()
    {
        var (m, k, n) = Dims;
        _backend = BenchBackends.Create(Backend);
        _a = Tensor.From<float>(BenchBackends.Uniform(m * k, 1), new Shape(m, k), _backend);
        _b = Tensor.From<float>(BenchBackends.Uniform(k * n, 2), new Shape(k, n), _backend);
        _bt = Tensor.From<float>(BenchBackends.Uniform(k * n, 3), new Shape(n, k), _backend);
        _c = Tensor.Empty(new Shape(m, n), DType.F32, _backend);
        _options = default;
        _optionsT = new GemmOptions(TransposeB: true);
        Multiply();
        MultiplyTransposedB();
    }

    /// <summary>C = A @ B.</summary>
    [Benchmark(Baseline = true)]
    public void Multiply()
    {
        Gemm.Multiply(_a, _b, _c, _options);
        _backend.Synchronize();
    }

    /// <summary>C = A @ B^T with B stored [N, K] (nn.Linear weights).</summary>
    [Benchmark]
    public void MultiplyTransposedB()
    {
        Gemm.Multiply(_a, _bt, _c, _optionsT);
        _backend.Synchronize();
    }

    /// <summary>Frees the tensors and the backend.</summary>
    [GlobalCleanup]
    public void Dispose()
    {
        _a?.Dispose();
        _b?.Dispose();
        _bt?.Dispose();
        _c?.Dispose();
        _backend?.Dispose();
        GC.SuppressFinalize(this);
    }
}
