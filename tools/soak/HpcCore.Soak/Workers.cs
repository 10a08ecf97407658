// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Soak;

using System.Runtime.InteropServices;
using HpcCore.Cpu;
using HpcCore.Models.Images;
using HpcCore.Models.KvCache;
using HpcCore.Models.Lm;
using HpcCore.Models.Lm.Loading;
using HpcCore.Models.Vit;
using HpcCore.Models.Weights;

/// <summary>
/// The soak's threads. Each owns its session (sessions are single-threaded); weights and the backend are shared.
/// One call in four is a bad one, with the exception (or C status) the documentation promises.
/// </summary>
internal sealed class Workers(CpuBackend cpu, SoakTally tally, string root, string scratch)
{
    public long Calls;

    /// <summary>ViT sessions on the committed Fashion-MNIST model; good calls must reproduce the first logits exactly.</summary>
    public void Vit(VitWeights weights, ImageSet images, int thread, CancellationToken stop)
    {
        var c = weights.Config;
        const int batch = 4;
        int size = c.Channels * c.ImageSize * c.ImageSize;
        var pixels = new float[batch * size];
        for (int b = 0; b < batch; b++)
            ImageTensor.Write(images.Image((thread * batch + b) % images.Count).ToArray(), images.Height, images.Width, c, pixels.AsSpan(b * size, size));
        float[] expected;
        using (var first = new VitSession(weights, batch)) expected = first.Forward(pixels).ToArray<float>();
        string badWeights = Path.Combine(scratch, $"bad-vit-{thread}.safetensors");
        var good = File.ReadAllBytes(Path.Combine(root, "assets/vit/vit-fmnist.safetensors"));
        File.WriteAllBytes(badWeights, good[..(good.Length / 2)]);
        var png = MakePng();
        var greyOut = new float[size];
        using var session = new VitSession(weights, batch);
        for (long i = 0; !stop.IsCancellationRequested; i++)
        {
            Interlocked.Increment(ref Calls);
            switch (i % 8)
            {
                case 1: tally.Bad<ArgumentException>("vit forward, wrong pixel count", () => session.Forward(pixels.AsSpan(1))); break;
                case 3: tally.Bad<SafetensorsFormatException>("vit load, truncated file", () => VitWeightsLoader.Load(badWeights, cpu).Dispose()); break;
                case 5: tally.Bad<InvalidDataException>("image decode, truncated JFIF", () => ImageDecoder.Decode(new byte[] { 0xFF, 0xD8, 0xFF, 0xE0, 0x08, 0x10 }, c, greyOut)); break;
                case 7: tally.Bad<InvalidDataException>("image decode, PNG bomb header", () => ImageDecoder.Decode(png[..^20], c, greyOut)); break;
                default:
                    tally.Good("vit forward", () => session.Forward(pixels).ToArray<float>().AsSpan().SequenceEqual(expected) ? null : "logits differ from the first run");
                    break;
            }
        }
    }

    private static byte[] MakePng()
    {
        var ms = new MemoryStream();
        ms.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, .. "IHDR"u8, 0, 0, 16, 0, 0, 0, 16, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0]);
        ms.Write(new byte[64]);
        return ms.ToArray();
    }

    /// <summary>LM generation with StreamingLLM's evicting cache; good calls must reproduce the first text.</summary>
    public void Lm(LmConfig config, LmWeights weights, ITextTokenizer tokenizer, int thread, CancellationToken stop)
    {
        var policy = () => KvPolicyRegistry.Create("streaming", new KvPolicySettings { Budget = 48 });
        string prompt = thread % 2 == 0 ? "It is a truth universally acknowledged" : "Emma Woodhouse, handsome, clever, and rich";
        string Generate()
        {
            using var d = new LmDecoder(config, weights, cpu, new LmDecoderOptions(Policy: policy()));
            return LmGenerator.Generate(d, tokenizer, prompt, 96).Text;
        }
        string expected = Generate();
        string badCheckpoint = Path.Combine(scratch, $"bad-lm-{thread}.bin"), badHf = Path.Combine(scratch, $"bad-hf-{thread}.safetensors");
        var bytes = File.ReadAllBytes(Path.Combine(root, "tools/train/lm/austen.bin"));
        File.WriteAllBytes(badCheckpoint, bytes[..^4]);
        WriteHfMissingTensor(badHf);
        using var decoder = new LmDecoder(config, weights, cpu, new LmDecoderOptions(Policy: policy()));
        for (long i = 0; !stop.IsCancellationRequested; i++)
        {
            Interlocked.Increment(ref Calls);
            switch (i % 4)
            {
                case 1: tally.Bad<LmFormatException>("lm load, truncated llama2.c", () => LlamaCCheckpoint.Load(badCheckpoint, cpu).Weights.Dispose()); break;
                case 2:
                    tally.Bad<LmFormatException>("lm load, HF file missing a tensor", () =>
                    {
                        using var r = SafetensorsReader.Open(badHf);
                        HfSafetensors.Load(r, cpu).Weights.Dispose();
                    });
                    break;
                case 3: tally.Bad<ArgumentOutOfRangeException>("lm generate, negative steps", () => LmGenerator.Generate(decoder, tokenizer, prompt, -1)); break;
                default:
                    tally.Good("lm generate (streaming, budget 48)", () =>
                    {
                        decoder.Reset();
                        string text = LmGenerator.Generate(decoder, tokenizer, prompt, 96).Text;
                        return text == expected ? null : $"text differs: '{text}' vs '{expected}'";
                    });
                    break;
            }
        }
    }

    // A 2-layer Hugging Face Llama file without its last down projection: the loader fails after loading the rest.
    private void WriteHfMissingTensor(string path)
    {
        int C = 16, H = 32, V = 32;
        var named = new Dictionary<string, HpcCore.Tensors.Tensor>();
        void Add(string name, params int[] dims)
        {
            var shape = new HpcCore.Tensors.Shape(dims);
            named[name] = HpcCore.Tensors.Tensor.From<float>(new float[shape.ElementCount], shape, cpu);
        }
        Add("model.embed_tokens.weight", V, C);
        Add("model.norm.weight", C);
        for (int l = 0; l < 2; l++)
        {
            string p = $"model.layers.{l}.";
            Add(p + "input_layernorm.weight", C);
            Add(p + "self_attn.q_proj.weight", C, C);
            Add(p + "self_attn.k_proj.weight", C, C);
            Add(p + "self_attn.v_proj.weight", C, C);
            Add(p + "self_attn.o_proj.weight", C, C);
            Add(p + "post_attention_layernorm.weight", C);
            Add(p + "mlp.gate_proj.weight", H, C);
            Add(p + "mlp.up_proj.weight", H, C);
            if (l == 0) Add(p + "mlp.down_proj.weight", C, H);
        }
        SafetensorsWriter.Write(path, named, new Dictionary<string, string> { ["num_attention_heads"] = "2", ["max_position_embeddings"] = "32" });
        foreach (var t in named.Values) t.Dispose();
    }

    /// <summary>The C ABI through the native library: tensors and top-k checked against a plain loop, and bad calls' statuses.</summary>
    public void Native(NativeAbi abi, int thread, CancellationToken stop)
    {
        var rng = new Random(thread);
        string vitPath = Path.Combine(root, "assets/vit/vit-fmnist.safetensors");
        for (long i = 0; !stop.IsCancellationRequested; i++)
        {
            Interlocked.Increment(ref Calls);
            switch (i % 6)
            {
                case 1: tally.BadStatus("c: hpc_topk k > N", NativeAbi.OutOfRange, () => WithTensor(abi, [1f, 2f, 3f], [3], t => abi.TopK(t, 4, out _, out _))); break;
                case 3: tally.BadStatus("c: hpc_tensor_create rank 9", NativeAbi.OutOfRange, () => abi.CreateRaw(new long[9], 9, 0, out _)); break;
                case 5: tally.BadStatus("c: hpc_vit_load missing file", NativeAbi.Io, () => abi.VitLoad(vitPath + ".missing", out _)); break;
                case 4:
                    tally.Good("c: hpc_vit_load + free", () =>
                    {
                        int s = abi.VitLoad(vitPath, out var vit);
                        if (s != NativeAbi.Ok) return $"status {s}";
                        return abi.VitFree(vit) == NativeAbi.Ok ? null : "free failed";
                    });
                    break;
                default:
                    tally.Good("c: hpc_tensor_create + hpc_topk", () =>
                    {
                        int n = 5 + rng.Next(60), k = 1 + rng.Next(n);
                        var data = new float[n];
                        for (int j = 0; j < n; j++) data[j] = rng.Next(16); // ties: the lower index wins
                        string? why = null;
                        int s = WithTensor(abi, data, [n], t =>
                        {
                            int st = abi.TopK(t, k, out var values, out var indices);
                            if (st != NativeAbi.Ok) return st;
                            var idx = new byte[4 * k];
                            abi.CopyTo(indices, idx);
                            abi.Free(values);
                            abi.Free(indices);
                            var got = MemoryMarshal.Cast<byte, int>(idx).ToArray();
                            var want = Enumerable.Range(0, n).OrderByDescending(j => data[j]).ThenBy(j => j).Take(k).ToArray();
                            if (!got.SequenceEqual(want)) why = "top-k indices differ from the plain loop";
                            return 0;
                        });
                        return s != NativeAbi.Ok ? $"status {s}" : why;
                    });
                    break;
            }
        }
    }

    private static int WithTensor(NativeAbi abi, float[] data, long[] shape, Func<nint, int> use)
    {
        int s = abi.Create(data, shape, out var t);
        if (s != NativeAbi.Ok) return -100 - s;
        try
        {
            return use(t);
        }
        finally
        {
            abi.Free(t);
        }
    }
}
