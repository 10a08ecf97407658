// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm.Loading;

using System.Globalization;
using System.Text.Json;

/// <summary>
/// Reading the small JSON files of a Hugging Face folder (config.json, generation_config.json, the shard index):
/// size-capped before parsing, and every value checked with an error that names the file and the key.
/// </summary>
internal readonly struct HfJson
{
    private readonly JsonElement _root;

    private HfJson(string path, JsonElement root)
    {
        Path = path;
        _root = root;
    }

    public string Path { get; }

    public JsonElement Root => _root;

    /// <summary>Parses <paramref name="path"/> (at most <paramref name="maxBytes"/>) as a JSON object; the document lives as long as the caller keeps <paramref name="document"/>.</summary>
    public static HfJson Open(string path, long maxBytes, out JsonDocument document)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"HfFolder.Load: '{path}' does not exist.", path);
        long length = new FileInfo(path).Length;
        if (length > maxBytes)
            throw new LmFormatException($"HfFolder.Load: '{path}' is {length} bytes, over the {maxBytes} this file type may have.");
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException e)
        {
            throw new LmFormatException($"HfFolder.Load: '{path}' is not valid JSON ({e.Message}).", e);
        }
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            throw new LmFormatException($"HfFolder.Load: '{path}' is not a JSON object.");
        }
        try
        {
            UntrustedJson.ReadEveryString(document.RootElement);
        }
        catch (InvalidOperationException e)
        {
            document.Dispose();
            throw new LmFormatException($"HfFolder.Load: '{path}' has a name or string that is not valid Unicode: {e.Message}", e);
        }
        return new HfJson(path, document.RootElement);
    }

    public static HfJson Of(string path, JsonElement element) => new(path, element);

    /// <summary>True when <paramref name="key"/> is present and not null.</summary>
    public bool Has(string key) => _root.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null;

    public LmFormatException Missing(string key, string why = "") =>
        new($"HfFolder.Load: '{Path}' has no {key}{(why.Length > 0 ? "; " + why : "")}.");

    public LmFormatException Bad(string key, string what) =>
        new($"HfFolder.Load: '{Path}': {key} = {Raw(key)} {what}.");

    private string Raw(string key)
    {
        string raw = _root.TryGetProperty(key, out var v) ? v.GetRawText() : "(absent)";
        return raw.Length > 80 ? raw[..80] + "..." : raw;
    }

    /// <summary>A required positive integer.</summary>
    public int PositiveInt(string key) => OptionalPositiveInt(key) ?? throw Missing(key);

    public int? OptionalPositiveInt(string key)
    {
        if (!Has(key)) return null;
        var v = _root.GetProperty(key);
        return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int n) && n > 0 ? n : throw Bad(key, "is not a positive integer");
    }

    /// <summary>A required positive finite number.</summary>
    public double PositiveNumber(string key) => OptionalPositiveNumber(key) ?? throw Missing(key);

    public double? OptionalPositiveNumber(string key)
    {
        if (!Has(key)) return null;
        var v = _root.GetProperty(key);
        return v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double d) && d > 0 && double.IsFinite(d) && d <= float.MaxValue
            ? d : throw Bad(key, "is not a positive number");
    }

    /// <summary>An optional number in [min, max].</summary>
    public double? OptionalNumber(string key, double min, double max)
    {
        if (!Has(key)) return null;
        var v = _root.GetProperty(key);
        return v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double d) && d >= min && d <= max
            ? d : throw Bad(key, string.Create(CultureInfo.InvariantCulture, $"is not a number in [{min}, {max}]"));
    }

    public bool? OptionalBool(string key)
    {
        if (!Has(key)) return null;
        var v = _root.GetProperty(key);
        return v.ValueKind switch { JsonValueKind.True => true, JsonValueKind.False => false, _ => throw Bad(key, "is not true or false") };
    }

    public string? OptionalString(string key)
    {
        if (!Has(key)) return null;
        var v = _root.GetProperty(key);
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw Bad(key, "is not a string");
    }

    /// <summary>A token id or a list of them (generation_config's eos_token_id may be either); empty when absent.</summary>
    public int[] OptionalIds(string key)
    {
        if (!Has(key)) return [];
        var v = _root.GetProperty(key);
        static bool Id(JsonElement e, out int id) { id = -1; return e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out id) && id >= 0; }
        if (Id(v, out int one)) return [one];
        if (v.ValueKind == JsonValueKind.Array && v.GetArrayLength() <= 1024)
        {
            var ids = new List<int>();
            foreach (var e in v.EnumerateArray())
                ids.Add(Id(e, out int id) ? id : throw Bad(key, "is not a token id or a list of token ids"));
            return [.. ids];
        }
        throw Bad(key, "is not a token id or a list of token ids");
    }
}
