// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm.Loading;

using System.Globalization;
using System.Text.Json;
using HpcCore.Devices;
using HpcCore.Models.Weights;

/// <summary>
/// A Hugging Face model folder: <c>config.json</c> (head count, context, RoPE base, norm epsilon) beside one
/// <c>model.safetensors</c> with Llama or GPT-2 tensor names (<see cref="HfSafetensors"/>). A sharded checkpoint
/// (<c>model.safetensors.index.json</c>) is refused by name: its loader does not exist yet.
/// </summary>
public static class HfFolder
{
    /// <summary>Loads the model in <paramref name="folder"/> onto <paramref name="backend"/>.</summary>
    public static (LmConfig Config, LmWeights Weights) Load(string folder, IBackend backend)
    {
        ArgumentNullException.ThrowIfNull(folder);
        string configPath = Path.Combine(folder, "config.json"), weightsPath = Path.Combine(folder, "model.safetensors");
        if (!File.Exists(configPath)) throw new FileNotFoundException($"HfFolder.Load: '{folder}' has no config.json.", configPath);
        if (!File.Exists(weightsPath))
            throw File.Exists(Path.Combine(folder, "model.safetensors.index.json"))
                ? new LmFormatException($"HfFolder.Load: '{folder}' holds a sharded checkpoint (model.safetensors.index.json); only a single model.safetensors loads so far.")
                : new FileNotFoundException($"HfFolder.Load: '{folder}' has no model.safetensors.", weightsPath);
        // config.json is untrusted and small: refuse a huge one before reading it whole.
        if (new FileInfo(configPath).Length > 1 << 20)
            throw new LmFormatException($"HfFolder.Load: '{configPath}' is over 1 MiB; a model config is a few kB.");
        using var json = ParseJson(configPath);
        var root = json.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new LmFormatException($"HfFolder.Load: '{configPath}' is not a JSON object.");
        int heads = Int(root, configPath, "num_attention_heads", "n_head");
        int context = Int(root, configPath, "max_position_embeddings", "n_positions");
        // GPT-2 names its epsilon layer_norm_epsilon, Llama rms_norm_eps; only Llama uses the RoPE base. Both are read
        // before the weights, so that a bad value never leaves loaded weights behind.
        float? epsilon = Float(root, configPath, "rms_norm_eps", "layer_norm_epsilon"), theta = Float(root, configPath, "rope_theta");
        using var reader = SafetensorsReader.Open(weightsPath);
        var (config, weights) = HfSafetensors.Load(reader, backend, heads, context);
        return (config with { NormEpsilon = epsilon ?? config.NormEpsilon, RopeTheta = theta ?? config.RopeTheta }, weights);
    }

    private static JsonDocument ParseJson(string path)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new LmFormatException($"HfFolder.Load: '{path}' is not valid JSON: {e.Message}", e);
        }
        try
        {
            // System.Text.Json unescapes a name only when it is compared; a bad escape (a lone surrogate) would
            // surface as InvalidOperationException in the first key lookup, so every top-level name is read here.
            if (doc.RootElement.ValueKind == JsonValueKind.Object)
                foreach (var property in doc.RootElement.EnumerateObject()) _ = property.Name;
            return doc;
        }
        catch (InvalidOperationException e)
        {
            doc.Dispose();
            throw new LmFormatException($"HfFolder.Load: '{path}' has a key that is not valid UTF-16: {e.Message}", e);
        }
    }

    private static int Int(JsonElement root, string path, params string[] keys)
    {
        foreach (string key in keys)
            if (root.TryGetProperty(key, out var v))
                return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int n) && n > 0 ? n
                    : throw new LmFormatException($"HfFolder.Load: '{path}': {key} = {v.GetRawText()} is not a positive integer.");
        throw new LmFormatException($"HfFolder.Load: '{path}' has none of {string.Join(", ", keys)}.");
    }

    private static float? Float(JsonElement root, string path, params string[] keys)
    {
        foreach (string key in keys)
            if (root.TryGetProperty(key, out var v))
                return v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double d) && d > 0 && double.IsFinite(d) && d <= float.MaxValue ? (float)d
                    : throw new LmFormatException(string.Create(CultureInfo.InvariantCulture, $"HfFolder.Load: '{path}': {key} = {v.GetRawText()} is not a positive number."));
        return null;
    }
}
