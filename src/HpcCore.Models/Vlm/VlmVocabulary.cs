// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vlm;

/// <summary>
/// The 32-token vocabulary of the grid-scene VLM (tools/train/vlm/scenes.py, the same order): questions
/// <c>what row-R col-C ?</c>, <c>how-many CLASS ?</c>, <c>is-there CLASS ?</c>; every answer is one token.
/// </summary>
public static class VlmVocabulary
{
    /// <summary>Fashion-MNIST class names in label order.</summary>
    public static IReadOnlyList<string> Classes { get; } =
        ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"];

    /// <summary>Every token, by id.</summary>
    public static IReadOnlyList<string> Tokens { get; } = Build();

    /// <summary>Token ids.</summary>
    public const int Bos = 1, What = 2, HowMany = 3, IsThere = 4, Row1 = 5, Col1 = 7, Class0 = 9, Question = 19;

    /// <summary>The id of <paramref name="token"/>, or -1.</summary>
    public static int Id(string token)
    {
        for (int i = 0; i < Tokens.Count; i++)
            if (Tokens[i] == token) return i;
        return -1;
    }

    /// <summary>
    /// The token ids of a question in words, e.g. "what is at row 2 column 1", "how many shirts", "is there a bag"
    /// (ending in '?'). Plural and article forms are accepted.
    /// </summary>
    /// <exception cref="FormatException">The question is none of the three forms.</exception>
    public static int[] ParseQuestion(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var words = text.ToLowerInvariant().Replace("?", " ", StringComparison.Ordinal).Replace(",", " ", StringComparison.Ordinal)
            .Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string joined = string.Join(' ', words);
        if (words.Length > 0 && words[0] == "what")
        {
            int row = Number(words, "row"), col = Math.Max(Number(words, "column"), Number(words, "col"));
            if (row is < 1 or > 2 || col is < 1 or > 2)
                throw new FormatException($"VlmVocabulary.ParseQuestion: '{text}' asks 'what' but names no row 1-2 and column 1-2");
            return [What, Row1 + row - 1, Col1 + col - 1, Question];
        }
        int kind = joined.StartsWith("how many", StringComparison.Ordinal) ? HowMany
            : joined.StartsWith("is there", StringComparison.Ordinal) || joined.StartsWith("are there", StringComparison.Ordinal) ? IsThere : -1;
        if (kind < 0)
            throw new FormatException($"VlmVocabulary.ParseQuestion: '{text}' is not 'what is at row R column C', 'how many CLASS' or 'is there a CLASS'");
        int cls = ClassIn(words);
        if (cls < 0)
            throw new FormatException($"VlmVocabulary.ParseQuestion: '{text}' names no class ({string.Join(", ", Classes)})");
        return [kind, Class0 + cls, Question];
    }

    private static int Number(string[] words, string key)
    {
        int i = Array.IndexOf(words, key);
        return i >= 0 && i + 1 < words.Length && int.TryParse(words[i + 1], out int n) ? n : -1;
    }

    private static int ClassIn(string[] words)
    {
        foreach (string w in words)
        {
            string s = w.TrimEnd('s');
            if (w is "trousers") s = "trouser";
            if (w is "boots" or "ankle") s = "boot";
            if (w is "t-shirts" or "tshirt" or "tshirts" or "top" or "tops") s = "t-shirt";
            for (int c = 0; c < Classes.Count; c++)
                if (Classes[c] == s || Classes[c] == w) return c;
        }
        return -1;
    }

    private static List<string> Build()
    {
        List<string> t = ["<pad>", "<s>", "what", "how-many", "is-there", "row-1", "row-2", "col-1", "col-2", .. Classes,
            "?", "empty", "yes", "no", "0", "1", "2", "3", "4"];
        for (int i = t.Count; i < 32; i++) t.Add($"<unused{i - 28}>");
        return t;
    }
}
