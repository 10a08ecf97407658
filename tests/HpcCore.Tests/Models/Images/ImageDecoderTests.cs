// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// PNG input: a hand-built PNG (stored zlib blocks, CRC-32 computed here) decodes to the expected normalised values;
// garbage and truncated files raise InvalidDataException.
namespace HpcCore.Tests.Models.Images;

using System.Buffers.Binary;
using System.IO.Compression;
using HpcCore.Models.Images;
using HpcCore.Models.Vit;
using HpcCore.Testing;
using Xunit;

public sealed class ImageDecoderTests
{
    private static readonly VitConfig Grey4 = new(4, 2, 1, 8, 1, 2, 8, 3, 1e-6f, [0.5f], [0.25f]);

    internal static byte[] GreyPng(int w, int h, byte[] pixels)
    {
        var raw = new MemoryStream();
        for (int y = 0; y < h; y++)
        {
            raw.WriteByte(0); // filter: none
            raw.Write(pixels, y * w, w);
        }
        var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true)) zs.Write(raw.ToArray());
        var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, w);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), h);
        ihdr[8] = 8; // bit depth; colour type 0 (grey)
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "IDAT", z.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(len, data.Length);
        s.Write(len);
        var body = System.Text.Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        s.Write(body);
        BinaryPrimitives.WriteUInt32BigEndian(len, Crc32(body));
        s.Write(len);
    }

    private static uint Crc32(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (uint)-(int)(crc & 1));
        }
        return ~crc;
    }

    [Fact]
    public void Decode_Png_SameSize_Normalises()
    {
        var pixels = Enumerable.Range(0, 16).Select(i => (byte)(i * 16)).ToArray();
        var dest = new float[16];
        ImageDecoder.Decode(GreyPng(4, 4, pixels), Grey4, dest, "grey.png");
        var expected = pixels.Select(p => (p / 255.0 - 0.5) / 0.25).ToArray();
        TensorAssert.Close(expected, dest, Tolerance.F32Elementwise, "normalised PNG");
    }

    [Fact]
    public void DecodePixels_Png_ReturnsTheStoredBytes_AndRefusesOddChannelCounts()
    {
        var pixels = Enumerable.Range(0, 15).Select(i => (byte)(i * 17)).ToArray();
        var (decoded, width, height) = ImageDecoder.DecodePixels(GreyPng(5, 3, pixels), channels: 1, "grey.png");
        Assert.Equal((5, 3), (width, height));
        Assert.Equal(pixels, decoded);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ImageDecoder.DecodePixels(GreyPng(5, 3, pixels), channels: 2));
        Assert.Contains("ImageDecoder.DecodePixels", e.Message);
        Assert.Throws<InvalidDataException>(() => ImageDecoder.DecodePixels([1, 2, 3, 4, 5, 6, 7, 8, 9], channels: 1, "junk"));
    }

    [Fact]
    public void Decode_Png_Downscale2x_AveragesPairs()
    {
        // 8x8 -> 4x4: each output pixel centre falls between two source pixels in each axis (bilinear = 2x2 mean).
        var pixels = Enumerable.Range(0, 64).Select(i => (byte)(i * 3)).ToArray();
        var dest = new float[16];
        ImageDecoder.Decode(GreyPng(8, 8, pixels), Grey4, dest);
        var expected = new double[16];
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 4; x++)
            {
                double m = (pixels[(2 * y) * 8 + 2 * x] + pixels[(2 * y) * 8 + 2 * x + 1] + pixels[(2 * y + 1) * 8 + 2 * x] + pixels[(2 * y + 1) * 8 + 2 * x + 1]) / 4.0;
                expected[y * 4 + x] = (m / 255.0 - 0.5) / 0.25;
            }
        TensorAssert.Close(expected, dest, Tolerance.F32Elementwise, "downscaled PNG");
    }

    [Fact]
    public void Decode_Garbage_Throws()
    {
        var dest = new float[16];
        Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, Grey4, dest, "junk"));
        var png = GreyPng(4, 4, new byte[16]);
        var rng = new Random(5);
        for (int trial = 0; trial < 200; trial++)
        {
            var bad = png[..rng.Next(8, png.Length - 12)];
            try
            {
                ImageDecoder.Decode(bad, Grey4, dest, "truncated");
            }
            catch (InvalidDataException)
            {
            }
        }
    }
}
