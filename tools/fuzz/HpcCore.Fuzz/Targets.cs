// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Fuzz;

using System.IO.Compression;
using System.Text;
using HpcCore.Cpu;
using HpcCore.Models.Encoder;
using HpcCore.Models.Images;
using HpcCore.Models.Lm.Loading;
using HpcCore.Models.Onnx;
using HpcCore.Models.Vit;
using HpcCore.Models.Vlm;
using HpcCore.Models.Weights;

/// <summary>Every parser and loader consumer, with its seeds, mutator and documented exception types.</summary>
internal static class Targets
{
    public static IReadOnlyList<FuzzTarget> All(CpuBackend cpu, string scratch)
    {
        Directory.CreateDirectory(scratch);
        var grey = new VitConfig(28, 4, 1, 8, 1, 2, 8, 3, 1e-6f, [0.5f], [0.25f]);
        var rgb = new VitConfig(32, 4, 3, 8, 1, 2, 8, 3, 1e-6f, [0.5f, 0.5f, 0.5f], [0.25f, 0.25f, 0.25f]);
        var greyOut = new float[28 * 28];
        var rgbOut = new float[3 * 32 * 32];
        void Image(byte[] b)
        {
            ImageDecoder.Decode(b, grey, greyOut, "fuzz");
            ImageDecoder.Decode(b, rgb, rgbOut, "fuzz");
        }
        Type[] invalidData = [typeof(InvalidDataException)];

        // Loaders that take a path get the mutated bytes written to a scratch file first (the mapping path is part of
        // what is tested: a failed load must release its mapping).
        string File1(string name, byte[] bytes)
        {
            string p = Path.Combine(scratch, name);
            File.WriteAllBytes(p, bytes);
            return p;
        }

        string hfDir = Path.Combine(scratch, "hf");
        Directory.CreateDirectory(hfDir);
        var llama = Seeds.HfLlama(cpu, withMetadata: false);
        File.WriteAllBytes(Path.Combine(hfDir, "model.safetensors"), llama);
        // The config of Seeds.HfLlama's model, complete as HfModelConfig requires it (the runner refuses a target whose
        // seed is rejected: an older, partial config here left this target testing only the "no model_type" error).
        var hfConfig = Encoding.UTF8.GetBytes("""
            {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 16, "intermediate_size": 32,
             "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1, "max_position_embeddings": 32,
             "rope_theta": 10000.0, "rms_norm_eps": 1e-05, "vocab_size": 32, "tie_word_embeddings": false}
            """);
        string bertDir = Path.Combine(scratch, "bert");
        Seeds.BertFolder(cpu, bertDir);
        var bertWeights = File.ReadAllBytes(Path.Combine(bertDir, "model.safetensors"));
        var bertConfig = File.ReadAllBytes(Path.Combine(bertDir, "config.json"));
        var idxLabels = Seeds.Gunzip(Seeds.Repo("assets/data/fashion-mnist/t10k-labels-idx1-ubyte.gz"));

        return
        [
            new("safetensors-vit", [Seeds.Repo("assets/vit/vit-fmnist.safetensors"), .. Enumerable.Repeat(Seeds.TinyVit(cpu), 7)], Mutators.Safetensors, b =>
            {
                using var reader = SafetensorsReader.FromBytes(b, "fuzz.safetensors");
                using var w = VitWeightsLoader.Load(reader, cpu, checkWeights: true);
            }, [typeof(SafetensorsFormatException)]),

            new("safetensors-vlm", [Seeds.Repo("assets/vlm/vlm-grid.safetensors")], Mutators.Safetensors, b =>
            {
                using var w = VlmWeights.Load(File1("vlm.safetensors", b), cpu);
            }, [typeof(InvalidDataException), typeof(SafetensorsFormatException)]),

            new("safetensors-hf-lm", [Seeds.HfLlama(cpu, withMetadata: true), Seeds.HfGpt2(cpu)], Mutators.Safetensors, b =>
            {
                using var reader = SafetensorsReader.Open(File1("lm.safetensors", b));
                var (_, w) = HfSafetensors.Load(reader, cpu);
                w.Dispose();
            }, [typeof(LmFormatException), typeof(SafetensorsFormatException)]),

            new("hf-folder-config.json", [hfConfig], (r, s, _) => r.Next(4) == 0 ? Mutators.Havoc(r, s, []) : Mutators.Json(r, s), b =>
            {
                File.WriteAllBytes(Path.Combine(hfDir, "config.json"), b);
                var (_, w) = HfFolder.Load(hfDir, cpu);
                w.Dispose();
            }, [typeof(LmFormatException), typeof(SafetensorsFormatException)]),

            new("safetensors-encoder", [bertWeights], Mutators.Safetensors, b =>
            {
                File.WriteAllBytes(Path.Combine(bertDir, "model.safetensors"), b);
                using var m = EncoderModel.Load(bertDir, cpu);
            }, [typeof(EncoderFormatException), typeof(SafetensorsFormatException)]),

            new("encoder-config.json", [bertConfig], (r, s, _) => r.Next(4) == 0 ? Mutators.Havoc(r, s, []) : Mutators.Json(r, s), b =>
                EncoderConfig.FromJson(b, EncoderPooling.Mean, "fuzz/config.json"), [typeof(EncoderFormatException)]),

            new("llama2c-checkpoint", [.. Enumerable.Repeat(Seeds.LlamaC(tied: true), 4), .. Enumerable.Repeat(Seeds.LlamaC(tied: false), 3), Seeds.Repo("tools/train/lm/austen.bin")],
                (r, s, all) => r.Next(10) < 7 ? Mutators.Havoc(r, s, all, 0, 28) : Mutators.Havoc(r, s, all), b =>
            {
                var (_, w) = LlamaCCheckpoint.Load(new MemoryStream(b, writable: false), cpu, "fuzz.bin");
                w.Dispose();
            }, [typeof(LmFormatException)]),

            new("llama2c-tokenizer", [Seeds.Repo("tools/train/lm/bytes259.bin")], Mutators.Havoc, b =>
            {
                var t = LlamaCTokenizer.Parse(b, 259, "fuzz-tokenizer.bin");
                t.Encode("Once upon a time, émigré \u4e2d", addBos: true);
            }, [typeof(LmFormatException)]),

            new("vocab.txt", [Encoding.UTF8.GetBytes(Seeds.BertVocab)], Mutators.Lines, b =>
                EncoderTokenizer.FromVocab(File1("vocab.txt", b), lowerCase: true).Encode("Hello world, the cats running!", 16),
                [typeof(EncoderFormatException)]),

            new("tokenizer.json", [Seeds.BertTokenizerJson], (r, s, _) => r.Next(4) == 0 ? Mutators.Havoc(r, s, []) : Mutators.Json(r, s), b =>
                EncoderTokenizer.FromTokenizerJson(File1("tokenizer.json", b), lowerCase: true).Encode("Hello world, the cats running!", 16),
                [typeof(EncoderFormatException)]),

            new("idx", [idxLabels, Seeds.IdxImages(64)], (r, s, all) => r.Next(10) < 6 ? Mutators.Havoc(r, s, all, 0, 16) : Mutators.Havoc(r, s, all), b =>
            {
                IdxFile.Read(new MemoryStream(b, writable: false), "fuzz.idx");
                if (b.Length % 7 == 0) // a share through gzip: the unknown-length path
                {
                    var gz = new MemoryStream();
                    using (var z = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true)) z.Write(b);
                    gz.Position = 0;
                    IdxFile.Read(new GZipStream(gz, CompressionMode.Decompress), "fuzz.idx.gz");
                }
            }, invalidData),

            new("png", Seeds.Pngs(), Mutators.Png, Image, invalidData),
            new("jpeg", Seeds.Jpegs(), Mutators.Jpeg, Image, invalidData),
            new("bmp", [Seeds.Bmp(8, 6, 24), Seeds.Bmp(5, 5, 8), Seeds.Bmp(7, 3, 32)], (r, s, all) => r.Next(2) == 0 ? Mutators.Havoc(r, s, all, 0, 54) : Mutators.Havoc(r, s, all), Image, invalidData),

            new("onnx", [Seeds.Repo("assets/vit/vit-fmnist.onnx"), .. Enumerable.Repeat(OnnxSeed.TinyBert(), 15)], Mutators.Havoc, b =>
            {
                var onnx = OnnxModelFile.Parse(b, "fuzz.onnx");
                var (_, tensors) = BertOnnxImporter.Import(onnx, 2, EncoderPooling.Mean, cpu);
                foreach (var t in tensors.Values) t.Dispose();
            }, [typeof(OnnxFormatException), typeof(EncoderFormatException)]),
        ];
    }
}
