// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// `HpcCore.GpuBenchmarks opencl-quick`: the first usable OpenCL device next to the SIMD CPU backend on the same ops,
// in the same process, interleaved (rounds alternate the side that goes first), medians of per-round times, the
// spread (max/min of the OpenCL side's rounds) and the ratio. Information, not a target: pocl runs OpenCL on the same
// host cores (pinned to one compute unit, docs/OPENCL.md), with ILGPU's kernels written for GPUs.
using System.Diagnostics;
using System.Globalization;

namespace HpcCore.GpuBenchmarks;

using HpcCore.Cpu;
using HpcCore.Devices;
using HpcCore.Gpu;
using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.TokenReduction;

/// <summary>OpenCL vs the SIMD CPU backend on a few model-sized ops.</summary>
public static class OpenCLQuick
{
    private const int Rounds = 7;

    /// <summary>Prints one JSON line per op; 3 without a usable OpenCL device.</summary>
    public static int Run(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        using var gpu = IlgpuBackendProvider.CreateFirst(DeviceKind.OpenCL);
        if (gpu is null)
        {
            Console.Error.WriteLine("HpcCore.GpuBenchmarks opencl-quick: no usable OpenCL device (./build.sh setup-opencl).");
            return 3;
        }
        using var cpu = new CpuBackend();
        Case(output, gpu, cpu, "gemm 197x768x2304", be => Gemm(be, 197, 768, 2304));
        Case(output, gpu, cpu, "attention B1 H12 T197 D64", be => AttentionOp(be, 197, 12, 64));
        Case(output, gpu, cpu, "attention B1 H12 T577 D64", be => AttentionOp(be, 577, 12, 64));
        Case(output, gpu, cpu, "softmax 2364x197", be => Rows(be, 2364, 197, layerNorm: false));
        Case(output, gpu, cpu, "layernorm 197x768", be => Rows(be, 197, 768, layerNorm: true));
        Case(output, gpu, cpu, "tome plan+merge N197 C64 r16", be => TomeOp(be, 197, 64, 16));
        return 0;
    }

    private static void Case(TextWriter output, IlgpuBackend gpu, CpuBackend cpu, string name, Func<IBackend, (Action Run, IDisposable Owner)> make)
    {
        var (runGpu, ownerGpu) = make(gpu);
        var (runCpu, ownerCpu) = make(cpu);
        using (ownerGpu)
        using (ownerCpu)
        {
            double Time(Action run, IBackend backend)
            {
                var sw = Stopwatch.StartNew();
                run();
                backend.Synchronize();
                return sw.Elapsed.TotalMilliseconds;
            }
            Time(runGpu, gpu); // compile and warm both sides
            Time(runCpu, cpu);
            var g = new double[Rounds];
            var c = new double[Rounds];
            for (int r = 0; r < Rounds; r++)
            {
                if (r % 2 == 0)
                {
                    g[r] = Time(runGpu, gpu);
                    c[r] = Time(runCpu, cpu);
                }
                else
                {
                    c[r] = Time(runCpu, cpu);
                    g[r] = Time(runGpu, gpu);
                }
            }
            Array.Sort(g);
            Array.Sort(c);
            double gm = g[Rounds / 2], cm = c[Rounds / 2];
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{{\"bench\":\"opencl-quick\",\"op\":\"{name}\",\"opencl\":\"{gpu.Device.Name}\",\"opencl_ms\":{gm:G4},\"opencl_spread\":{g[^1] / g[0]:F2},\"cpu_ms\":{cm:G4},\"cpu_spread\":{c[^1] / c[0]:F2},\"cpu_threads\":{cpu.Capabilities.Cores},\"opencl_over_cpu\":{gm / cm:F2},\"rounds\":{Rounds}}}"));
        }
    }

    private static (Action, IDisposable) Gemm(IBackend be, int m, int k, int n)
    {
        var owner = new Owner();
        var a = owner.Add(Tensor.From<float>(Uniform(m * k, 1), new Shape(m, k), be));
        var b = owner.Add(Tensor.From<float>(Uniform(k * n, 2), new Shape(k, n), be));
        var c = owner.Add(Tensor.Empty(new Shape(m, n), DType.F32, be));
        return (() => HpcCore.Ops.Gemm.Multiply(a, b, c), owner);
    }

    private static (Action, IDisposable) AttentionOp(IBackend be, int t, int h, int d)
    {
        var owner = new Owner();
        var q = owner.Add(Tensor.From<float>(Uniform(t * h * d, 3), new Shape(1, t, h, d), be));
        var o = owner.Add(Tensor.Empty(new Shape(1, t, h, d), DType.F32, be));
        return (() => Attention.Forward(q, q, q, o), owner);
    }

    private static (Action, IDisposable) Rows(IBackend be, int rows, int cols, bool layerNorm)
    {
        var owner = new Owner();
        var x = owner.Add(Tensor.From<float>(Uniform(rows * cols, 4), new Shape(rows, cols), be));
        var gamma = owner.Add(Tensor.From<float>(Uniform(cols, 5), new Shape(cols), be));
        var y = owner.Add(Tensor.Empty(new Shape(rows, cols), DType.F32, be));
        return layerNorm ? (() => Norms.LayerNorm(x, gamma, null, y), owner) : (() => Softmax.Forward(x, y), owner);
    }

    private static (Action, IDisposable) TomeOp(IBackend be, int n, int c, int r)
    {
        var owner = new Owner();
        var metric = owner.Add(Tensor.From<float>(Uniform(n * c, 6), new Shape(1, n, c), be));
        var x = owner.Add(Tensor.From<float>(Uniform(n * 768, 7), new Shape(1, n, 768), be));
        return (() =>
        {
            using var plan = ToMe.Plan(metric, r, new ToMeOptions(ClassToken: true));
            var (merged, size) = ToMe.Merge(plan, x, null);
            merged.Dispose();
            size.Dispose();
        }, owner);
    }

    private static float[] Uniform(int count, int seed)
    {
        var random = new Random(seed);
        var x = new float[count];
        for (int i = 0; i < count; i++) x[i] = (float)(random.NextDouble() * 2 - 1);
        return x;
    }

    private sealed class Owner : IDisposable
    {
        private readonly List<Tensor> _tensors = [];

        public Tensor Add(Tensor t)
        {
            _tensors.Add(t);
            return t;
        }

        public void Dispose()
        {
            foreach (var t in _tensors) t.Dispose();
        }
    }
}
