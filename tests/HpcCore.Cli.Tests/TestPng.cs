// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Tests;

using System.IO.Compression;

/// <summary>PNG files written with exact pixels, for the commands that read images (`vit classify`, `vlm ask --image`).</summary>
internal static class TestPng
{
    // A grey 8-bit PNG: signature, IHDR, one zlib IDAT of filter-0 rows, IEND (CRC-32 per chunk).
    public static byte[] Grey(int w, int h, byte[] pixels)
    {
        var raw = new MemoryStream();
        for (int y = 0; y < h; y++)
        {
            raw.WriteByte(0);
            raw.Write(pixels, y * w, w);
        }
        var z = new MemoryStream();
        using (var zlib = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true)) zlib.Write(raw.ToArray());
        byte[] ihdr = [.. BigEndian(w), .. BigEndian(h), 8, 0, 0, 0, 0];
        var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "IDAT", z.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static byte[] BigEndian(int v) => [(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v];

    private static void Chunk(Stream s, string type, byte[] data)
    {
        s.Write(BigEndian(data.Length));
        byte[] body = [.. type.Select(c => (byte)c), .. data];
        s.Write(body);
        s.Write(BigEndian((int)Crc32(body)));
    }

    private static uint Crc32(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }
}
