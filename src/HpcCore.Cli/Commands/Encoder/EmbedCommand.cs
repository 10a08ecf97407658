// Copyright (c) HpcCore contributors. Licensed under the MIT license.
using System.CommandLine;
using System.Text.Json;
using HpcCore.Models;
using HpcCore.Models.Encoder;

namespace HpcCore.Cli.Commands.Encoder;

/// <summary>`hpccore embed --model DIR --input texts.json [--json]`: sentence embeddings in input order.</summary>
internal static class EmbedCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Hugging Face encoder folder (see `hpccore encoder prepare`).", Required = true };
        var input = new Option<string>("--input") { Description = "JSON file holding an array of strings.", Required = true };
        var json = new Option<bool>("--json") { Description = "Print {\"model\", \"dim\", \"embeddings\"} as JSON." };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Truncate each text to this many tokens, [CLS] and [SEP] included.", DefaultValueFactory = _ => 256 };
        var batch = new Option<int>("--batch") { Description = "Texts per forward pass.", DefaultValueFactory = _ => 32 };
        var threads = new Option<int>("--threads") { Description = "CPU threads (0: all cores).", DefaultValueFactory = _ => 0 };
        var command = new Command("embed", "Embed texts with a sentence encoder (the model's pooling, then L2 normalisation).")
            { model, input, json, maxTokens, batch, threads };
        command.SetAction(r =>
        {
            var texts = ReadTexts(r.GetValue(input)!);
            using var backend = ModelDevice.OpenBest(Math.Max(0, r.GetValue(threads)));
            using var encoder = EncoderModel.Load(r.GetValue(model)!, backend);
            int max = Math.Min(r.GetValue(maxTokens), encoder.Weights.Config.MaxPositions);
            using var embedder = new SentenceEmbedder(encoder, max, Math.Max(1, r.GetValue(batch)));
            var vectors = embedder.Embed(texts);
            if (r.GetValue(json)) WriteJson(Console.Out, encoder.Name, embedder.Dim, vectors);
            else
                for (int i = 0; i < vectors.Length; i++)
                    Console.WriteLine($"{i}: [{string.Join(", ", vectors[i].Take(4).Select(v => v.ToString("F4", System.Globalization.CultureInfo.InvariantCulture)))}, ...] {texts[i][..Math.Min(60, texts[i].Length)]}");
            return 0;
        });
        return command;
    }

    /// <summary>A JSON array of strings (untrusted: anything else is refused with what was found).</summary>
    internal static string[] ReadTexts(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { MaxDepth = 4 });
        if (doc.RootElement.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"embed: {path} holds a JSON {doc.RootElement.ValueKind}; an array of strings is needed.");
        var texts = new List<string>();
        foreach (var e in doc.RootElement.EnumerateArray())
            texts.Add(e.ValueKind == JsonValueKind.String ? e.GetString()!
                : throw new InvalidDataException($"embed: element {texts.Count} of {path} is a JSON {e.ValueKind}; strings are needed."));
        return [.. texts];
    }

    // Through Console.Out (not the raw stdout stream), so that a redirected Console sees it too.
    private static void WriteJson(TextWriter output, string name, int dim, float[][] vectors)
    {
        using var buffer = new MemoryStream();
        using var w = new Utf8JsonWriter(buffer);
        w.WriteStartObject();
        w.WriteString("model", name);
        w.WriteNumber("dim", dim);
        w.WriteStartArray("embeddings");
        foreach (var v in vectors)
        {
            w.WriteStartArray();
            foreach (float x in v) w.WriteNumberValue(x);
            w.WriteEndArray();
        }
        w.WriteEndArray();
        w.WriteEndObject();
        w.Flush();
        output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        output.Flush();
    }
}
