// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Encoder.Reduction;

using System.Globalization;

/// <summary>
/// Parses encoder token-reduction specs: <c>none</c>, <c>tome:r=N</c> (ToMe, N tokens per text per block) or
/// <c>tome:ratio=F</c> (floor(F n) of an n-token text per block),
/// <c>evit:keep=F[;layers=a,b,...]</c> (EViT, default blocks depth/4, depth/2, 3 depth/4 as DeiT's 4th/7th/10th of 12).
/// </summary>
public static class EncoderReducers
{
    /// <summary>The reducer of <paramref name="spec"/> for a <paramref name="depth"/>-block model (null for <c>none</c>).</summary>
    public static EncoderTokenReducer? Parse(string spec, int depth)
    {
        ArgumentNullException.ThrowIfNull(spec);
        int colon = spec.IndexOf(':', StringComparison.Ordinal);
        string name = colon < 0 ? spec : spec[..colon];
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        if (colon >= 0)
            foreach (var part in spec[(colon + 1)..].Split(';', StringSplitOptions.RemoveEmptyEntries))
            {
                var kv = part.Split('=', 2);
                if (kv.Length != 2) throw new FormatException($"EncoderReducers: '{part}' in '{spec}' is not key=value.");
                settings[kv[0].Trim()] = kv[1].Trim();
            }
        string Take(string key, string fallback) => settings.Remove(key, out var v) ? v : fallback;
        EncoderTokenReducer? reducer = name switch
        {
            "none" => null,
            "tome" => settings.ContainsKey("ratio") ? new TextToMe(double.Parse(Take("ratio", ""), CultureInfo.InvariantCulture))
                : new TextToMe(int.Parse(Take("r", "8"), CultureInfo.InvariantCulture)),
            "evit" => new TextEvit(double.Parse(Take("keep", "0.7"), CultureInfo.InvariantCulture),
                settings.ContainsKey("layers") ? [.. Take("layers", "").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))]
                    : [.. new[] { depth / 4, depth / 2, 3 * depth / 4 }.Distinct()]),
            _ => throw new FormatException($"EncoderReducers: unknown method '{name}' in '{spec}' (none, tome, evit)."),
        };
        if (settings.Count > 0) throw new FormatException($"EncoderReducers: '{spec}' has unknown settings: {string.Join(", ", settings.Keys)}.");
        if (reducer is TextEvit e && e.Layers.Any(l => l < 0 || l >= depth))
            throw new FormatException($"EncoderReducers: '{spec}' names blocks outside 0..{depth - 1}.");
        return reducer;
    }
}
