// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// `quick reduction`: the time of one token-reduction step (ToMe plan + merge, EViT, a top-k pruner) against one
// transformer block at the same N and C (fused attention + the block's four GEMMs: QKV, output projection, MLP up
// and down with MLP width 4C; norms and activations left out), alternating step and block every round so that both see
// the same machine load (the step repeated to about 20 ms per round, the block once; fewer rounds at large N, where a
// block takes seconds). One JSON line per shape and method; the target is a step under 5% of the block.
// HPCCORE_QUICK_REDUCTION_SHAPES="N:C:H,..." overrides the shapes.
using System.Diagnostics;
using System.Globalization;
using HpcCore.Cpu;
using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.TokenReduction;

namespace HpcCore.Benchmarks.Quick;

/// <summary>The `quick reduction` benchmark.</summary>
public static class QuickReduction
{
    private static readonly (int N, int C, int H)[] DefaultShapes = [(197, 768, 12), (577, 1024, 16), (2880, 1024, 16), (16384, 256, 4)];

    /// <summary>Runs every shape; returns 0.</summary>
    public static int Run()
    {
        using var backend = new CpuBackend(QuickBenchmarks.Threads);
        foreach (var (n, c, h) in Shapes())
        {
            using var shape = new BlockShape(backend, n, c, h);
            int r = n / 4;
            int keep = Evit.KeepCount(n - 1, 0.7);
            int rounds = n <= 577 ? 15 : n <= 4096 ? 5 : 3;
            Report("tome", n, c, h, $"r{r}", Alternate(() => shape.ToMeStep(r), shape.Block, rounds));
            Report("evit", n, c, h, $"keep{keep}", Alternate(() => shape.EvitStep(keep), shape.Block, rounds));
            Report("topk-prune", n, c, h, $"keep{keep}", Alternate(() => shape.TopKStep(keep), shape.Block, rounds));
        }
        return 0;
    }

    private static (int N, int C, int H)[] Shapes()
    {
        var env = Environment.GetEnvironmentVariable("HPCCORE_QUICK_REDUCTION_SHAPES");
        if (string.IsNullOrWhiteSpace(env)) return DefaultShapes;
        return env.Split(',').Select(s => s.Split(':').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray())
            .Select(v => (v[0], v[1], v[2])).ToArray();
    }

    private static void Report(string method, int n, int c, int h, string setting, (double Step, double Block, string Spread) t) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"op\":\"reduction\",\"method\":\"{method}\",\"shape\":\"B1xN{n}xC{c}xH{h}\",\"setting\":\"{setting}\",\"step_ms\":{t.Step * 1e3:F3},\"block_ms\":{t.Block * 1e3:F3},\"ratio\":{t.Step / t.Block:F4},{t.Spread}}}"));

    // Median seconds per call of step and block, interleaved (the step sized to ~20 ms blocks, the block one call).
    private static (double Step, double Block, string Spread) Alternate(Action step, Action block, int rounds)
    {
        var t = Interleaved.Median(step, block, rounds, blockSeconds: 0, warmups: 1);
        return (t.Ours, t.Peer, Interleaved.SpreadJson(Interleaved.Ratios(t.OursRounds, t.PeerRounds)));
    }

    /// <summary>Operands of one block and of the reduction steps at one shape.</summary>
    private sealed class BlockShape : IDisposable
    {
        private readonly List<Tensor> _owned = [];
        private readonly Tensor _x, _wQkv, _qkv, _wOut, _wUp, _wDown, _up, _o, _y, _q, _k, _v, _attn, _metric, _rows, _probs;
        private readonly int _n, _c;
        private readonly Tensor _x3;
        private MergePlan? _tome;
        private TokenPlan? _evit;
        private Tensor? _merged, _mergedSize, _reorganised;

        public BlockShape(CpuBackend backend, int n, int c, int h)
        {
            (_n, _c) = (n, c);
            int d = c / h;
            Tensor U(Shape s, int seed) => Own(Tensor.From<float>(Infrastructure.BenchBackends.Uniform((int)s.ElementCount, seed), s, backend));
            Tensor E(Shape s) => Own(Tensor.Empty(s, DType.F32, backend));
            _x = U(new Shape(n, c), 1);
            _x3 = Own(_x.Reshape(1, n, c));
            _wQkv = U(new Shape(3 * c, c), 2);
            _wOut = U(new Shape(c, c), 3);
            _wUp = U(new Shape(4 * c, c), 4);
            _wDown = U(new Shape(c, 4 * c), 5);
            _qkv = E(new Shape(n, 3 * c));
            _up = E(new Shape(n, 4 * c));
            _o = E(new Shape(n, c));
            _y = E(new Shape(n, c));
            _q = U(new Shape(1, n, h, d), 6);
            _k = U(new Shape(1, n, h, d), 7);
            _v = U(new Shape(1, n, h, d), 8);
            _attn = E(new Shape(1, n, h, d));
            _metric = U(new Shape(1, n, d), 9);
            _rows = Own(Tensor.From<int>(new[] { 0 }, new Shape(1), backend));
            _probs = Own(Tensor.From<float>(Infrastructure.BenchBackends.Uniform(h * n, 10), new Shape(1, h, 1, n), backend));
        }

        private Tensor Own(Tensor t)
        {
            _owned.Add(t);
            return t;
        }

        /// <summary>One block: QKV projection, attention, output projection, MLP (4C) up and down.</summary>
        public void Block()
        {
            var t = new GemmOptions(TransposeB: true);
            Gemm.Multiply(_x, _wQkv, _qkv, t);
            Attention.Forward(_q, _k, _v, _attn);
            Gemm.Multiply(_x, _wOut, _o, t);
            Gemm.Multiply(_o, _wUp, _up, t);
            Gemm.Multiply(_up, _wDown, _y, t);
        }

        /// <summary>
        /// ToMe: bipartite matching on the key means and the size-weighted merge of x, re-planning into one plan and
        /// merging into reused outputs (the steady state of a model loop).
        /// </summary>
        public void ToMeStep(int r)
        {
            var options = new ToMeOptions(ClassToken: true);
            if (_tome is null)
            {
                _tome = ToMe.Plan(_metric, r, options);
                _merged = Own(Tensor.Empty(new Shape(1, _tome.OutputTokens, _c), DType.F32, _x.Backend));
                _mergedSize = Own(Tensor.Empty(new Shape(1, _tome.OutputTokens), DType.F32, _x.Backend));
            }
            ToMe.Plan(_metric, r, _tome, options);
            ToMe.Merge(_tome, _x3, null, _merged!, _mergedSize!);
        }

        /// <summary>EViT: [CLS]-row scores from the exported probabilities, plan (reused), reorganised tokens.</summary>
        public void EvitStep(int keep)
        {
            using var scores = AttentionScores.ClassRow(_probs);
            if (_evit is null)
            {
                _evit = Evit.Plan(scores, keep);
                _reorganised = Own(Tensor.Empty(new Shape(1, _evit.OutputTokens, _c), DType.F32, _x.Backend));
            }
            Evit.Plan(scores, keep, _evit);
            Evit.Apply(_evit, _x3, _reorganised!);
        }

        /// <summary>A top-k pruner (VTC-CLS style): scores, top-k in spatial order, gather.</summary>
        public void TopKStep(int keep)
        {
            using var scores = AttentionScores.ClassRow(_probs);
            using var idx = VtcCls.Select(scores, keep);
            using var x = _x.Narrow(0, 1, _n - 1);
            using var patches = x.Reshape(1, _n - 1, _c);
            using var y = Gather.Rows(patches, idx);
        }

        public void Dispose()
        {
            _tome?.Dispose();
            _evit?.Dispose();
            foreach (var t in _owned) t.Dispose();
        }
    }
}
