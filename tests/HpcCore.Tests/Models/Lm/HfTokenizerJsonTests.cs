// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.Lm;

using System.Text.Json.Nodes;
using HpcCore.Models.Lm.Loading;
using HpcCore.Models.Lm.Tokenization;
using Xunit;

/// <summary>tokenizer.json files this loader does not read are refused with the reason, never half-loaded.</summary>
public sealed class HfTokenizerJsonTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hpccore-tokjson-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static JsonObject Golden() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(HfGoldenTests.Folder("llama3-tiny"), "tokenizer.json")))!.AsObject();

    [Theory]
    [InlineData("byte_fallback", "SentencePiece-style BPE (byte_fallback); load the folder's tokenizer.model")]
    [InlineData("wordpiece", "model.type is \"WordPiece\"")]
    [InlineData("normalizer", "normalizer {\"type\":\"Lowercase\"} is not supported")]
    [InlineData("prefix_space", "add_prefix_space: true, which is not supported")]
    [InlineData("merge", "model.merges has [\"a\"], not a pair")]
    [InlineData("pre_tokenizer", "pre_tokenizer type Whitespace is not supported")]
    public void Unsupported_IsRefusedWithTheReason(string edit, string message)
    {
        var o = Golden();
        var model = o["model"]!.AsObject();
        switch (edit)
        {
            case "byte_fallback": model["byte_fallback"] = true; break;
            case "wordpiece": model["type"] = "WordPiece"; break;
            case "normalizer": o["normalizer"] = new JsonObject { ["type"] = "Lowercase" }; break;
            case "prefix_space": o["pre_tokenizer"]!["pretokenizers"]![1]!["add_prefix_space"] = true; break;
            case "merge": model["merges"]!.AsArray().Add(new JsonArray("a")); break;
            case "pre_tokenizer": o["pre_tokenizer"] = new JsonObject { ["type"] = "Whitespace" }; break;
        }
        string path = Path.Combine(_dir, "tokenizer.json");
        File.WriteAllText(path, o.ToJsonString());
        Assert.Contains(message, Assert.Throws<LmFormatException>(() => HfTokenizerJson.Load(path)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_IsAFormatError()
    {
        string text = Golden().ToJsonString(), path = Path.Combine(_dir, "tokenizer.json");
        var rng = new Random(5);
        for (int i = 0; i < 20; i++)
        {
            File.WriteAllText(path, text[..rng.Next(0, text.Length - 1)]);
            Assert.Throws<LmFormatException>(() => HfTokenizerJson.Load(path));
        }
    }

    [Fact]
    public void TokenizerJson_ByPath_NoLongerAsksForMerges()
    {
        string path = Path.Combine(_dir, "tokenizer.json");
        File.Copy(Path.Combine(HfGoldenTests.Folder("gpt2-tiny"), "tokenizer.json"), path);
        var tokenizer = TextTokenizers.Load(path, 400);
        Assert.Equal("Hello"u8.ToArray(), tokenizer.Encode("Hello", addBos: false).SelectMany(id =>
        {
            var buffer = new byte[tokenizer.MaxTokenBytes];
            return buffer[..tokenizer.DecodeBytes(0, id, buffer)];
        }).ToArray());
    }
}
