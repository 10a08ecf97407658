// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Images;

using System.Buffers.Binary;

/// <summary>
/// Walks a JPEG's marker segments (ITU T.81, annex B) from SOI to EOI or the end of the file: every segment length
/// inside the file, exactly one supported frame header (SOF0/1/2: Huffman, 8-bit, 1, 3 or 4 components) before the
/// first scan, at most <see cref="ImageLimits.MaxJpegScans"/> scans, and enough entropy-coded bytes for the blocks the
/// frame declares. Every loop advances through the buffer, so the walk ends within its length.
/// </summary>
internal static class JpegStructure
{
    // A Huffman-coded 8x8 block costs at least two bits (DC difference category and end-of-block), so one byte per 64
    // blocks is a floor no real file goes under; it stops a tiny file from declaring (and allocating) a huge frame.
    private const int BlocksPerByteFloor = 64;

    public static ImageHeader Check(ReadOnlySpan<byte> d, ImageLimits limits, string source)
    {
        int pos = 2, width = 0, height = 0, components = 0, scans = 0;
        long entropyBytes = 0;
        while (pos < d.Length)
        {
            if (d[pos] != 0xFF) throw ImageHeader.Bad(source, $"has byte 0x{d[pos]:x2} at {pos} where a JPEG marker was expected");
            while (pos < d.Length && d[pos] == 0xFF) pos++; // fill bytes
            if (pos >= d.Length) break;
            byte marker = d[pos++];
            if (marker == 0xD9) break; // EOI
            if (marker is 0x01 or (>= 0xD0 and <= 0xD7)) continue; // TEM, RSTn: no length
            if (marker is 0xD8 or 0x00) throw ImageHeader.Bad(source, $"has JPEG marker 0x{marker:x2} at byte {pos - 1}");
            if (d.Length - pos < 2) throw ImageHeader.Bad(source, "ends inside a JPEG segment length");
            int length = BinaryPrimitives.ReadUInt16BigEndian(d[pos..]);
            if (length < 2 || length > d.Length - pos)
                throw ImageHeader.Bad(source, $"has a JPEG segment 0x{marker:x2} of {length} bytes at byte {pos}, past the end of the file");
            var body = d.Slice(pos + 2, length - 2);
            pos += length;
            if (marker is >= 0xC0 and <= 0xCF && marker is not (0xC4 or 0xC8 or 0xCC))
            {
                if (marker is not (0xC0 or 0xC1 or 0xC2))
                    throw ImageHeader.Bad(source, $"is a JPEG of frame type 0x{marker:x2} (only baseline and progressive Huffman are decoded)");
                if (components != 0) throw ImageHeader.Bad(source, "has a second JPEG frame header");
                if (body.Length < 6) throw ImageHeader.Bad(source, "has a short JPEG frame header");
                height = BinaryPrimitives.ReadUInt16BigEndian(body[1..]);
                width = BinaryPrimitives.ReadUInt16BigEndian(body[3..]);
                components = body[5];
                if (body[0] != 8) throw ImageHeader.Bad(source, $"has {body[0]}-bit JPEG samples (8 expected)");
                if (width == 0 || height == 0) throw ImageHeader.Bad(source, $"declares a {width}x{height} JPEG");
                if (components is not (1 or 3 or 4) || body.Length != 6 + 3 * components)
                    throw ImageHeader.Bad(source, $"has a JPEG frame header with {components} components in {body.Length} bytes");
                if ((long)width * height > limits.MaxPixels)
                    throw ImageHeader.Bad(source, $"declares {width}x{height} pixels, above the {limits.MaxPixels}-pixel limit");
            }
            else if (marker == 0xDA)
            {
                if (components == 0) throw ImageHeader.Bad(source, "has a JPEG scan before its frame header");
                if (++scans > limits.MaxJpegScans) throw ImageHeader.Bad(source, $"has more than {limits.MaxJpegScans} JPEG scans");
                // Entropy-coded data runs to the next marker that is not a stuffed 0xFF00 or a restart marker.
                int start = pos;
                while (pos < d.Length - 1 && !(d[pos] == 0xFF && d[pos + 1] != 0x00 && d[pos + 1] is not (>= 0xD0 and <= 0xD7)))
                    pos++;
                if (pos == d.Length - 1) pos = d.Length; // a truncated scan: StbImageSharp fills the rest; the floor below still holds
                entropyBytes += pos - start;
            }
        }
        if (components == 0 || scans == 0) throw ImageHeader.Bad(source, "has no JPEG frame header and scan");
        long blocks = (width + 7L) / 8 * ((height + 7L) / 8) * components;
        if (blocks > (entropyBytes + 1) * BlocksPerByteFloor)
            throw ImageHeader.Bad(source, $"declares a {width}x{height} JPEG but holds only {entropyBytes} bytes of coded data");
        return new ImageHeader(ImageFormat.Jpeg, width, height);
    }
}
