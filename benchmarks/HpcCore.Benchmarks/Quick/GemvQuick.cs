// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// `quick gemv`: one-row linear layers, y [1, N] = x [1, K] W^T with W [N, K] (nn.Linear), through Gemm.Multiply's
// matrix-vector path, against the same call with that path turned off (the general GEMM: what decode paid before)
// and ONNX Runtime's Gemm (transB = 1), all three interleaved in one process. Shapes: stories260K's layers
// (64x64, 172x64, 64x172, 512x64), a 768-wide block's projections (768x768, 3072x768, 768x3072) and a 7B-sized
// 4096x4096 (64 MiB of weights: memory-bound).
using System.Diagnostics;
using System.Globalization;
using HpcCore.Cpu;
using HpcCore.Ops;
using HpcCore.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace HpcCore.Benchmarks.Quick;

/// <summary>The `quick gemv` side-by-side benchmark.</summary>
public static class GemvQuick
{
    // (N, K): output features and input features.
    private static readonly (int N, int K)[] Shapes =
        [(64, 64), (172, 64), (64, 172), (512, 64), (768, 768), (3072, 768), (768, 3072), (4096, 4096)];

    private const double MaxRelativeError = 1e-4;

    /// <summary>Runs every shape and prints one JSON line each; returns 1 if the three results disagree.</summary>
    public static int Run()
    {
        int threads = QuickBenchmarks.Threads;
        using var backend = new CpuBackend(threads);
        var kernels = (CpuKernels)backend.Kernels;
        using var sessionOptions = QuickBenchmarks.CreateOrtOptions(threads);
        string peer = "onnxruntime-" + OrtEnv.Instance().GetVersionString();
        foreach (var (n, k) in Shapes)
        {
            var x = Infrastructure.BenchBackends.Uniform(k, 1);
            var w = Infrastructure.BenchBackends.Uniform(n * k, 2);
            var theirs = new float[n];
            using var tx = Tensor.From<float>(x, new Shape(1, k), backend);
            using var tw = Tensor.From<float>(w, new Shape(n, k), backend);
            using var ty = Tensor.Empty(new Shape(1, n), DType.F32, backend);
            var options = new GemmOptions(TransposeB: true);

            var model = OnnxModelBuilder.SingleNode("Gemm", 13, [("A", [1, k]), ("B", [n, k])], ("Y", [1, n]), [("transB", 1)]);
            using var session = new InferenceSession(model, sessionOptions);
            using var ox = OrtValue.CreateTensorValueFromMemory(x, [1, k]);
            using var ow = OrtValue.CreateTensorValueFromMemory(w, [n, k]);
            using var oy = OrtValue.CreateTensorValueFromMemory(theirs, [1, n]);
            using var binding = session.CreateIoBinding();
            using var runOptions = new RunOptions();
            binding.BindInput("A", ox);
            binding.BindInput("B", ow);
            binding.BindOutput("Y", oy);

            void Ours()
            {
                kernels.GemvEnabled = true;
                Gemm.Multiply(tx, tw, ty, options);
            }

            void General()
            {
                kernels.GemvEnabled = false;
                Gemm.Multiply(tx, tw, ty, options);
            }

            void Theirs() => session.RunWithBinding(runOptions, binding);

            string shape = $"1x{k}x{n}";
            Theirs();
            General();
            double errGeneral = Agreement.MaxRelative(ty.ToArray<float>(), theirs);
            Ours();
            double err = Math.Max(errGeneral, Agreement.MaxRelative(ty.ToArray<float>(), theirs));
            if (!(err <= MaxRelativeError))
            {
                Console.Error.WriteLine($"gemv {shape}: ours and {peer} disagree, max relative error {err:G3} > {MaxRelativeError:G3}");
                return 1;
            }
            // Past tiered JIT's promotion first (call counting starts ~100 ms after start-up; Interleaved warms
            // only 5 calls): otherwise the first, sub-microsecond shape measures tier-0 code in some rounds.
            Warm(Ours);
            Warm(General);
            var rounds = Interleaved.Rounds([Ours, General, Theirs]);
            var t = rounds.Select(r => Interleaved.Quantile(r, 0.5)).ToArray();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{{\"op\":\"gemv\",\"shape\":\"{shape}\",\"threads\":{threads},\"ours_us\":{t[0] * 1e6:F2},\"general_us\":{t[1] * 1e6:F2}," +
                $"\"peer\":\"{peer}\",\"peer_us\":{t[2] * 1e6:F2},\"ratio\":{t[2] / t[0]:F3},\"vs_general\":{t[1] / t[0]:F3},{Interleaved.SpreadJson(Interleaved.Ratios(rounds[2], rounds[0]))}}}"));
        }
        kernels.GemvEnabled = true;
        return 0;
    }

    private static void Warm(Action action)
    {
        long end = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 4;
        for (int i = 0; i < 100_000 && Stopwatch.GetTimestamp() < end; i++) action();
    }
}
