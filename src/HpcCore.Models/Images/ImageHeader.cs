// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Images;

using System.Buffers.Binary;

/// <summary>The encoded formats <see cref="ImageDecoder"/> accepts (each recognised by its magic bytes).</summary>
public enum ImageFormat
{
    /// <summary>PNG (ISO/IEC 15948).</summary>
    Png,

    /// <summary>Baseline or progressive Huffman JPEG (ITU T.81), 8-bit.</summary>
    Jpeg,

    /// <summary>Uncompressed or bit-field Windows BMP.</summary>
    Bmp,
}

/// <summary>
/// A strict header parser that runs before StbImageSharp sees any byte: it identifies the format by its magic,
/// walks the whole container structure (PNG chunks, JPEG marker segments and scans, BMP headers) with every loop
/// bounded by the buffer length, and refuses declared sizes above <see cref="ImageLimits"/> or larger than the file
/// can hold. Only what passes is handed to the decoder, so the decoder's own allocations are bounded by the checked
/// dimensions and its loops by the (checked) structure.
/// </summary>
internal readonly record struct ImageHeader(ImageFormat Format, int Width, int Height)
{
    private static ReadOnlySpan<byte> PngMagic => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Parses and checks <paramref name="data"/>; throws <see cref="InvalidDataException"/> naming <paramref name="source"/>.</summary>
    public static ImageHeader Parse(ReadOnlySpan<byte> data, ImageLimits limits, string source)
    {
        if (data.Length > limits.MaxBytes)
            throw Bad(source, $"has {data.Length} bytes, above the {limits.MaxBytes}-byte limit");
        ImageHeader header;
        if (data.StartsWith(PngMagic)) header = PngStructure.Check(data, limits, source);
        else if (data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) header = JpegStructure.Check(data, limits, source);
        else if (data.Length >= 2 && data[0] == (byte)'B' && data[1] == (byte)'M') header = Bmp(data, source);
        else throw Bad(source, "is not a PNG, JPEG or BMP image");
        if ((long)header.Width * header.Height > limits.MaxPixels)
            throw Bad(source, $"declares {header.Width}x{header.Height} pixels, above the {limits.MaxPixels}-pixel limit");
        return header;
    }

    internal static InvalidDataException Bad(string source, string why) => new($"ImageDecoder.Decode: '{source}' {why}");

    // BITMAPFILEHEADER (14 bytes) then an info header of 12 (OS/2: int16 sizes) or 40..124 bytes (int32 sizes).
    private static ImageHeader Bmp(ReadOnlySpan<byte> d, string source)
    {
        if (d.Length < 26) throw Bad(source, "ends inside the BMP headers");
        uint offset = BinaryPrimitives.ReadUInt32LittleEndian(d[10..]);
        uint infoSize = BinaryPrimitives.ReadUInt32LittleEndian(d[14..]);
        long width, height;
        int bpp, compression = 0;
        if (infoSize == 12)
        {
            width = BinaryPrimitives.ReadInt16LittleEndian(d[18..]);
            height = BinaryPrimitives.ReadInt16LittleEndian(d[20..]);
            bpp = BinaryPrimitives.ReadUInt16LittleEndian(d[24..]);
        }
        else if (infoSize is 40 or 52 or 56 or 108 or 124)
        {
            if (d.Length < 14 + 40) throw Bad(source, "ends inside the BMP info header");
            width = BinaryPrimitives.ReadInt32LittleEndian(d[18..]);
            height = BinaryPrimitives.ReadInt32LittleEndian(d[22..]);
            bpp = BinaryPrimitives.ReadUInt16LittleEndian(d[28..]);
            compression = BinaryPrimitives.ReadInt32LittleEndian(d[30..]);
        }
        else throw Bad(source, $"has a BMP info header of {infoSize} bytes (12, 40, 52, 56, 108 or 124 expected)");
        height = Math.Abs(height); // negative: rows stored top-down
        if (width <= 0 || height <= 0 || width > int.MaxValue || height > int.MaxValue)
            throw Bad(source, $"declares a {width}x{height} BMP");
        if (bpp is not (1 or 4 or 8 or 16 or 24 or 32)) throw Bad(source, $"has {bpp} bits per pixel (1, 4, 8, 16, 24 or 32 expected)");
        // 0 = BI_RGB, 3 = BI_BITFIELDS: the only ones StbImageSharp decodes (no RLE).
        if (compression is not (0 or 3)) throw Bad(source, $"uses BMP compression {compression} (only uncompressed and bit fields are read)");
        // Rows are padded to 4 bytes; the pixels must all be in the file, so the file's own length bounds the decode.
        long rowBytes = (width * bpp + 31) / 32 * 4;
        if (offset < 14 + infoSize || offset > d.Length || rowBytes > (d.Length - offset) / height)
            throw Bad(source, $"declares {width}x{height}x{bpp}-bit pixels at offset {offset}, more than its {d.Length} bytes hold");
        return new ImageHeader(ImageFormat.Bmp, (int)width, (int)height);
    }
}
