// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Parser and validator for the safetensors header: the 8-byte length prefix and the JSON that follows.
//
// Format (huggingface/safetensors, README "Format" and safetensors/src/tensor.rs):
//   u64 little-endian N | N bytes of UTF-8 JSON (may be padded with trailing spaces) | data section
//   JSON = { "__metadata__"?: {string: string}, name: {"dtype": s, "shape": [u..], "data_offsets": [begin, end]} }
// The file is untrusted input, so every number is checked against the file size before anything is sized from
// it; the JSON is read with a streaming Utf8JsonReader (depth-limited) and the per-tensor state is bounded
// (rank <= 8), so the memory used is proportional to the header bytes actually present, never to a number
// written in them.
//
// Layout policy: like the reference implementation's Metadata::validate plus its MetadataIncompleteBuffer
// check, the tensors' byte ranges, sorted by offset, must tile the data section exactly: the first starts at 0,
// each starts where the previous ended (no overlap, no gap) and the last ends at the end of the file. Files from
// every mainstream writer satisfy this; anything else is rejected rather than guessed at.
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace HpcCore.Models.Weights;

using HpcCore.Tensors;

/// <summary>A parsed, fully validated safetensors header.</summary>
internal sealed class SafetensorsHeader
{
    /// <summary>Largest accepted JSON header, as in the reference implementation (MAX_HEADER_SIZE).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>Bytes of the length prefix.</summary>
    public const int PrefixBytes = 8;

    /// <summary>The key reserved for the free-form string map.</summary>
    public const string MetadataKey = "__metadata__";

    // Root object -> tensor object -> shape array is depth 3; a little slack for unknown fields we skip.
    private const int MaxJsonDepth = 8;

    // Names and dtype strings echoed in messages are cut to this many characters: they come from the file.
    private const int MaxEchoChars = 80;

    private SafetensorsHeader(
        long headerBytes, long dataLength, List<SafetensorsEntry> entries, Dictionary<string, int> index,
        Dictionary<string, string> metadata)
    {
        HeaderBytes = headerBytes;
        DataLength = dataLength;
        Entries = entries;
        Index = index;
        Metadata = metadata;
    }

    /// <summary>N: length of the JSON header in bytes (padding included).</summary>
    public long HeaderBytes { get; }

    /// <summary>Offset of the data section from the start of the file.</summary>
    public long DataStart => PrefixBytes + HeaderBytes;

    /// <summary>Length of the data section.</summary>
    public long DataLength { get; }

    /// <summary>Entries sorted by data offset (file order).</summary>
    public List<SafetensorsEntry> Entries { get; }

    /// <summary>Entry index by name.</summary>
    public Dictionary<string, int> Index { get; }

    /// <summary>The <c>__metadata__</c> map (empty when absent).</summary>
    public Dictionary<string, string> Metadata { get; }

    /// <summary>
    /// Reads N from the prefix and checks it against the cap and the file length. Returns N, which is then
    /// at most <see cref="MaxHeaderBytes"/> and at most <paramref name="fileLength"/> - 8.
    /// </summary>
    public static int ReadHeaderLength(ReadOnlySpan<byte> prefix, long fileLength, string file)
    {
        if (fileLength < PrefixBytes || prefix.Length < PrefixBytes)
            throw Fail(file, $"file is {fileLength} bytes, too short for the 8-byte header length");
        ulong n = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (n > MaxHeaderBytes)
            throw Fail(file, $"header length {n} exceeds the {MaxHeaderBytes}-byte limit (corrupt length field?)");
        if ((long)n > fileLength - PrefixBytes)
            throw Fail(file, $"header length {n} runs past the end of the file ({fileLength} bytes, " +
                $"so at most {fileLength - PrefixBytes} header bytes)");
        if (n == 0)
            throw Fail(file, "header length is 0; expected a JSON object");
        return (int)n;
    }

    /// <summary>
    /// Parses and validates the JSON header. <paramref name="json"/> is the N header bytes and
    /// <paramref name="fileLength"/> the total file length (prefix and header included).
    /// </summary>
    public static SafetensorsHeader Parse(ReadOnlySpan<byte> json, long fileLength, string file)
    {
        long dataLength = fileLength - PrefixBytes - json.Length;
        if (dataLength < 0)
            throw Fail(file, $"header length {json.Length} runs past the end of the file ({fileLength} bytes)");
        if (json[0] != (byte)'{')
            throw Fail(file, $"header must start with '{{' (a JSON object) but starts with byte 0x{json[0]:X2}");
        if (!Utf8.IsValid(json))
            throw Fail(file, "header is not valid UTF-8");

        var entries = new List<SafetensorsEntry>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        bool sawMetadata = false;

        var reader = new Utf8JsonReader(json, new JsonReaderOptions
        {
            MaxDepth = MaxJsonDepth,
            CommentHandling = JsonCommentHandling.Disallow,
            AllowTrailingCommas = false,
        });
        try
        {
            Next(ref reader, file, "the header object");
            while (true)
            {
                Next(ref reader, file, "the header object");
                if (reader.TokenType == JsonTokenType.EndObject) break;
                string key = GetString(ref reader, file, "a key of the header object");
                if (key == MetadataKey)
                {
                    if (sawMetadata) throw Fail(file, "\"__metadata__\" appears twice");
                    sawMetadata = true;
                    ReadMetadata(ref reader, metadata, file);
                    continue;
                }
                if (index.ContainsKey(key)) throw Fail(file, $"tensor {Echo(key)} appears twice in the header");
                var entry = ReadTensor(ref reader, key, dataLength, file);
                index.Add(key, entries.Count);
                entries.Add(entry);
            }
            // Only whitespace (the reference pads with spaces) may follow; anything else makes Read throw.
            if (reader.Read()) throw Fail(file, "unexpected content after the header object");
        }
        catch (JsonException e)
        {
            throw Fail(file, $"header is not valid JSON: {e.Message}", e);
        }

        // File order: by offset, and a zero-length tensor before a non-empty one starting at the same byte.
        entries.Sort(static (a, b) => a.DataOffset != b.DataOffset
            ? a.DataOffset.CompareTo(b.DataOffset)
            : a.ByteLength.CompareTo(b.ByteLength));
        CheckLayout(entries, dataLength, file);
        index.Clear();
        for (int i = 0; i < entries.Count; i++) index.Add(entries[i].Name, i);
        return new SafetensorsHeader(json.Length, dataLength, entries, index, metadata);
    }

    /// <summary>The header's problem as an exception: "{file}: {problem}".</summary>
    public static SafetensorsFormatException Fail(string file, string problem, Exception? inner = null) =>
        new(file, problem, inner);

    /// <summary>Quotes text taken from the file for a message, cut short when long.</summary>
    public static string Echo(string text) =>
        text.Length <= MaxEchoChars ? $"'{text}'" : $"'{text[..MaxEchoChars]}...' ({text.Length} chars)";

    private static void ReadMetadata(ref Utf8JsonReader reader, Dictionary<string, string> metadata, string file)
    {
        Next(ref reader, file, "\"__metadata__\"");
        // The reference deserializes Option<HashMap<String, String>>, so an explicit null means "no metadata".
        if (reader.TokenType == JsonTokenType.Null) return;
        if (reader.TokenType != JsonTokenType.StartObject)
            throw Fail(file, $"\"__metadata__\" is {Describe(reader.TokenType)}; expected an object of strings");
        while (true)
        {
            Next(ref reader, file, "\"__metadata__\"");
            if (reader.TokenType == JsonTokenType.EndObject) return;
            string key = GetString(ref reader, file, "a \"__metadata__\" key");
            Next(ref reader, file, "\"__metadata__\"");
            if (reader.TokenType != JsonTokenType.String)
                throw Fail(file, $"\"__metadata__\" value for {Echo(key)} is {Describe(reader.TokenType)}; " +
                    "metadata values must be strings");
            string value = GetString(ref reader, file, "a \"__metadata__\" value");
            if (!metadata.TryAdd(key, value)) throw Fail(file, $"\"__metadata__\" key {Echo(key)} appears twice");
        }
    }

    private static SafetensorsEntry ReadTensor(ref Utf8JsonReader reader, string name, long dataLength, string file)
    {
        string what = $"tensor {Echo(name)}";
        Next(ref reader, file, what);
        if (reader.TokenType != JsonTokenType.StartObject)
            throw Fail(file, $"{what} is {Describe(reader.TokenType)}; expected an object with dtype, shape and " +
                "data_offsets");

        string? dtypeName = null;
        Span<int> dims = stackalloc int[Shape.MaxRank];
        int rank = -1;
        ulong begin = 0, end = 0;
        bool sawOffsets = false;
        while (true)
        {
            Next(ref reader, file, what);
            if (reader.TokenType == JsonTokenType.EndObject) break;
            string field = GetString(ref reader, file, $"a field name of {what}");
            switch (field)
            {
                case "dtype":
                    if (dtypeName is not null) throw Fail(file, $"{what} has two \"dtype\" fields");
                    Next(ref reader, file, what);
                    if (reader.TokenType != JsonTokenType.String)
                        throw Fail(file, $"{what} dtype is {Describe(reader.TokenType)}; expected a string");
                    dtypeName = GetString(ref reader, file, $"the dtype of {what}");
                    break;
                case "shape":
                    if (rank >= 0) throw Fail(file, $"{what} has two \"shape\" fields");
                    rank = ReadShape(ref reader, dims, what, file);
                    break;
                case "data_offsets":
                    if (sawOffsets) throw Fail(file, $"{what} has two \"data_offsets\" fields");
                    (begin, end) = ReadOffsets(ref reader, what, file);
                    sawOffsets = true;
                    break;
                default:
                    // The reference (serde without deny_unknown_fields) ignores unknown fields; so do we.
                    reader.Skip();
                    break;
            }
        }

        if (dtypeName is null) throw Fail(file, $"{what} has no \"dtype\"");
        if (rank < 0) throw Fail(file, $"{what} has no \"shape\"");
        if (!sawOffsets) throw Fail(file, $"{what} has no \"data_offsets\"");
        if (!SafetensorsDTypes.TryParse(dtypeName, out var dtype))
        {
            throw Fail(file, SafetensorsDTypes.IsKnownUnsupported(dtypeName)
                ? $"{what} has dtype {dtypeName}, which HpcCore does not support (supported: " +
                  $"{SafetensorsDTypes.SupportedList})"
                : $"{what} has unknown dtype {Echo(dtypeName)} (supported: {SafetensorsDTypes.SupportedList})");
        }

        Shape shape;
        try
        {
            shape = new Shape(dims[..rank]);
        }
        catch (ArgumentOutOfRangeException)
        {
            // More than Shape.MaxElements (2^56) elements: no tensor of this shape can exist, let alone be addressed.
            throw Fail(file, $"{what} shape [{string.Join(", ", dims[..rank].ToArray())}] has more elements than can be addressed " +
                "(the product overflows)");
        }
        string layout = $"{SafetensorsDTypes.ToName(dtype)} {shape}";
        // Element count times element size, with overflow checked. A zero dimension makes the product 0 however
        // large the others are (each is at most int.MaxValue, so there is nothing else to guard).
        ulong bytes = (ulong)dtype.SizeInBytes();
        if (dims[..rank].Contains(0))
        {
            bytes = 0;
        }
        else
        {
            for (int i = 0; i < rank; i++)
            {
                ulong d = (ulong)dims[i];
                if (bytes > ulong.MaxValue / d)
                {
                    throw Fail(file, $"{what} shape {shape} has more elements than can be addressed " +
                        "(the product overflows)");
                }
                bytes *= d;
            }
        }

        if (end < begin)
            throw Fail(file, $"{what} data_offsets [{begin}, {end}] end before they begin");
        if (end > (ulong)dataLength)
            throw Fail(file, $"{what} data_offsets [{begin}, {end}] run past the data section ({dataLength} bytes)");
        if (end - begin != bytes)
            throw Fail(file, $"{what} data_offsets [{begin}, {end}] do not match {layout} ({bytes} bytes)");
        return new SafetensorsEntry(name, dtype, shape, (long)begin, (long)(end - begin));
    }

    private static int ReadShape(ref Utf8JsonReader reader, scoped Span<int> dims, string what, string file)
    {
        Next(ref reader, file, what);
        if (reader.TokenType != JsonTokenType.StartArray)
            throw Fail(file, $"{what} shape is {Describe(reader.TokenType)}; expected an array of integers");
        int rank = 0;
        while (true)
        {
            Next(ref reader, file, what);
            if (reader.TokenType == JsonTokenType.EndArray) return rank;
            // Checked before storing, so a long array never grows anything.
            if (rank == Shape.MaxRank)
                throw Fail(file, $"{what} shape has more than {Shape.MaxRank} dimensions, HpcCore's maximum rank");
            ulong d = ReadUnsigned(ref reader, $"{what} shape dimension {rank}", file);
            if (d > int.MaxValue)
            {
                throw Fail(file, $"{what} shape dimension {rank} is {d}; HpcCore dimensions are at most " +
                    $"{int.MaxValue}");
            }
            dims[rank++] = (int)d;
        }
    }

    private static (ulong Begin, ulong End) ReadOffsets(ref Utf8JsonReader reader, string what, string file)
    {
        Next(ref reader, file, what);
        if (reader.TokenType != JsonTokenType.StartArray)
            throw Fail(file, $"{what} data_offsets is {Describe(reader.TokenType)}; expected [begin, end]");
        Span<ulong> values = stackalloc ulong[2];
        int count = 0;
        while (true)
        {
            Next(ref reader, file, what);
            if (reader.TokenType == JsonTokenType.EndArray) break;
            if (count == 2) throw Fail(file, $"{what} data_offsets has more than 2 numbers; expected [begin, end]");
            values[count] = ReadUnsigned(ref reader, $"{what} data_offsets[{count}]", file);
            count++;
        }
        if (count != 2) throw Fail(file, $"{what} data_offsets has {count} number(s); expected [begin, end]");
        return (values[0], values[1]);
    }

    private static ulong ReadUnsigned(ref Utf8JsonReader reader, string what, string file)
    {
        if (reader.TokenType != JsonTokenType.Number)
            throw Fail(file, $"{what} is {Describe(reader.TokenType)}; expected a non-negative integer");
        if (reader.TryGetUInt64(out ulong value)) return value;
        if (reader.TryGetInt64(out long negative))
            throw Fail(file, $"{what} is {negative}; it must be non-negative");
        // A span input never yields a ValueSequence, so ValueSpan holds the whole number.
        string text = Encoding.UTF8.GetString(reader.ValueSpan);
        throw Fail(file, $"{what} is {Echo(text)}; expected a non-negative integer below 2^64");
    }

    /// <summary>The sorted ranges tile the data section: they start at 0, abut, and end at its end.</summary>
    private static void CheckLayout(List<SafetensorsEntry> sorted, long dataLength, string file)
    {
        long covered = 0;
        SafetensorsEntry? previous = null;
        foreach (var e in sorted)
        {
            long end = e.DataOffset + e.ByteLength;
            if (e.DataOffset < covered)
                throw Fail(file, $"tensor {Echo(e.Name)} data_offsets [{e.DataOffset}, {end}] overlap tensor " +
                    $"{Echo(previous!.Name)} [{previous.DataOffset}, {previous.DataOffset + previous.ByteLength}]");
            if (e.DataOffset > covered)
                throw Fail(file, $"bytes [{covered}, {e.DataOffset}) of the data section belong to no tensor " +
                    $"(gap before tensor {Echo(e.Name)}); tensors must cover the data section contiguously");
            covered = end;
            previous = e;
        }
        if (covered != dataLength)
            throw Fail(file, $"the data section is {dataLength} bytes but the tensors cover only {covered} " +
                "(trailing bytes after the last tensor, or a truncated header length)");
    }

    /// <summary>Advances, turning an unexpected end of input into a format error.</summary>
    private static void Next(ref Utf8JsonReader reader, string file, string where)
    {
        if (!reader.Read()) throw Fail(file, $"header JSON ends inside {where}");
    }

    /// <summary>
    /// The current string or property name. GetString throws InvalidOperationException for escapes that decode
    /// to lone surrogates (e.g. "\ud800"), which is a format error here.
    /// </summary>
    private static string GetString(ref Utf8JsonReader reader, string file, string what)
    {
        try
        {
            return reader.GetString() ?? throw Fail(file, $"{what} is null; expected a string");
        }
        catch (InvalidOperationException e)
        {
            throw Fail(file, $"{what} is not a valid string: {e.Message}", e);
        }
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };
}
