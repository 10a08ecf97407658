// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Images;

using System.Buffers.Binary;
using System.IO.Compression;

/// <summary>
/// Checks a PNG's chunk structure and its compressed pixel stream before decoding: IHDR first and valid, every
/// chunk inside the file, IEND present, and the IDAT stream inflating to exactly the bytes IHDR implies. The inflate
/// check is what bounds the decoder: StbImageSharp grows its inflate buffer without limit, so a stream that inflates
/// past the image (a deflate bomb, or a flipped bit in IHDR) would otherwise allocate without bound.
/// </summary>
internal static class PngStructure
{
    private const int Signature = 8, ChunkOverhead = 12;

    public static ImageHeader Check(ReadOnlySpan<byte> d, ImageLimits limits, string source)
    {
        int pos = Signature;
        int width = 0, height = 0, depth = 0, colour = 0, interlace = 0, idatBytes = 0;
        bool ihdr = false, iend = false;
        var idat = new List<(int Start, int Length)>();
        while (!iend)
        {
            if (d.Length - pos < ChunkOverhead) throw ImageHeader.Bad(source, $"ends inside a PNG chunk header at byte {pos}");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(d[pos..]);
            if (length > (uint)(d.Length - pos - ChunkOverhead))
                throw ImageHeader.Bad(source, $"has a PNG chunk of {length} bytes at byte {pos}, past the end of the file");
            var type = d.Slice(pos + 4, 4);
            var body = d.Slice(pos + 8, (int)length);
            if (!ihdr)
            {
                if (!type.SequenceEqual("IHDR"u8) || length != 13) throw ImageHeader.Bad(source, "does not start with a 13-byte PNG IHDR chunk");
                width = BinaryPrimitives.ReadInt32BigEndian(body);
                height = BinaryPrimitives.ReadInt32BigEndian(body[4..]);
                depth = body[8];
                colour = body[9];
                interlace = body[12];
                if (width <= 0 || height <= 0) throw ImageHeader.Bad(source, $"declares a {width}x{height} PNG");
                bool valid = colour switch
                {
                    0 => depth is 1 or 2 or 4 or 8 or 16,
                    3 => depth is 1 or 2 or 4 or 8,
                    2 or 4 or 6 => depth is 8 or 16,
                    _ => false,
                };
                if (!valid || body[10] != 0 || body[11] != 0 || interlace > 1)
                    throw ImageHeader.Bad(source, $"has an invalid PNG IHDR (depth {depth}, colour type {colour}, methods {body[10]}/{body[11]}/{interlace})");
                if ((long)width * height > limits.MaxPixels)
                    throw ImageHeader.Bad(source, $"declares {width}x{height} pixels, above the {limits.MaxPixels}-pixel limit");
                ihdr = true;
            }
            else if (type.SequenceEqual("IDAT"u8))
            {
                idat.Add((pos + 8, (int)length));
                idatBytes += (int)length; // the sum of in-file lengths fits an int: the file is at most MaxBytes < 2 GiB
            }
            else if (type.SequenceEqual("IEND"u8)) iend = true;
            pos += ChunkOverhead + (int)length;
        }
        if (idatBytes == 0) throw ImageHeader.Bad(source, "has no PNG IDAT data");
        var stream = new byte[idatBytes];
        int at = 0;
        foreach (var (start, length) in idat)
        {
            d.Slice(start, length).CopyTo(stream.AsSpan(at));
            at += length;
        }
        long expected = RawBytes(width, height, depth, colour, interlace);
        long inflated = InflatedLength(stream, expected + 1, source);
        if (inflated != expected)
            throw ImageHeader.Bad(source, $"has PNG pixel data of {(inflated > expected ? "more than" : inflated.ToString(System.Globalization.CultureInfo.InvariantCulture))} bytes; its IHDR implies {expected}");
        return new ImageHeader(ImageFormat.Png, width, height);
    }

    // Filtered scanlines: one filter byte plus ceil(w * bits / 8) bytes per row, per Adam7 pass when interlaced.
    private static long RawBytes(int width, int height, int depth, int colour, int interlace)
    {
        int channels = colour switch { 2 => 3, 4 => 2, 6 => 4, _ => 1 };
        long bits = (long)channels * depth;
        long Rows(long w, long h) => w == 0 || h == 0 ? 0 : h * (1 + (w * bits + 7) / 8);
        if (interlace == 0) return Rows(width, height);
        ReadOnlySpan<int> x0 = [0, 4, 0, 2, 0, 1, 0], y0 = [0, 0, 4, 0, 2, 0, 1], dx = [8, 8, 4, 4, 2, 2, 1], dy = [8, 8, 8, 4, 4, 2, 2];
        long total = 0;
        for (int p = 0; p < 7; p++)
            total += Rows(((long)width - x0[p] + dx[p] - 1) / dx[p], ((long)height - y0[p] + dy[p] - 1) / dy[p]);
        return total;
    }

    // Inflates into a scratch buffer, counting, and stops once the count passes `cap`: time and memory bounded by the input.
    private static long InflatedLength(byte[] zlib, long cap, string source)
    {
        try
        {
            using var z = new ZLibStream(new MemoryStream(zlib, writable: false), CompressionMode.Decompress);
            var scratch = new byte[1 << 16];
            long total = 0;
            int n;
            while (total < cap && (n = z.Read(scratch)) > 0) total += n;
            return total;
        }
        catch (Exception e) when (e is InvalidDataException or IOException) // corrupt streams raise either (ZLibException is an IOException)
        {
            throw new InvalidDataException($"ImageDecoder.Decode: '{source}' has a corrupt PNG zlib stream: {e.Message}", e);
        }
    }
}
