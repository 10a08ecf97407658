// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// System.Text.Json unescapes and transcodes a name or string only when it is read or compared: a lone surrogate
// escape ("\ud922") or invalid UTF-8 surfaces as InvalidOperationException wherever that happens first (a key lookup,
// GetString on a value, a nested object's key). The loaders of untrusted JSON (Hugging Face config.json and
// tokenizer.json) read every name and string once right after parsing, and turn that exception into their format
// error; ./build.sh fuzz found it in HfJson first, then in the encoder's config.json (a bad escape in a key that a
// TryGetProperty walked past).
using System.Text.Json;

namespace HpcCore.Models;

/// <summary>Checks on parsed JSON from files we do not trust.</summary>
internal static class UntrustedJson
{
    /// <summary>
    /// Decodes every property name and string of <paramref name="element"/>; throws InvalidOperationException at the
    /// first that is not valid Unicode. The depth is bounded by the parser's MaxDepth.
    /// </summary>
    public static void ReadEveryString(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    _ = property.Name;
                    ReadEveryString(property.Value);
                }
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray()) ReadEveryString(item);
                break;
            case JsonValueKind.String:
                _ = element.GetString();
                break;
        }
    }
}
