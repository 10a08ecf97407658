// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Mutation fuzzing of the reader: seeded corruptions of valid files must either load consistently or fail with
// SafetensorsFormatException. Any other exception (IndexOutOfRange, Overflow, OutOfMemory, ArgumentException from
// Shape or Tensor, InvalidOperation from the JSON reader, ...) is a bug and fails the test with the variant's seed,
// the mutations applied and the bytes, so that it can be replayed with Variant(seed).
using System.Globalization;
using System.Text;

namespace HpcCore.Tests.Models.Weights;

using HpcCore.Cpu;
using HpcCore.Models.Weights;
using HpcCore.Tensors;
using HpcCore.Testing;
using Xunit;
using Xunit.Abstractions;

public sealed class SafetensorsFuzzTests : IDisposable
{
    private const int MasterSeed = 0x5AFE7E45;
    private const int VariantsPerBase = 5000;
    private const int FileVariants = 500;

    private static readonly byte[] InterestingBytes =
        [0x00, 0xFF, (byte)'9', (byte)'-', (byte)'"', (byte)'{', (byte)'}', (byte)'[', (byte)']', (byte)',',
         (byte)':', (byte)' ', 0x80, (byte)'0', (byte)'.', (byte)'e', (byte)'\\', (byte)'1', 0x7F, 0xC3];

    private static readonly string[] InterestingNumbers =
        ["0", "-1", "1", "2", "8", "24", "4294967296", "18446744073709551615", "18446744073709551616", "2147483647",
         "2147483648", "1e3", "1.0", "99999999999999999999999", "-0", "100000000", "9223372036854775807", "00"];

    private static readonly string[] InterestingDTypes = ["F64", "BOOL", "U8", "I64", "F16", "BF16", "I32", "X", "", "F32 "];

    private readonly CpuBackend _backend = new(threads: 1);
    private readonly ITestOutputHelper _output;
    private readonly List<byte[]> _bases;

    public SafetensorsFuzzTests(ITestOutputHelper output)
    {
        _output = output;
        _bases = BuildBases(_backend);
    }

    public void Dispose() => _backend.Dispose();

    [Fact]
    public void Fuzz_MutatedFiles_LoadConsistentlyOrThrowFormatException()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var failures = new List<string>();
        int accepted = 0, rejected = 0;
        var reasons = new Dictionary<string, int>();
        for (int b = 0; b < _bases.Count; b++)
        {
            for (int i = 0; i < VariantsPerBase; i++)
            {
                int seed = VariantSeed(b, i);
                var (bytes, log) = Variant(_bases[b], seed);
                try
                {
                    CheckAccepted(bytes, "fuzz");
                    accepted++;
                }
                catch (SafetensorsFormatException e)
                {
                    rejected++;
                    if (!e.Message.StartsWith("fuzz: ", StringComparison.Ordinal))
                        failures.Add(Describe(b, i, seed, log, bytes, e));
                    string reason = Reason(e.Message);
                    reasons[reason] = reasons.GetValueOrDefault(reason) + 1;
                }
#pragma warning disable CA1031 // Any other exception type is exactly what this test hunts for.
                catch (Exception e)
#pragma warning restore CA1031
                {
                    failures.Add(Describe(b, i, seed, log, bytes, e));
                }
            }
        }
        clock.Stop();
        int total = _bases.Count * VariantsPerBase;
        _output.WriteLine($"{total} variants from {_bases.Count} bases in {clock.ElapsedMilliseconds} ms: " +
            $"{accepted} accepted, {rejected} rejected with SafetensorsFormatException, {failures.Count} failures.");
        foreach (var (reason, count) in reasons.OrderByDescending(p => p.Value).Take(25))
            _output.WriteLine($"  {count,6}  {reason}");
        Assert.True(failures.Count == 0, $"{failures.Count} of {total} variants failed:\n" + string.Join("\n\n", failures.Take(8)));
        // Both outcomes must be exercised, or the mutations are too weak (or too strong) to mean anything.
        Assert.True(accepted > total / 100, $"only {accepted} of {total} variants were accepted");
        Assert.True(rejected > total / 2, $"only {rejected} of {total} variants were rejected");
    }

    [Fact]
    public void Fuzz_MutatedFilesThroughTheMappedPath_AgreeWithTheInMemoryReader()
    {
        using var folder = new TempFolder();
        var failures = new List<string>();
        for (int i = 0; i < FileVariants; i++)
        {
            int b = i % _bases.Count;
            int seed = VariantSeed(b, 100_000 + i);
            var (bytes, log) = Variant(_bases[b], seed);
            string path = folder.File($"v{i}.safetensors");
            File.WriteAllBytes(path, bytes);
            string memory = Outcome(() => CheckAccepted(bytes, "x"), "x");
            string mapped = Outcome(() => CheckAccepted(path), path);
            if (memory != mapped)
                failures.Add($"base {b}, variant seed {seed} ({log}): in memory -> {memory}; mapped -> {mapped}");
            File.Delete(path);
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(8)));
    }

    [Fact]
    public void Fuzz_Bases_AreValidAndVariantsAreReproducible()
    {
        foreach (var b in _bases) CheckAccepted(b, "base");
        Assert.Equal(Variant(_bases[0], 12345).Bytes, Variant(_bases[0], 12345).Bytes);
    }

    /// <summary>The seed of variant <paramref name="index"/> of base <paramref name="b"/>: replay with Variant(base, seed).</summary>
    private static int VariantSeed(int b, int index) => unchecked(MasterSeed + (b * 1_000_003) + (index * 7919));

    /// <summary>"ok" or the format error without its source prefix; other exceptions propagate.</summary>
    private static string Outcome(Action action, string source)
    {
        try
        {
            action();
            return "ok";
        }
        catch (SafetensorsFormatException e)
        {
            return e.Message.StartsWith(source + ": ", StringComparison.Ordinal) ? e.Message[(source.Length + 2)..] : "BAD PREFIX " + e.Message;
        }
    }

    private void CheckAccepted(byte[] bytes, string source)
    {
        using var reader = SafetensorsReader.FromBytes(bytes, source);
        CheckConsistent(reader, bytes.Length);
    }

    private void CheckAccepted(string path)
    {
        using var reader = SafetensorsReader.Open(path);
        CheckConsistent(reader, new FileInfo(path).Length);
    }

    /// <summary>An accepted file must describe itself consistently and every tensor must load to its bytes.</summary>
    private void CheckConsistent(SafetensorsReader reader, long fileLength)
    {
        Assert.InRange(reader.HeaderLength, 1, fileLength - 8);
        long next = 0;
        foreach (var e in reader.Entries)
        {
            Assert.Equal(next, e.DataOffset);
            Assert.Equal(e.ElementCount * e.DType.SizeInBytes(), e.ByteLength);
            next += e.ByteLength;
            Assert.True(reader.Contains(e.Name));
            var bytes = reader.GetBytes(e.Name);
            Assert.Equal(e.ByteLength, bytes.Length);
            using var t = reader.Load(e.Name, _backend);
            Assert.Equal(e.Shape, t.Shape);
            Assert.Equal(e.DType, t.DType);
            Assert.True(bytes.SequenceEqual(SafetensorsTestFiles.Bytes(t)));
        }
        Assert.Equal(fileLength - reader.DataStart, next);
        foreach (var (k, v) in reader.Metadata)
        {
            Assert.NotNull(k);
            Assert.NotNull(v);
        }
    }

    /// <summary>Applies 1-3 seeded mutations to a base file. Pure function of (base, seed).</summary>
    internal static (byte[] Bytes, string Log) Variant(byte[] baseFile, int seed)
    {
        var rng = new Random(seed);
        int n = (int)BitConverter.ToUInt64(baseFile, 0);
        var header = new List<byte>(baseFile.AsSpan(8, n).ToArray());
        var data = new List<byte>(baseFile.AsSpan(8 + n).ToArray());
        ulong? lengthField = null; // null: the true header length after the edits
        var log = new StringBuilder();
        bool whole = false;        // a whole-file edit (truncation, raw flips) is applied last, to the assembled bytes
        var wholeEdits = new List<Action<List<byte>>>();

        int count = rng.Next(1, 4);
        for (int m = 0; m < count; m++)
        {
            int kind = rng.Next(10);
            switch (kind)
            {
                case 0 when header.Count > 0:
                {
                    int p = rng.Next(header.Count);
                    int bit = rng.Next(8);
                    header[p] ^= (byte)(1 << bit);
                    log.Append(CultureInfo.InvariantCulture, $"flip header[{p}] bit {bit}; ");
                    break;
                }
                case 1 when header.Count > 0:
                {
                    int p = rng.Next(header.Count);
                    byte v = InterestingBytes[rng.Next(InterestingBytes.Length)];
                    header[p] = v;
                    log.Append(CultureInfo.InvariantCulture, $"header[{p}] = 0x{v:X2}; ");
                    break;
                }
                case 2:
                {
                    int cut = rng.Next(8 + header.Count + data.Count + 1);
                    whole = true;
                    wholeEdits.Add(f => { if (cut < f.Count) f.RemoveRange(cut, f.Count - cut); });
                    log.Append(CultureInfo.InvariantCulture, $"truncate to {cut}; ");
                    break;
                }
                case 3:
                {
                    int p = rng.Next(header.Count + 1);
                    var insert = new byte[rng.Next(1, 9)];
                    for (int k = 0; k < insert.Length; k++) insert[k] = InterestingBytes[rng.Next(InterestingBytes.Length)];
                    header.InsertRange(p, insert);
                    log.Append(CultureInfo.InvariantCulture, $"insert {Convert.ToHexString(insert)} at header[{p}]; ");
                    break;
                }
                case 4 when header.Count > 0:
                {
                    int p = rng.Next(header.Count);
                    int len = Math.Min(rng.Next(1, 17), header.Count - p);
                    header.RemoveRange(p, len);
                    log.Append(CultureInfo.InvariantCulture, $"delete header[{p}..+{len}]; ");
                    break;
                }
                case 5:
                {
                    ulong[] choices =
                    [
                        0, 1, (ulong)header.Count - 1, (ulong)header.Count + 1, (ulong)header.Count + 8,
                        (ulong)header.Count - 8, (ulong)(header.Count + data.Count), (ulong)(header.Count + data.Count + 1),
                        1UL << 63, ulong.MaxValue, 100_000_001, 100_000_000, (ulong)rng.NextInt64(),
                    ];
                    lengthField = choices[rng.Next(choices.Length)];
                    log.Append(CultureInfo.InvariantCulture, $"length field = {lengthField}; ");
                    break;
                }
                case 6:
                {
                    var spans = NumberSpans(header);
                    if (spans.Count == 0) goto default;
                    var (start, len) = spans[rng.Next(spans.Count)];
                    string number = InterestingNumbers[rng.Next(InterestingNumbers.Length)];
                    header.RemoveRange(start, len);
                    header.InsertRange(start, Encoding.ASCII.GetBytes(number));
                    log.Append(CultureInfo.InvariantCulture, $"number at header[{start}] = {number}; ");
                    break;
                }
                case 7:
                {
                    var spans = DTypeSpans(header);
                    if (spans.Count == 0) goto default;
                    var (start, len) = spans[rng.Next(spans.Count)];
                    string dtype = InterestingDTypes[rng.Next(InterestingDTypes.Length)];
                    header.RemoveRange(start, len);
                    header.InsertRange(start, Encoding.ASCII.GetBytes(dtype));
                    log.Append(CultureInfo.InvariantCulture, $"dtype at header[{start}] = '{dtype}'; ");
                    break;
                }
                case 8 when header.Count > 1:
                {
                    // Duplicate a slice of the header elsewhere: repeated keys, nested objects, split tokens.
                    int from = rng.Next(header.Count);
                    int len = Math.Min(rng.Next(1, 64), header.Count - from);
                    int to = rng.Next(header.Count + 1);
                    var slice = header.GetRange(from, len);
                    header.InsertRange(to, slice);
                    log.Append(CultureInfo.InvariantCulture, $"copy header[{from}..+{len}] to {to}; ");
                    break;
                }
                case 9:
                {
                    // Raw damage anywhere in the file, length field and data included.
                    int p = rng.Next(8 + header.Count + data.Count);
                    byte v = (byte)rng.Next(256);
                    whole = true;
                    wholeEdits.Add(f => { if (p < f.Count) f[p] = v; });
                    log.Append(CultureInfo.InvariantCulture, $"file[{p}] = 0x{v:X2}; ");
                    break;
                }
                default:
                {
                    if (data.Count > 0 && rng.Next(2) == 0)
                    {
                        data.RemoveAt(rng.Next(data.Count));
                        log.Append("drop a data byte; ");
                    }
                    else
                    {
                        data.Add((byte)rng.Next(256));
                        log.Append("append a data byte; ");
                    }
                    break;
                }
            }
        }

        var file = new List<byte>(8 + header.Count + data.Count);
        file.AddRange(BitConverter.GetBytes(lengthField ?? (ulong)header.Count));
        file.AddRange(header);
        file.AddRange(data);
        if (whole)
            foreach (var edit in wholeEdits) edit(file);
        return (file.ToArray(), log.ToString());
    }

    private static List<(int Start, int Length)> NumberSpans(List<byte> header)
    {
        var spans = new List<(int, int)>();
        for (int i = 0; i < header.Count; i++)
        {
            if (header[i] is < (byte)'0' or > (byte)'9') continue;
            int start = i;
            while (i < header.Count && header[i] is >= (byte)'0' and <= (byte)'9') i++;
            spans.Add((start, i - start));
        }
        return spans;
    }

    private static List<(int Start, int Length)> DTypeSpans(List<byte> header)
    {
        var spans = new List<(int, int)>();
        byte[] key = Encoding.ASCII.GetBytes("\"dtype\":\"");
        var text = header.ToArray().AsSpan();
        for (int at = 0; ;)
        {
            int found = text[at..].IndexOf(key);
            if (found < 0) break;
            int start = at + found + key.Length;
            int end = text[start..].IndexOf((byte)'"');
            if (end < 0) break;
            spans.Add((start, end));
            at = start;
        }
        return spans;
    }

    private static string Reason(string message)
    {
        // Group messages by their wording, not their numbers or names, for the summary.
        string rest = message["fuzz: ".Length..];
        var sb = new StringBuilder();
        bool inQuote = false;
        foreach (char c in rest.Length > 70 ? rest[..70] : rest)
        {
            if (c == '\'') { inQuote = !inQuote; sb.Append(c); continue; }
            if (inQuote) continue;
            sb.Append(char.IsDigit(c) ? '#' : c);
        }
        return sb.ToString();
    }

    private static string Describe(int b, int i, int seed, string log, byte[] bytes, Exception e) =>
        $"base {b} variant {i} seed {seed}: {log}\n  {e.GetType().FullName}: {e.Message}\n  {e.StackTrace?.Split('\n').FirstOrDefault()?.Trim()}\n" +
        $"  bytes ({bytes.Length}): {(bytes.Length <= 1024 ? Convert.ToBase64String(bytes) : "(too long to print)")}";

    private static List<byte[]> BuildBases(CpuBackend backend)
    {
        var bases = new List<byte[]>();
        var tensors = new List<KeyValuePair<string, Tensor>>();
        try
        {
            tensors.Add(new("blocks.0.attn.qkv.weight", Tensor.From<float>(TestData.Uniform(12, 1), new Shape(3, 4), backend)));
            tensors.Add(new("blocks.0.attn.qkv.bias", Tensor.From<Half>([(Half)1, (Half)2, (Half)3], new Shape(3), backend)));
            tensors.Add(new("pos", Tensor.From<long>([1, 2], new Shape(2, 1), backend)));
            tensors.Add(new("mask", Tensor.From<bool>([true, false, true], new Shape(1, 3), backend)));
            tensors.Add(new("ids", Tensor.From<int>([7], new Shape(), backend)));
            tensors.Add(new("bytes", Tensor.From<byte>([1, 2, 3, 4, 5], new Shape(5), backend)));
            tensors.Add(new("bf", Tensor.FromBytes([0x80, 0x3F], new Shape(1), DType.BF16, backend)));
            bases.Add(Write(tensors, new Dictionary<string, string> { ["format"] = "pt", ["note"] = "fuzz base" }));
            bases.Add(Write(tensors.Take(1), null));
            bases.Add(Write(
                [new("empty", tensors[0].Value.Narrow(0, 0, 0)), new("scalar", tensors[4].Value), new("u8", tensors[5].Value)], null));
        }
        finally
        {
            foreach (var (_, t) in tensors) t.Dispose();
        }
        bases.Add(Write([], new Dictionary<string, string> { ["only"] = "metadata" }));
        // Hand-built: unpadded, unsorted offsets, an ignored unknown field, every integer width.
        bases.Add(SafetensorsTestFiles.Build(
            "{\"b\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[8,16],\"extra\":[1,{\"k\":null}]}," +
            "\"a\":{\"dtype\":\"I64\",\"shape\":[1,1],\"data_offsets\":[0,8]}," +
            "\"c\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[16,19]}}", 19));
        bases.Add(SafetensorsTestFiles.Build("{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}", 24));
        return bases;
    }

    private static byte[] Write(IEnumerable<KeyValuePair<string, Tensor>> tensors, Dictionary<string, string>? metadata)
    {
        using var stream = new MemoryStream();
        SafetensorsWriter.Write(stream, tensors, metadata);
        return stream.ToArray();
    }
}
