// Copyright (c) HpcCore contributors. Licensed under the MIT license.
using System.CommandLine;
using System.Diagnostics;
using HpcCore.Devices;
using HpcCore.Ops;
using HpcCore.Tensors;
using Spectre.Console;

namespace HpcCore.Cli.Commands;

/// <summary>
/// `hpccore demo`: one ViT-B-sized transformer block (T = 197 tokens, C = 768, 12 heads) built from the core ops
/// on the best device found, with seeded random weights: timings per op, GFLOP/s, and sanity checks of the result.
/// Later issues replace this with the trained-model evaluation.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var reps = new Option<int>("--reps") { Description = "Timed repetitions (median reported).", DefaultValueFactory = _ => 10 };
        var command = new Command("demo", "Run a ViT-B-sized transformer block from the core ops and report timings.") { reps };
        command.SetAction(result => Run(Math.Max(1, result.GetValue(reps))));
        return command;
    }

    private static int Run(int reps)
    {
        using var backend = HpcRuntime.CreateDefault();
        AnsiConsole.MarkupLine($"device: [bold]{Markup.Escape(backend.Device.ToString())}[/]");
        using var block = new DemoBlock(backend, tokens: 197, channels: 768, heads: 12, seed: 42);
        block.Forward(); // warm-up: JIT, kernel compilation, buffer pool
        var times = new Dictionary<string, List<double>>();
        for (int r = 0; r < reps; r++)
        {
            foreach (var (name, ms) in block.Forward())
            {
                if (!times.TryGetValue(name, out var list)) times[name] = list = [];
                list.Add(ms);
            }
        }
        var table = new Table().AddColumns("step", "shape", "median ms", "GFLOP/s");
        double total = 0;
        foreach (var step in block.Steps)
        {
            double ms = Median(times[step.Name]);
            total += ms;
            string gflops = step.Flops > 0 ? (step.Flops / (ms * 1e6)).ToString("F1") : "";
            table.AddRow(step.Name, Markup.Escape(step.Shape), ms.ToString("F3"), gflops);
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"block total: {total:F2} ms (median of {reps})");
        var (rowSumError, finite) = block.Check();
        double fusedDiff = block.FusedDifference();
        AnsiConsole.MarkupLine($"checks: attention rows sum to 1 within {rowSumError:E1}; output finite: {finite}; " +
                               $"fused vs unfused attention max |diff| {fusedDiff:E1}");
        return finite && rowSumError < 1e-4 && !(fusedDiff > 1e-4) ? 0 : 1;
    }

    private static double Median(List<double> xs)
    {
        var s = xs.Order().ToArray();
        return s[s.Length / 2];
    }

    internal readonly record struct Step(string Name, string Shape, double Flops);

    // A pre-LN transformer block: x + Attn(LN(x)), then + MLP(LN(.)). Buffers are allocated once and reused.
    private sealed class DemoBlock : IDisposable
    {
        private readonly int _t, _c, _h, _d;
        private readonly List<Tensor> _owned = [];
        private readonly Tensor _fused;
        private readonly Tensor _x, _ln, _g, _b, _wqkv, _bqkv, _qkv, _q, _scores, _attn, _wo, _w1, _w2, _mlp, _out, _proj;

        public DemoBlock(IBackend backend, int tokens, int channels, int heads, int seed)
        {
            (_t, _c, _h, _d) = (tokens, channels, heads, channels / heads);
            var rng = new Random(seed);
            Tensor Rand(float scale, params int[] dims)
            {
                var shape = new Shape(dims);
                var data = new float[shape.ElementCount];
                for (int i = 0; i < data.Length; i++) data[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
                return Own(Tensor.From<float>(data, shape, backend));
            }
            Tensor Empty(params int[] dims) => Own(Tensor.Empty(new Shape(dims), DType.F32, backend));
            float ws = 1f / MathF.Sqrt(channels);
            _x = Rand(1f, _t, _c);
            _g = Rand(1f, _c);
            _b = Rand(0.1f, _c);
            _wqkv = Rand(ws, 3 * _c, _c);
            _bqkv = Rand(0.1f, 3 * _c);
            _wo = Rand(ws, _c, _c);
            _w1 = Rand(ws, 4 * _c, _c);
            _w2 = Rand(ws / 2, _c, 4 * _c);
            _ln = Empty(_t, _c);
            _qkv = Empty(_t, 3 * _c);
            _q = Empty(1, _t, _h, _d);
            _scores = Empty(1, _h, _t, _t);
            _attn = Empty(1, _t, _h, _d);
            _fused = Empty(1, _t, _h, _d);
            _proj = Empty(_t, _c);
            _mlp = Empty(_t, 4 * _c);
            _out = Empty(_t, _c);
        }

        public IReadOnlyList<Step> Steps =>
        [
            new("layernorm", $"[{_t}, {_c}]", 0),
            new("qkv projection", $"[{_t}, {_c}] x [{_c}, {3 * _c}]", 2.0 * _t * _c * 3 * _c),
            new("rope on q", $"[1, {_t}, {_h}, {_d}]", 0),
            new("q k^T per head", $"[{_h}, {_t}, {_d}] x [{_h}, {_d}, {_t}]", 2.0 * _h * _t * _t * _d),
            new("softmax", $"[{_h}, {_t}, {_t}]", 0),
            new("p v per head", $"[{_h}, {_t}, {_t}] x [{_h}, {_t}, {_d}]", 2.0 * _h * _t * _t * _d),
            .. (HasFusedAttention
                ? (Step[])[new("fused attention (same result)", $"[1, {_t}, {_h}, {_d}]", 4.0 * _h * _t * _t * _d)]
                : []),
            new("output projection + residual", $"[{_t}, {_c}] x [{_c}, {_c}]", 2.0 * _t * _c * _c),
            new("mlp fc1 + gelu", $"[{_t}, {_c}] x [{_c}, {4 * _c}]", 2.0 * _t * _c * 4 * _c),
            new("mlp fc2 + residual", $"[{_t}, {4 * _c}] x [{4 * _c}, {_c}]", 2.0 * _t * _c * 4 * _c),
        ];

        public List<(string, double)> Forward()
        {
            var times = new List<(string, double)>();
            var sw = new Stopwatch();
            var backend = _x.Backend;
            void Time(string name, Action a)
            {
                sw.Restart();
                a();
                backend.Synchronize();
                times.Add((name, sw.Elapsed.TotalMilliseconds));
            }
            float scale = 1f / MathF.Sqrt(_d);
            Time("layernorm", () => Norms.LayerNorm(_x, _g, _b, _ln));
            Time("qkv projection", () => Gemm.Multiply(_ln, _wqkv, _qkv, new GemmOptions(TransposeB: true, Bias: _bqkv)));
            // Views over the packed projection: [T, 3C] -> [T, 3, H, D] -> q, k, v as [H, T, D] without copies.
            using var qkv = _qkv.Reshape(_t, 3, _h, _d);
            using var qSlice = qkv.Narrow(1, 0, 1);
            using var kSlice = qkv.Narrow(1, 1, 1);
            using var vSlice = qkv.Narrow(1, 2, 1);
            using var qView = qSlice.Permute(1, 0, 2, 3); // [1, T, H, D]
            using var k = kSlice.Permute(1, 2, 0, 3);     // [1, H, T, D], row stride 3C
            using var v = vSlice.Permute(1, 2, 0, 3);
            Time("rope on q", () =>
            {
                qView.CopyTo(_q);
                Rope.Apply(_q, _q, new RopeOptions(Layout: Kernels.RopeLayout.HalfSplit));
            });
            using var q = _q.Permute(0, 2, 1, 3);             // [1, H, T, D]
            Time("q k^T per head", () => Gemm.Multiply(q, k, _scores, new GemmOptions(TransposeB: true, Alpha: scale)));
            Time("softmax", () => Softmax.Forward(_scores, _scores));
            using var attn = _attn.Permute(0, 2, 1, 3);       // [1, H, T, D] view of [1, T, H, D]
            Time("p v per head", () => Gemm.Multiply(_scores, v, attn));
            if (HasFusedAttention)
            {
                // The three steps above in one flash-style kernel, reading K and V in place from the packed projection.
                using var kBthd = kSlice.Permute(1, 0, 2, 3);
                using var vBthd = vSlice.Permute(1, 0, 2, 3);
                Time("fused attention (same result)", () => Attention.Forward(_q, kBthd, vBthd, _fused, new AttentionOptions(Scale: scale)));
            }
            using var attnFlat = _attn.Reshape(_t, _c);
            Time("output projection + residual", () =>
            {
                Gemm.Multiply(attnFlat, _wo, _proj, new GemmOptions(TransposeB: true));
                Elementwise.Add(_proj, _x, _proj);
            });
            Time("mlp fc1 + gelu", () =>
            {
                Norms.LayerNorm(_proj, _g, _b, _ln);
                Gemm.Multiply(_ln, _w1, _mlp, new GemmOptions(TransposeB: true));
                Activations.Gelu(_mlp, _mlp);
            });
            Time("mlp fc2 + residual", () =>
            {
                _proj.CopyTo(_out);
                Gemm.Multiply(_mlp, _w2, _out, new GemmOptions(TransposeB: true, Beta: 1f));
            });
            return times;
        }

        private bool HasFusedAttention => _x.Backend.Kernels is Kernels.IAttentionKernels;

        /// <summary>Largest |fused - unfused| attention output, or NaN when the backend has no fused kernel.</summary>
        public double FusedDifference()
        {
            if (!HasFusedAttention) return double.NaN;
            var a = _attn.ToArray<float>();
            var f = _fused.ToArray<float>();
            double worst = 0;
            for (int i = 0; i < a.Length; i++) worst = Math.Max(worst, Math.Abs(a[i] - f[i]));
            return worst;
        }

        public (double RowSumError, bool Finite) Check()
        {
            var p = _scores.ToArray<float>();
            double worst = 0;
            for (int row = 0; row < _h * _t; row++)
            {
                double s = 0;
                for (int j = 0; j < _t; j++) s += p[row * _t + j];
                worst = Math.Max(worst, Math.Abs(s - 1));
            }
            bool finite = _out.ToArray<float>().All(float.IsFinite);
            return (worst, finite);
        }

        private Tensor Own(Tensor t)
        {
            _owned.Add(t);
            return t;
        }

        public void Dispose()
        {
            foreach (var t in _owned) t.Dispose();
        }
    }
}
