// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Our CPU GEMM against ONNX Runtime's MatMul (one InferenceSession over a single MatMul node, inputs and output
// bound once over pinned arrays so ORT allocates nothing per run), same process, interleaved. Shapes: a BERT/ViT
// projection at 1024 tokens (1024x768 @ 768x768) and ViT-B's QKV projection ([197, 768] @ [768, 2304]).
using System.Globalization;
using HpcCore.Cpu;
using HpcCore.Ops;
using HpcCore.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace HpcCore.Benchmarks.Quick;

/// <summary>The `quick gemm` side-by-side benchmark.</summary>
public static class GemmQuick
{
    private static readonly (int M, int N, int K)[] Shapes = [(1024, 768, 768), (197, 2304, 768)];

    // Relative to the output's largest magnitude: float accumulation in a different order differs by ~1e-6 here.
    private const double MaxRelativeError = 1e-4;

    /// <summary>Runs every shape and prints one JSON line each; returns 1 if ours and ORT disagree.</summary>
    public static int Run()
    {
        int threads = QuickBenchmarks.Threads;
        using var backend = new CpuBackend(threads);
        using var sessionOptions = QuickBenchmarks.CreateOrtOptions(threads);
        string peer = "onnxruntime-" + OrtEnv.Instance().GetVersionString();
        foreach (var (m, n, k) in Shapes)
        {
            var a = BenchUniform(m * k, 1);
            var b = BenchUniform(k * n, 2);
            var theirs = new float[m * n];
            using var ta = Tensor.From<float>(a, new Shape(m, k), backend);
            using var tb = Tensor.From<float>(b, new Shape(k, n), backend);
            using var tc = Tensor.Empty(new Shape(m, n), DType.F32, backend);
            var options = default(GemmOptions);

            var model = OnnxModelBuilder.SingleNode("MatMul", 13, [("A", [m, k]), ("B", [k, n])], ("C", [m, n]));
            using var session = new InferenceSession(model, sessionOptions);
            using var oa = OrtValue.CreateTensorValueFromMemory(a, [m, k]);
            using var ob = OrtValue.CreateTensorValueFromMemory(b, [k, n]);
            using var oc = OrtValue.CreateTensorValueFromMemory(theirs, [m, n]);
            using var binding = session.CreateIoBinding();
            using var runOptions = new RunOptions();
            binding.BindInput("A", oa);
            binding.BindInput("B", ob);
            binding.BindOutput("C", oc);

            void Ours()
            {
                Gemm.Multiply(ta, tb, tc, options);
                backend.Synchronize();
            }

            void Theirs() => session.RunWithBinding(runOptions, binding);

            Ours();
            Theirs();
            double err = Agreement.MaxRelative(tc.ToArray<float>(), theirs);
            string shape = $"{m}x{k}x{n}";
            if (!(err <= MaxRelativeError))
            {
                Console.Error.WriteLine($"gemm {shape}: ours and {peer} disagree, max relative error {err:G3} > {MaxRelativeError:G3}");
                return 1;
            }
            var timing = Interleaved.Median(Ours, Theirs);
            var (ours, theirsTime) = timing;
            double flops = 2.0 * m * n * k;
            double og = flops / ours / 1e9, pg = flops / theirsTime / 1e9;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{{\"op\":\"gemm\",\"shape\":\"{shape}\",\"ours_gflops\":{og:F1},\"peer\":\"{peer}\",\"peer_gflops\":{pg:F1},\"ratio\":{og / pg:F3},{timing.SpreadJson}}}"));
        }
        return 0;
    }

    private static float[] BenchUniform(int count, int seed) => Infrastructure.BenchBackends.Uniform(count, seed);
}
