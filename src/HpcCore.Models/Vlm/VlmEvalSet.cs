// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vlm;

using System.Text.Json;
using HpcCore.Models.Images;

/// <summary>One held-out question: the scene's cells (indices into the image set, -1 empty), question ids, answer id.</summary>
public sealed record VlmQuestion(int[] Cells, int[] Question, int Answer);

/// <summary>
/// The held-out questions tools/train/vlm/export.py writes (eval-set.json): a base-mode and a high-resolution list,
/// <see cref="PerScene"/> consecutive questions sharing one scene.
/// </summary>
public sealed class VlmEvalSet
{
    private VlmEvalSet(int perScene, IReadOnlyList<VlmQuestion> baseSet, IReadOnlyList<VlmQuestion> highRes)
    {
        PerScene = perScene;
        Base = baseSet;
        HighRes = highRes;
    }

    /// <summary>Consecutive questions per scene.</summary>
    public int PerScene { get; }

    /// <summary>Base-mode questions.</summary>
    public IReadOnlyList<VlmQuestion> Base { get; }

    /// <summary>High-resolution questions.</summary>
    public IReadOnlyList<VlmQuestion> HighRes { get; }

    /// <summary>Reads <paramref name="path"/>, checking every id against the vocabulary and every cell against <paramref name="images"/>.</summary>
    /// <exception cref="InvalidDataException">Malformed file or an id/cell out of range.</exception>
    public static VlmEvalSet Load(string path, ImageSet images)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(images);
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"VlmEvalSet.Load: no file '{path}'", path);
        if (info.Length > 64 << 20) throw new InvalidDataException($"VlmEvalSet.Load: '{path}' has {info.Length} bytes, above 64 MiB");
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = doc.RootElement;
            int per = root.GetProperty("per_scene").GetInt32();
            if (per < 1) throw new InvalidDataException($"VlmEvalSet.Load: '{path}' has per_scene {per}");
            return new VlmEvalSet(per, Read(root.GetProperty("base"), images, path), Read(root.GetProperty("high_res"), images, path));
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"VlmEvalSet.Load: '{path}' is not an eval set: {ex.Message}", ex);
        }
    }

    private static List<VlmQuestion> Read(JsonElement list, ImageSet images, string path)
    {
        var o = new List<VlmQuestion>();
        int vocab = VlmVocabulary.Tokens.Count;
        foreach (var e in list.EnumerateArray())
        {
            int[] cells = [.. e.GetProperty("cells").EnumerateArray().Select(v => v.GetInt32())];
            int[] q = [.. e.GetProperty("question").EnumerateArray().Select(v => v.GetInt32())];
            int a = e.GetProperty("answer").GetInt32();
            if (cells.Length != VlmScene.Grid * VlmScene.Grid || cells.Any(c => c < -1 || c >= images.Count))
                throw new InvalidDataException($"VlmEvalSet.Load: '{path}' question {o.Count} has cells [{string.Join(",", cells)}] outside -1..{images.Count - 1} or not {VlmScene.Grid * VlmScene.Grid} of them");
            if (q.Length == 0 || q.Any(t => t < 0 || t >= vocab) || q[^1] != VlmVocabulary.Question || a < 0 || a >= vocab)
                throw new InvalidDataException($"VlmEvalSet.Load: '{path}' question {o.Count} has ids outside the {vocab}-token vocabulary or no final '?'");
            o.Add(new VlmQuestion(cells, q, a));
        }
        return o;
    }

    /// <summary>The scene [56, 56] in [0, 1] of <paramref name="cells"/> over <paramref name="images"/>.</summary>
    public static float[] Scene(int[] cells, ImageSet images)
    {
        ArgumentNullException.ThrowIfNull(cells);
        ArgumentNullException.ThrowIfNull(images);
        if (images.Height != VlmScene.Cell || images.Width != VlmScene.Cell)
            throw new ArgumentException($"VlmEvalSet.Scene: images are {images.Height}x{images.Width}; cells are {VlmScene.Cell}x{VlmScene.Cell}", nameof(images));
        return VlmScene.Render([.. cells.Select(c => c < 0 ? null : images.Image(c).ToArray())]);
    }
}
