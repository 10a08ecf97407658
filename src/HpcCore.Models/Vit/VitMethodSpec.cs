// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vit;

using System.Globalization;

/// <summary>
/// A method written as on the command line: <c>name[:key=value[;key=value...]]</c>, e.g. <c>baseline</c>,
/// <c>tome:r=8</c>, <c>evit:keep=0.7;layers=3,6,9</c>.
/// </summary>
/// <param name="Text">The spec as written.</param>
/// <param name="Name">The lower-cased method name.</param>
/// <param name="Arguments">Key-value arguments (keys lower-cased).</param>
public sealed record VitMethodSpec(string Text, string Name, IReadOnlyDictionary<string, string> Arguments)
{
    /// <summary>Parses one spec.</summary>
    /// <exception cref="FormatException">An argument is not key=value.</exception>
    public static VitMethodSpec Parse(string text)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        text = text.Trim();
        int colon = text.IndexOf(':', StringComparison.Ordinal);
        string name = (colon < 0 ? text : text[..colon]).ToLowerInvariant();
        var args = new Dictionary<string, string>(StringComparer.Ordinal);
        if (colon >= 0)
            foreach (var part in text[(colon + 1)..].Split(';', StringSplitOptions.RemoveEmptyEntries))
            {
                int eq = part.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0) throw new FormatException($"VitMethodSpec.Parse: '{part}' in '{text}' is not key=value");
                args[part[..eq].Trim().ToLowerInvariant()] = part[(eq + 1)..].Trim();
            }
        return new VitMethodSpec(text, name, args);
    }

    /// <summary>
    /// Splits a --methods list. Methods are separated by commas; a comma followed by a digit continues the previous
    /// value (so <c>evit:keep=0.7;layers=3,6,9,tome:r=8</c> is two methods).
    /// </summary>
    public static IReadOnlyList<VitMethodSpec> ParseList(string list)
    {
        ArgumentNullException.ThrowIfNull(list);
        var specs = new List<string>();
        foreach (var piece in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (specs.Count > 0 && piece.Length > 0 && char.IsAsciiDigit(piece[0])) specs[^1] += "," + piece;
            else specs.Add(piece);
        }
        return specs.Select(Parse).ToList();
    }

    /// <summary>An integer argument, or <paramref name="fallback"/> when absent.</summary>
    public int Int(string key, int fallback) =>
        Arguments.TryGetValue(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    /// <summary>A floating-point argument, or <paramref name="fallback"/> when absent.</summary>
    public double Double(string key, double fallback) =>
        Arguments.TryGetValue(key, out var v) ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;

    /// <summary>A comma-separated list of integers, or <paramref name="fallback"/> when absent.</summary>
    public int[] Ints(string key, int[] fallback) =>
        Arguments.TryGetValue(key, out var v)
            ? v.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray()
            : fallback;

    /// <summary>A comma-separated list of layer indices, or <paramref name="fallback"/> when absent.</summary>
    public int[] Layers(string key, int[] fallback) => Ints(key, fallback);
}
