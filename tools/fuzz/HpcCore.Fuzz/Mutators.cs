// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Fuzz;

using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

/// <summary>
/// Mutations: generic byte-level ones (AFL's havoc set: bit flips, interesting values, block insert/delete/copy,
/// truncation, splicing) and structure-aware ones that keep a format's framing valid while changing its fields, so
/// that inputs get past the first length check and reach the deeper code (safetensors header JSON with its length
/// prefix recomputed, PNG chunks with CRCs recomputed, JPEG marker segments, JSON configs, text vocabularies).
/// </summary>
internal static partial class Mutators
{
    private static readonly long[] Interesting =
    [
        0, 1, -1, 2, 3, 7, 8, 15, 16, 17, 31, 32, 63, 64, 127, 128, 255, 256, 1023, 1024, 4095, 4096, 32767, 32768,
        65535, 65536, 1 << 20, 1 << 24, int.MaxValue, int.MinValue, (long)int.MaxValue + 1, uint.MaxValue, 1L << 32,
        long.MaxValue, long.MinValue, 0x7FFFFFFE,
    ];

    private static long Pick(Random r) => r.Next(4) == 0 ? r.NextInt64(-70000, 70000) : Interesting[r.Next(Interesting.Length)];

    /// <summary>One to four stacked havoc operations anywhere in the input.</summary>
    public static byte[] Havoc(Random r, byte[] seed, IReadOnlyList<byte[]> seeds) => Havoc(r, seed, seeds, 0, int.MaxValue);

    /// <summary>Havoc with every operation's position in [from, to) when the input is that long.</summary>
    public static byte[] Havoc(Random r, byte[] seed, IReadOnlyList<byte[]> seeds, int from, int to)
    {
        var b = new List<byte>(seed);
        int ops = 1 + r.Next(4);
        for (int i = 0; i < ops; i++)
        {
            int hi = Math.Min(to, b.Count), lo = Math.Min(from, hi);
            int At() => hi > lo ? r.Next(lo, hi) : 0;
            switch (r.Next(11))
            {
                case 0 when b.Count > 0: { int p = At(); if (p < b.Count) b[p] ^= (byte)(1 << r.Next(8)); break; }
                case 1 when b.Count > 0: { int p = At(); if (p < b.Count) b[p] = (byte)r.Next(256); break; }
                case 2 when b.Count > 0: { int p = At(); if (p < b.Count) b[p] = (byte)Pick(r); break; }
                case 3: WriteInt(r, b, At(), 2); break;
                case 4: WriteInt(r, b, At(), 4); break;
                case 5: WriteInt(r, b, At(), 8); break;
                case 6 when b.Count > 1: { int p = At(); if (p < b.Count) b.RemoveRange(p, Math.Min(b.Count - p, 1 + r.Next(Math.Min(64, b.Count)))); break; }
                case 7: { int p = Math.Min(At(), b.Count); var ins = new byte[1 + r.Next(32)]; r.NextBytes(ins); b.InsertRange(p, ins); break; }
                case 8 when b.Count > 1: { int p = At(), q = r.Next(b.Count); if (p < b.Count) b.InsertRange(p, b.GetRange(q, Math.Min(b.Count - q, 1 + r.Next(64)))); break; }
                case 9 when b.Count > 1: { int cut = r.Next(b.Count); b.RemoveRange(cut, b.Count - cut); break; }
                case 10 when seeds.Count > 0:
                {
                    var other = seeds[r.Next(seeds.Count)];
                    if (other.Length == 0 || b.Count == 0) break;
                    int p = r.Next(b.Count), q = r.Next(other.Length);
                    b.RemoveRange(p, b.Count - p);
                    b.AddRange(other.AsSpan(q).ToArray());
                    break;
                }
            }
        }
        return [.. b];
    }

    private static void WriteInt(Random r, List<byte> b, int p, int width)
    {
        if (p + width > b.Count) return;
        Span<byte> v = stackalloc byte[8];
        long x = Pick(r);
        if (r.Next(2) == 0) BinaryPrimitives.WriteInt64LittleEndian(v, x);
        else BinaryPrimitives.WriteInt64BigEndian(v, x << (8 * (8 - width)));
        for (int i = 0; i < width; i++) b[p + i] = v[i];
    }

    /// <summary>Safetensors: mutate the header JSON (length prefix recomputed), the prefix itself, or the data.</summary>
    public static byte[] Safetensors(Random r, byte[] seed, IReadOnlyList<byte[]> seeds)
    {
        if (seed.Length < 8) return Havoc(r, seed, seeds);
        long n = BinaryPrimitives.ReadInt64LittleEndian(seed);
        if (n <= 0 || n > seed.Length - 8) return Havoc(r, seed, seeds);
        int choice = r.Next(10);
        if (choice < 6)
        {
            var json = Json(r, seed.AsSpan(8, (int)n).ToArray());
            var result = new byte[8 + json.Length + (seed.Length - 8 - (int)n)];
            BinaryPrimitives.WriteInt64LittleEndian(result, json.Length);
            json.CopyTo(result, 8);
            seed.AsSpan(8 + (int)n).CopyTo(result.AsSpan(8 + json.Length));
            return result;
        }
        if (choice < 8) return Havoc(r, seed, seeds, 0, 8 + (int)n);
        return Havoc(r, seed, seeds, 8 + (int)n, seed.Length);
    }

    [GeneratedRegex(@"-?\d+(\.\d+)?([eE][-+]?\d+)?")]
    private static partial Regex NumberToken();

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"")]
    private static partial Regex StringToken();

    private static readonly string[] Strings =
    [
        "\"F32\"", "\"F16\"", "\"BF16\"", "\"I64\"", "\"U8\"", "\"F64\"", "\"BOOL\"", "\"\"", "\"__metadata__\"", "\"dtype\"",
        "\"shape\"", "\"data_offsets\"", "\"gelu\"", "\"bert\"", "\"\\u0000\"", "\"\\ud800\"", "\"" + new string('x', 300) + "\"",
    ];

    private static readonly string[] Numbers =
    [
        "0", "-1", "1", "2", "3", "16", "64", "65536", "2147483647", "2147483648", "-2147483648", "4294967296",
        "9223372036854775807", "18446744073709551616", "1e999", "-1e999", "0.5", "1e-30", "3.4e38", "1.5", "-0",
        "00", "1e2", "NaN", "99999999999999999999999",
    ];

    /// <summary>JSON text: numbers, strings, keys and nesting changed at the token level (may become invalid JSON).</summary>
    public static byte[] Json(Random r, byte[] utf8)
    {
        string s = Encoding.UTF8.GetString(utf8);
        int ops = 1 + r.Next(3);
        for (int i = 0; i < ops; i++)
        {
            switch (r.Next(8))
            {
                case 0:
                case 1:
                case 2:
                    s = ReplaceOne(r, s, NumberToken(), _ => r.Next(3) == 0 ? Pick(r).ToString(CultureInfo.InvariantCulture) : Numbers[r.Next(Numbers.Length)]);
                    break;
                case 3:
                    s = ReplaceOne(r, s, StringToken(), _ => Strings[r.Next(Strings.Length)]);
                    break;
                case 4: // drop a "key": value pair
                    s = ReplaceOne(r, s, KeyValue(), _ => "");
                    break;
                case 5: // number <-> string / array
                    s = ReplaceOne(r, s, NumberToken(), m => r.Next(2) == 0 ? $"\"{m.Value}\"" : $"[{m.Value}]");
                    break;
                case 6: // duplicate a pair
                {
                    var ms = KeyValue().Matches(s);
                    if (ms.Count > 0) { var m = ms[r.Next(ms.Count)]; s = s.Insert(m.Index, m.Value); }
                    break;
                }
                default: // deep nesting or a structural byte
                    int p = r.Next(s.Length + 1);
                    s = r.Next(2) == 0 ? s.Insert(p, new string('[', 1 + r.Next(200))) : s.Insert(p, "{}[],:\""[r.Next(7)].ToString());
                    break;
            }
        }
        return Encoding.UTF8.GetBytes(s);
    }

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"\\s*:\\s*(\"(?:[^\"\\\\]|\\\\.)*\"|-?[\\d.eE+-]+|true|false|null|\\[[^\\[\\]]*\\]),?")]
    private static partial Regex KeyValue();

    private static string ReplaceOne(Random r, string s, Regex re, Func<Match, string> with)
    {
        var ms = re.Matches(s);
        if (ms.Count == 0) return s;
        var m = ms[r.Next(ms.Count)];
        return string.Concat(s.AsSpan(0, m.Index), with(m), s.AsSpan(m.Index + m.Length));
    }

    /// <summary>PNG: change a chunk's fields, length, order or payload (re-deflated or raw), then fix the CRCs.</summary>
    public static byte[] Png(Random r, byte[] seed, IReadOnlyList<byte[]> seeds)
    {
        var chunks = new List<(string Type, byte[] Data)>();
        int pos = 8;
        while (pos + 12 <= seed.Length)
        {
            int len = BinaryPrimitives.ReadInt32BigEndian(seed.AsSpan(pos));
            if (len < 0 || pos + 12 + len > seed.Length) return Havoc(r, seed, seeds);
            chunks.Add((Encoding.ASCII.GetString(seed, pos + 4, 4), seed.AsSpan(pos + 8, len).ToArray()));
            pos += 12 + len;
        }
        if (chunks.Count == 0) return Havoc(r, seed, seeds);
        bool lieAboutLength = false;
        switch (r.Next(6))
        {
            case 0:
            case 1: // IHDR fields: width, height, depth, colour, interlace
            {
                var ihdr = chunks[0].Data;
                if (ihdr.Length >= 13)
                {
                    var list = new List<byte>(ihdr);
                    WriteInt(r, list, r.Next(2) * 4, 4);
                    if (r.Next(2) == 0) list[8 + r.Next(5)] = (byte)Pick(r);
                    chunks[0] = (chunks[0].Type, [.. list]);
                }
                break;
            }
            case 2: // a chunk's payload
            {
                int i = r.Next(chunks.Count);
                chunks[i] = (chunks[i].Type, Havoc(r, chunks[i].Data, seeds));
                break;
            }
            case 3: // drop, duplicate or move a chunk
            {
                int i = r.Next(chunks.Count);
                var c = chunks[i];
                int op = r.Next(3);
                if (op != 1) chunks.RemoveAt(i);
                if (op != 0) chunks.Insert(r.Next(chunks.Count + 1), c);
                break;
            }
            case 4:
                lieAboutLength = true;
                break;
            default: // whole-file havoc
                return Havoc(r, seed, seeds);
        }
        var ms = new MemoryStream();
        ms.Write(seed.AsSpan(0, 8));
        int lie = lieAboutLength ? r.Next(chunks.Count) : -1;
        Span<byte> word = stackalloc byte[4];
        for (int i = 0; i < chunks.Count; i++)
        {
            var (type, data) = chunks[i];
            BinaryPrimitives.WriteInt32BigEndian(word, i == lie ? (int)Pick(r) : data.Length);
            ms.Write(word);
            var body = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
            ms.Write(body);
            BinaryPrimitives.WriteUInt32BigEndian(word, r.Next(10) == 0 ? (uint)r.Next() : Crc32(body));
            ms.Write(word);
        }
        return ms.ToArray();
    }

    /// <summary>CRC-32 (ISO 3309) as PNG uses it.</summary>
    public static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (uint)-(int)(crc & 1));
        }
        return ~crc;
    }

    /// <summary>JPEG: change one marker segment (frame header weighted), its length, the segment order, or the scan data.</summary>
    public static byte[] Jpeg(Random r, byte[] seed, IReadOnlyList<byte[]> seeds)
    {
        // Segment boundaries up to the first scan's data.
        var segs = new List<(int Start, int Length)>();
        int pos = 2;
        while (pos + 4 <= seed.Length && seed[pos] == 0xFF)
        {
            int len = BinaryPrimitives.ReadUInt16BigEndian(seed.AsSpan(pos + 2));
            if (pos + 2 + len > seed.Length) break;
            segs.Add((pos, 2 + len));
            bool sos = seed[pos + 1] == 0xDA;
            pos += 2 + len;
            if (sos) break;
        }
        if (segs.Count == 0) return Havoc(r, seed, seeds);
        switch (r.Next(5))
        {
            case 0: // frame header fields (dimensions, components, sampling factors)
            {
                int sof = segs.FindIndex(s => seed[s.Start + 1] is 0xC0 or 0xC1 or 0xC2);
                var (start, length) = segs[sof >= 0 ? sof : r.Next(segs.Count)];
                return Havoc(r, seed, seeds, start + 4, start + length);
            }
            case 1: // any segment's body or length
            {
                var (start, length) = segs[r.Next(segs.Count)];
                return Havoc(r, seed, seeds, start + 2, start + length);
            }
            case 2: // drop or duplicate a segment
            {
                var (start, length) = segs[r.Next(segs.Count)];
                var seg = seed.AsSpan(start, length).ToArray();
                var rest = r.Next(2) == 0 ? [.. seed.AsSpan(0, start), .. seed.AsSpan(start + length)] : seed;
                if (r.Next(2) == 0) return rest;
                int at = segs[r.Next(segs.Count)].Start;
                return [.. rest.AsSpan(0, Math.Min(at, rest.Length)), .. seg, .. rest.AsSpan(Math.Min(at, rest.Length))];
            }
            case 3: // scan data
                return Havoc(r, seed, seeds, pos, seed.Length);
            default:
                return Havoc(r, seed, seeds);
        }
    }

    /// <summary>Text with one line per entry (vocab.txt): lines dropped, duplicated, lengthened or made invalid UTF-8.</summary>
    public static byte[] Lines(Random r, byte[] seed, IReadOnlyList<byte[]> seeds)
    {
        if (r.Next(4) == 0) return Havoc(r, seed, seeds);
        var lines = Encoding.UTF8.GetString(seed).Split('\n').ToList();
        int i = r.Next(lines.Count);
        switch (r.Next(5))
        {
            case 0: lines.RemoveAt(i); break;
            case 1: lines.Insert(r.Next(lines.Count), lines[i]); break;
            case 2: lines[i] = new string('a', r.Next(1, 5000)); break;
            case 3: lines[i] = ""; break;
            default: lines.Insert(i, "##" + lines[i]); break;
        }
        var bytes = Encoding.UTF8.GetBytes(string.Join('\n', lines));
        if (r.Next(8) == 0 && bytes.Length > 0) bytes[r.Next(bytes.Length)] = 0xC3;
        return bytes;
    }
}
