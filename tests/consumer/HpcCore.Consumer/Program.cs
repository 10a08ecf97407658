// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Uses the three packages the way an application would, and checks each result against a plain loop. Prints one line
// per check and "consumer: ok" at the end; exits 1 on a mismatch.
using HpcCore.Consumer;
using HpcCore.Cpu;
using HpcCore.Gpu;
using HpcCore.Models.Weights;
using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.TokenReduction;

int failures = 0;
var rng = new Random(7);
float[] Uniform(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
void Report(string what, bool ok)
{
    Console.WriteLine($"{what}: {(ok ? "ok" : "MISMATCH")}");
    if (!ok) failures++;
}

using var backend = new CpuBackend();

// 1. Attention (grouped-query, causal) against a naive loop.
{
    const int B = 1, T = 9, H = 4, Hkv = 2, D = 8;
    float[] q = Uniform(B * T * H * D), k = Uniform(B * T * Hkv * D), v = Uniform(B * T * Hkv * D);
    using var tq = Tensor.From<float>(q, new Shape(B, T, H, D), backend);
    using var tk = Tensor.From<float>(k, new Shape(B, T, Hkv, D), backend);
    using var tv = Tensor.From<float>(v, new Shape(B, T, Hkv, D), backend);
    using var o = Attention.Forward(tq, tk, tv, new AttentionOptions(Causal: true));
    float[] got = o.ToArray<float>();
    double worst = 0;
    for (int t = 0; t < T; t++)
        for (int h = 0; h < H; h++)
        {
            int g = h / (H / Hkv);
            var p = new double[t + 1];
            for (int j = 0; j <= t; j++)
            {
                double s = 0;
                for (int d = 0; d < D; d++) s += q[(t * H + h) * D + d] * (double)k[(j * Hkv + g) * D + d];
                p[j] = s / Math.Sqrt(D);
            }
            double max = p.Max(), sum = p.Sum(x => Math.Exp(x - max));
            for (int d = 0; d < D; d++)
            {
                double acc = 0;
                for (int j = 0; j <= t; j++) acc += Math.Exp(p[j] - max) / sum * v[(j * Hkv + g) * D + d];
                worst = Math.Max(worst, Math.Abs(acc - got[(t * H + h) * D + d]));
            }
        }
    Report($"attention [1, 9, 4, 8] GQA causal, max |err| {worst:E1}", worst < 1e-5);
}

// 2. A ToMe merge step: 197 tokens with [CLS] protected, r = 16; sizes sum to 197 and mass is conserved.
{
    const int N = 197, C = 16;
    float[] x = Uniform(N * C);
    using var tx = Tensor.From<float>(x, new Shape(1, N, C), backend);
    using var plan = ToMe.Plan(tx, 16, new ToMeOptions(ClassToken: true));
    var (merged, size) = ToMe.Merge(plan, tx, null);
    using (merged)
    using (size)
    {
        float[] m = merged.ToArray<float>(), s = size.ToArray<float>();
        double worst = Math.Abs(s.Sum() - N);
        for (int c = 0; c < C; c++)
        {
            double before = 0, after = 0;
            for (int i = 0; i < N; i++) before += x[i * C + c];
            for (int i = 0; i < plan.OutputTokens; i++) after += s[i] * (double)m[i * C + c];
            worst = Math.Max(worst, Math.Abs(before - after));
        }
        Report($"ToMe merge 197 -> {merged.Shape[1]} tokens, mass error {worst:E1}", merged.Shape[1] == N - 16 && worst < 1e-3);
    }
}

// 3. HpcCore.Models: a safetensors round trip in memory.
{
    float[] w = Uniform(12);
    using var tw = Tensor.From<float>(w, new Shape(3, 4), backend);
    using var stream = new MemoryStream();
    SafetensorsWriter.Write(stream, [new KeyValuePair<string, Tensor>("w", tw)]);
    using var reader = SafetensorsReader.FromBytes(stream.ToArray());
    using var back = reader.Load("w", backend);
    Report("safetensors round trip", back.Shape == new Shape(3, 4) && back.ToArray<float>().SequenceEqual(w));
}

// 4. HpcCore.Models: the committed ViT (plain vs PyTorch's golden logits, then ToMe-reduced), and greedy generation.
foreach (var (what, ok) in VitCheck.Run(backend).Concat(GenerateCheck.Run(backend))) Report(what, ok);

// 5. HpcCore.Gpu: the provider loads (devices are listed only where a GPU exists; none is needed here).
Report($"HpcCore.Gpu provider '{IlgpuBackendProvider.Instance.Name}' loads", IlgpuBackendProvider.Instance.Name.Length > 0);

Console.WriteLine(failures == 0 ? "consumer: ok" : $"consumer: {failures} failure(s)");
return failures == 0 ? 0 : 1;
