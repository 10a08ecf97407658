// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vit;

using System.Globalization;
using HpcCore.Devices;
using HpcCore.Models.Weights;
using HpcCore.Tensors;

/// <summary>
/// Builds <see cref="VitWeights"/> from a safetensors file with timm's tensor names, or with seeded random values at a
/// preset's real size (for benchmarks).
/// </summary>
public static class VitWeightsLoader
{
    private const string Op = "VitWeightsLoader.Load";

    /// <summary>Opens <paramref name="path"/> and loads every tensor onto <paramref name="backend"/>.</summary>
    /// <exception cref="SafetensorsFormatException">The file is malformed or does not describe a valid ViT (see
    /// <see cref="Load(SafetensorsReader, IBackend, bool)"/>).</exception>
    /// <exception cref="IOException">The file cannot be opened or mapped.</exception>
    public static VitWeights Load(string path, IBackend backend, bool checkWeights = false)
    {
        using var reader = SafetensorsReader.Open(path);
        return Load(reader, backend, checkWeights);
    }

    /// <summary>
    /// Loads a ViT from <paramref name="reader"/>. The shape comes from the tensors (D from cls_token, p and C from the
    /// patch embedding, N from pos_embed, depth from the block names, hidden and classes from fc1 and head); the
    /// head count, normalisation and LayerNorm epsilon come from the file's metadata (heads, mean, std,
    /// layer_norm_eps) and otherwise default to timm's (head width 64, ImageNet statistics, 1e-6).
    /// </summary>
    /// <param name="reader">The file.</param>
    /// <param name="backend">Where the tensors go.</param>
    /// <param name="checkWeights">Refuse the file when a tensor holds NaN or infinity (<see cref="WeightsCheck"/>),
    /// naming the tensors; off by default because it reads every weight once.</param>
    /// <exception cref="SafetensorsFormatException">A tensor is missing or has the wrong shape or dtype, a metadata
    /// value is malformed or out of range, or (with <paramref name="checkWeights"/>) a weight is not finite. This is
    /// the only exception a malformed file produces; nothing loaded before the failure is kept.</exception>
    public static VitWeights Load(SafetensorsReader reader, IBackend backend, bool checkWeights = false)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(backend);
        var config = InferConfig(reader);
        if (checkWeights && WeightsCheck.FindNonFinite(reader) is { Count: > 0 } bad)
            throw new SafetensorsFormatException($"{Op}: '{reader.Source}' has non-finite weights: {WeightsCheck.Describe(bad)}");
        var loaded = new List<Tensor>();
        try
        {
            Tensor Get(string name, params int[] dims)
            {
                var entry = reader.TryGetEntry(name, out var e) ? e
                    : throw new SafetensorsFormatException($"{Op}: '{reader.Source}' has no tensor '{name}'");
                if (entry.DType != DType.F32)
                    throw new SafetensorsFormatException($"{Op}: '{name}' is {entry.DType}; F32 is required");
                if (entry.Shape != new Shape(dims))
                    throw new SafetensorsFormatException($"{Op}: '{name}' has shape {entry.Shape}; expected {new Shape(dims)}");
                var t = reader.Load(name, backend);
                loaded.Add(t);
                return t;
            }

            int d = config.Dim, h = config.MlpHidden, p = config.PatchSize;
            var blocks = new VitBlockWeights[config.Depth];
            for (int i = 0; i < blocks.Length; i++)
            {
                string b = $"blocks.{i}.";
                blocks[i] = new VitBlockWeights(
                    Get(b + "norm1.weight", d), Get(b + "norm1.bias", d),
                    Get(b + "attn.qkv.weight", 3 * d, d), Get(b + "attn.qkv.bias", 3 * d),
                    Get(b + "attn.proj.weight", d, d), Get(b + "attn.proj.bias", d),
                    Get(b + "norm2.weight", d), Get(b + "norm2.bias", d),
                    Get(b + "mlp.fc1.weight", h, d), Get(b + "mlp.fc1.bias", h),
                    Get(b + "mlp.fc2.weight", d, h), Get(b + "mlp.fc2.bias", d));
            }
            return new VitWeights(config,
                Get("patch_embed.proj.weight", d, config.Channels, p, p), Get("patch_embed.proj.bias", d),
                Get("cls_token", 1, 1, d), Get("pos_embed", 1, config.Tokens, d), blocks,
                Get("norm.weight", d), Get("norm.bias", d),
                Get("head.weight", config.Classes, d), Get("head.bias", config.Classes));
        }
        catch
        {
            foreach (var t in loaded) t.Dispose();
            throw;
        }
    }

    /// <summary>The <see cref="VitConfig"/> a file describes (see <see cref="Load(SafetensorsReader, IBackend, bool)"/>).</summary>
    public static VitConfig InferConfig(SafetensorsReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        Shape ShapeOf(string name) => reader.TryGetEntry(name, out var e) ? e.Shape
            : throw new SafetensorsFormatException($"{Op}: '{reader.Source}' has no tensor '{name}'");
        var patch = ShapeOf("patch_embed.proj.weight");
        var pos = ShapeOf("pos_embed");
        if (patch.Rank != 4 || patch[2] != patch[3] || pos.Rank != 3)
            throw new SafetensorsFormatException($"{Op}: patch_embed.proj.weight {patch} / pos_embed {pos} are not a square-patch ViT");
        int dim = patch[0], channels = patch[1], p = patch[2];
        int grid = pos[1] < 2 ? 0 : (int)Math.Round(Math.Sqrt(pos[1] - 1.0));
        if (grid == 0 || (long)grid * grid != pos[1] - 1L || (long)grid * p > int.MaxValue)
            throw new SafetensorsFormatException($"{Op}: pos_embed {pos} does not hold a square grid plus [CLS]");
        int depth = 0;
        while (reader.Contains($"blocks.{depth}.norm1.weight")) depth++;
        var fc1 = ShapeOf("blocks.0.mlp.fc1.weight");
        var head = ShapeOf("head.weight");
        if (fc1.Rank != 2 || head.Rank != 2)
            throw new SafetensorsFormatException($"{Op}: '{reader.Source}' has blocks.0.mlp.fc1.weight {fc1} and head.weight {head}; both must be matrices");
        var meta = reader.Metadata;
        int heads = meta.TryGetValue("heads", out var hs) ? MetaInt(reader, "heads", hs) : Math.Max(1, dim / 64);
        float eps = meta.TryGetValue("layer_norm_eps", out var es) ? MetaFloat(reader, "layer_norm_eps", es) : 1e-6f;
        float[] mean = PerChannel(meta, "mean", channels, [0.485f, 0.456f, 0.406f]);
        float[] std = PerChannel(meta, "std", channels, [0.229f, 0.224f, 0.225f]);
        var config = new VitConfig(grid * p, p, channels, dim, depth, heads, fc1[0], head[0], eps, mean, std);
        try
        {
            config.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new SafetensorsFormatException($"{Op}: '{reader.Source}' describes no valid ViT: {ex.Message}");
        }
        return config;
    }

    // Metadata values are untrusted text: a malformed one is a format error naming the key, never a FormatException.
    private static int MetaInt(SafetensorsReader reader, string key, string text) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v
            : throw new SafetensorsFormatException($"{Op}: '{reader.Source}' metadata {key} = '{Clip(text)}' is not an integer");

    private static float MetaFloat(SafetensorsReader? reader, string key, string text) =>
        float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) && float.IsFinite(v) ? v
            : throw new SafetensorsFormatException($"{Op}: {(reader is null ? "" : $"'{reader.Source}' ")}metadata {key} = '{Clip(text)}' is not a finite number");

    private static string Clip(string text) => text.Length <= 40 ? text : text[..40] + "...";

    // "0.5" (repeated over channels) or "0.485,0.456,0.406"; ImageNet's statistics when absent and C = 3, else 0.5.
    private static float[] PerChannel(IReadOnlyDictionary<string, string> meta, string key, int channels, float[] imageNet)
    {
        if (!meta.TryGetValue(key, out var text))
            return channels == 3 ? imageNet : Enumerable.Repeat(0.5f, channels).ToArray();
        var parts = text.Split(',').Select(s => MetaFloat(null, key, s)).ToArray();
        if (parts.Length == 1) return Enumerable.Repeat(parts[0], channels).ToArray();
        if (parts.Length != channels)
            throw new SafetensorsFormatException($"{Op}: metadata {key} has {parts.Length} values for {channels} channels");
        return parts;
    }

    /// <summary>
    /// Seeded random weights at <paramref name="config"/>'s size (uniform with timm's init scale 0.02 for matrices and
    /// embeddings, zero biases, unit LayerNorm gains): real shapes and real cost for benchmarks, meaningless outputs.
    /// </summary>
    public static VitWeights Random(VitConfig config, IBackend backend, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(backend);
        config.Validate();
        var rng = new Random(seed);
        var made = new List<Tensor>();
        // Uniform on [-a, a] with a = 0.02 sqrt(3) has timm's trunc_normal std 0.02.
        Tensor Rand(params int[] dims) => Make(dims, i => (rng.NextSingle() * 2 - 1) * 0.0346f);
        Tensor Fill(float value, params int[] dims) => Make(dims, _ => value);
        Tensor Make(int[] dims, Func<int, float> value)
        {
            var shape = new Shape(dims);
            var data = new float[shape.ElementCount];
            for (int i = 0; i < data.Length; i++) data[i] = value(i);
            var t = Tensor.From<float>(data, shape, backend);
            made.Add(t);
            return t;
        }

        try
        {
            int d = config.Dim, h = config.MlpHidden, p = config.PatchSize;
            var blocks = new VitBlockWeights[config.Depth];
            for (int i = 0; i < blocks.Length; i++)
                blocks[i] = new VitBlockWeights(Fill(1, d), Fill(0, d), Rand(3 * d, d), Fill(0, 3 * d), Rand(d, d), Fill(0, d),
                    Fill(1, d), Fill(0, d), Rand(h, d), Fill(0, h), Rand(d, h), Fill(0, d));
            return new VitWeights(config, Rand(d, config.Channels, p, p), Fill(0, d), Rand(1, 1, d), Rand(1, config.Tokens, d),
                blocks, Fill(1, d), Fill(0, d), Rand(config.Classes, d), Fill(0, config.Classes));
        }
        catch
        {
            foreach (var t in made) t.Dispose();
            throw;
        }
    }
}
