// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vlm;

using System.Globalization;
using System.Text.Json;
using HpcCore.Devices;
using HpcCore.Models.Lm;
using HpcCore.Models.Weights;
using HpcCore.Tensors;

/// <summary>
/// The trained parts of the grid-scene VLM (tools/train/vlm): the LLaVA-1.5 projector (Linear, GELU, Linear) and the
/// Llama-style decoder. The vision tower is a separate ViT file (assets/vlm/vision.safetensors).
/// </summary>
public sealed class VlmWeights : IDisposable
{
    /// <summary>Projector first layer [C, Dv], bias [C].</summary>
    public required Tensor Fc1Weight { get; init; }
    /// <summary>Projector first bias [C].</summary>
    public required Tensor Fc1Bias { get; init; }
    /// <summary>Projector second layer [C, C].</summary>
    public required Tensor Fc2Weight { get; init; }
    /// <summary>Projector second bias [C].</summary>
    public required Tensor Fc2Bias { get; init; }
    /// <summary>Decoder shape.</summary>
    public required LmConfig LmConfig { get; init; }
    /// <summary>Decoder weights (classifier tied to the embedding).</summary>
    public required LmWeights Lm { get; init; }

    /// <summary>Vision patches per side pooled into one visual token when a scene is one view (base mode).</summary>
    public int BasePool { get; init; } = LegacyPool;
    /// <summary>Vision patches per side pooled into one visual token for each view of a high-resolution scene.</summary>
    public int HighResPool { get; init; } = LegacyPool;

    /// <summary>Vision feature width Dv.</summary>
    public int VisionDim => Fc1Weight.Shape[1];

    // Exports without the vision_pool key (runs 1-8 of tools/train/vlm) pooled 2 x 2 in both modes.
    private const int LegacyPool = 2;

    /// <summary>Patches per side pooled into one visual token in base (<paramref name="highRes"/> false) or high-resolution mode.</summary>
    public int PoolFor(bool highRes) => highRes ? HighResPool : BasePool;

    /// <summary>
    /// Loads the file tools/train/vlm/export.py writes: <c>projector.fc{1,2}.{weight,bias}</c>, <c>lm.embed</c>,
    /// <c>lm.norm</c>, <c>lm.layers.L.{an,fn,wq,wk,wv,wo,w1,w2,w3}</c>, the decoder shape in the metadata key
    /// <c>lm_config</c> and the vision pooling per mode in <c>vision_pool</c> (<c>{"base": 1, "high_res": 2}</c>;
    /// absent: 2 in both modes, as the exports before it). A pool is a positive integer; <see cref="VlmVisionEncoder"/>
    /// checks that it divides the ViT's patch grid.
    /// </summary>
    /// <exception cref="InvalidDataException">A tensor is missing or has the wrong shape, or the metadata is bad.</exception>
    /// <exception cref="SafetensorsFormatException">The file is not valid safetensors.</exception>
    public static VlmWeights Load(string path, IBackend backend)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(backend);
        using var r = SafetensorsReader.Open(path);
        if (!r.Metadata.TryGetValue("lm_config", out var json))
            throw new InvalidDataException($"VlmWeights.Load: '{path}' has no 'lm_config' metadata (not a tools/train/vlm export)");
        var config = ParseMetadata(path, "lm_config", json, e =>
        {
            int Get(string k) => e.GetProperty(k).GetInt32();
            var c = new LmConfig(LmArchitecture.Llama, Get("dim"), Get("hidden"), Get("layers"), Get("heads"), Get("kv_heads"),
                Get("vocab"), Get("ctx"));
            c.Validate();
            return c;
        });
        var (basePool, highResPool) = ReadPools(path, r.Metadata);
        if (config.VocabSize != VlmVocabulary.Tokens.Count)
            throw new InvalidDataException($"VlmWeights.Load: '{path}' has vocab {config.VocabSize}; the grid-scene vocabulary has {VlmVocabulary.Tokens.Count}");

        var owned = new List<IDisposable>();
        Tensor Load(string name, params int[] shape)
        {
            if (!r.Contains(name)) throw new InvalidDataException($"VlmWeights.Load: '{path}' has no tensor '{name}'");
            var t = r.Load(name, backend);
            owned.Add(t);
            if (t.Shape != new Shape(shape))
                throw new InvalidDataException($"VlmWeights.Load: '{name}' in '{path}' has shape {t.Shape}; expected [{string.Join(", ", shape)}]");
            return t;
        }
        try
        {
            int c = config.Dim, kv = config.KvDim, hid = config.HiddenDim;
            var fc1 = r.Contains("projector.fc1.weight") ? r.GetEntry("projector.fc1.weight").Shape : default;
            if (fc1.Rank != 2) throw new InvalidDataException($"VlmWeights.Load: '{path}' has no 2-D projector.fc1.weight");
            int dv = fc1[1];
            var layers = new LmLayerWeights[config.Layers];
            for (int l = 0; l < config.Layers; l++)
            {
                string p = string.Create(CultureInfo.InvariantCulture, $"lm.layers.{l}.");
                layers[l] = new LmLayerWeights
                {
                    AttnNorm = Load(p + "an", c), Wq = Load(p + "wq", c, c), Wk = Load(p + "wk", kv, c), Wv = Load(p + "wv", kv, c),
                    Wo = Load(p + "wo", c, c), FfnNorm = Load(p + "fn", c), Gate = Load(p + "w1", hid, c), Down = Load(p + "w2", c, hid),
                    Up = Load(p + "w3", hid, c),
                };
            }
            var emb = Load("lm.embed", config.VocabSize, c);
            var lm = new LmWeights { TokenEmbedding = emb, Layers = layers, FinalNorm = Load("lm.norm", c), Classifier = emb };
            return new VlmWeights
            {
                Fc1Weight = Load("projector.fc1.weight", c, dv), Fc1Bias = Load("projector.fc1.bias", c),
                Fc2Weight = Load("projector.fc2.weight", c, c), Fc2Bias = Load("projector.fc2.bias", c),
                LmConfig = config, Lm = lm, BasePool = basePool, HighResPool = highResPool,
            };
        }
        catch
        {
            foreach (var t in owned) t.Dispose();
            throw;
        }
    }

    private static (int Base, int HighRes) ReadPools(string path, IReadOnlyDictionary<string, string> metadata)
    {
        if (!metadata.TryGetValue("vision_pool", out var json)) return (LegacyPool, LegacyPool);
        return ParseMetadata(path, "vision_pool", json, e =>
        {
            int Get(string k)
            {
                int p = e.GetProperty(k).GetInt32();
                return p >= 1 ? p : throw new InvalidOperationException($"pool '{k}' is {p}; it must be at least 1");
            }
            return (Get("base"), Get("high_res"));
        });
    }

    // A JSON metadata value read by `read`; whatever a malformed value makes System.Text.Json or `read` throw becomes the
    // loader's format error naming the key. FormatException: a number that is not an int (1e999, 2.5), found by
    // ./build.sh fuzz (target safetensors-vlm); ArgumentException: LmConfig.Validate.
    private static T ParseMetadata<T>(string path, string key, string json, Func<JsonElement, T> read)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            return read(doc.RootElement);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or ArgumentException or FormatException)
        {
            throw new InvalidDataException($"VlmWeights.Load: '{path}' has a bad {key} '{json}': {ex.Message}", ex);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Fc1Weight.Dispose();
        Fc1Bias.Dispose();
        Fc2Weight.Dispose();
        Fc2Bias.Dispose();
        Lm.Dispose();
    }
}
