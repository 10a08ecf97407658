// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Untrusted images and IDX files (issue #21): truncated headers end quickly, declared sizes are bounded by the limits
// and by what the file holds before anything large is allocated, and every failure is an InvalidDataException.
namespace HpcCore.Tests.Models.Images;

using System.Buffers.Binary;
using System.IO.Compression;
using HpcCore.Models.Images;
using HpcCore.Models.Vit;
using Xunit;

public sealed class ImageHardeningTests
{
    private static readonly VitConfig Grey4 = new(4, 2, 1, 8, 1, 2, 8, 3, 1e-6f, [0.5f], [0.25f]);

    // Runs `decode` on a worker thread; fails the test (instead of hanging the run) when it takes over 10 s, and
    // returns the exception and the bytes the worker allocated.
    private static (Exception? Error, long Allocated) Bounded(Action decode)
    {
        Exception? error = null;
        long allocated = 0;
        var worker = new Thread(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                decode();
            }
            catch (Exception e)
            {
                error = e;
            }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }) { IsBackground = true };
        worker.Start();
        Assert.True(worker.Join(TimeSpan.FromSeconds(10)), "the decode did not finish within 10 s");
        return (error, allocated);
    }

    private static byte[] Png(int w, int h, byte[] idat)
    {
        var png = ImageDecoderTests.GreyPng(1, 1, [0]);
        // Replace IHDR's size and the IDAT payload, keeping the structure (CRCs are not checked by the decoder).
        var head = png[..33];
        BinaryPrimitives.WriteInt32BigEndian(head.AsSpan(16), w);
        BinaryPrimitives.WriteInt32BigEndian(head.AsSpan(20), h);
        var ms = new MemoryStream();
        ms.Write(head);
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(len, idat.Length);
        ms.Write(len);
        ms.Write("IDAT"u8);
        ms.Write(idat);
        ms.Write(stackalloc byte[4]);
        ms.Write([0, 0, 0, 0, .. "IEND"u8, 0xAE, 0x42, 0x60, 0x82]);
        return ms.ToArray();
    }

    private static byte[] Zlib(byte[] raw)
    {
        var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true)) zs.Write(raw);
        return z.ToArray();
    }

    [Fact]
    public void TruncatedJfif_EndsWithInvalidData()
    {
        // Looped forever in the size probe in front of StbImageSharp (issue #21).
        var (error, _) = Bounded(() => ImageDecoder.Decode(new byte[] { 0xFF, 0xD8, 0xFF, 0xE0, 0x08, 0x10 }, Grey4, new float[16], "jfif"));
        var ex = Assert.IsType<InvalidDataException>(error);
        Assert.Contains("jfif", ex.Message);
    }

    [Fact]
    public void Png_DeclaringAHugeImage_IsRefusedBeforeAllocating()
    {
        // 4096 x 4096 grey passes the pixel limit, but its 20-byte zlib stream holds one row: refused without the 16 MB.
        var big = Png(4096, 4096, Zlib(new byte[4097]));
        var (error, allocated) = Bounded(() => ImageDecoder.Decode(big, Grey4, new float[16], "big.png"));
        var ex = Assert.IsType<InvalidDataException>(error);
        Assert.Contains("IHDR implies", ex.Message);
        Assert.InRange(allocated, 0, 4 << 20);
    }

    [Fact]
    public void Png_DeflateBomb_IsRefusedWithoutInflatingIt()
    {
        // A 4x4 image whose pixel stream inflates to 32 MB: StbImageSharp would grow its buffer to hold all of it.
        var bomb = Png(4, 4, Zlib(new byte[32 << 20]));
        var (error, allocated) = Bounded(() => ImageDecoder.Decode(bomb, Grey4, new float[16], "bomb.png"));
        var ex = Assert.IsType<InvalidDataException>(error);
        Assert.Contains("more than", ex.Message);
        Assert.InRange(allocated, 0, 4 << 20);
    }

    [Fact]
    public void Png_ZlibStreamThatZlibRejectsAsIOException_IsInvalidData()
    {
        // Found by ./build.sh fuzz: ZLibException (an IOException) escaped the inflate check.
        var png = Convert.FromHexString("89504e470d0a1a0a0000000d4948445200000009000000070100000000f2e05acd000000124944415478f91e338b862f43d174c63d0f01349806c1309f024e0000000049454e44ae426082");
        Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(png, Grey4, new float[16], "zlib.png"));
    }

    [Fact]
    public void Png_AboveTheConfiguredPixelLimit_IsRefused()
    {
        var png = ImageDecoderTests.GreyPng(4, 4, new byte[16]);
        ImageDecoder.Decode(png, Grey4, new float[16], "ok.png", new ImageLimits(MaxPixels: 16));
        var ex = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(png, Grey4, new float[16], "ok.png", new ImageLimits(MaxPixels: 15)));
        Assert.Contains("15-pixel limit", ex.Message);
        Assert.Equal((ImageFormat.Png, 4, 4), ImageDecoder.Probe(png));
    }

    [Fact]
    public void Jpeg_DeclaringAHugeFrameWithNoData_IsRefused()
    {
        // SOI, SOF0 4000x4000 grey, SOS, 8 bytes of "coded data", EOI.
        byte[] jpeg = [0xFF, 0xD8, 0xFF, 0xC0, 0, 11, 8, 0x0F, 0xA0, 0x0F, 0xA0, 1, 1, 0x11, 0,
            0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 63, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0xFF, 0xD9];
        var (error, allocated) = Bounded(() => ImageDecoder.Decode(jpeg, Grey4, new float[16], "big.jpg"));
        var ex = Assert.IsType<InvalidDataException>(error);
        Assert.Contains("coded data", ex.Message);
        Assert.InRange(allocated, 0, 1 << 20);
    }

    [Fact]
    public void Bmp_DeclaringMorePixelsThanItHolds_IsRefused()
    {
        var bmp = new byte[54 + 16];
        bmp[0] = (byte)'B';
        bmp[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(18), 4000);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(22), 4000);
        BinaryPrimitives.WriteInt16LittleEndian(bmp.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(bmp.AsSpan(28), 24);
        var (error, allocated) = Bounded(() => ImageDecoder.Decode(bmp, Grey4, new float[16], "big.bmp"));
        var ex = Assert.IsType<InvalidDataException>(error);
        Assert.Contains("more than its 70 bytes hold", ex.Message);
        Assert.InRange(allocated, 0, 1 << 20);
        // The same header with its 2x2 pixels present decodes.
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(18), 2);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(22), 2);
        ImageDecoder.Decode(bmp, Grey4, new float[16], "small.bmp");
    }

    private static byte[] IdxHeader(params uint[] dims)
    {
        var b = new byte[4 + 4 * dims.Length];
        b[2] = 0x08;
        b[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4 + 4 * i), dims[i]);
        return b;
    }

    [Fact]
    public void Idx_HeaderAlone_DoesNotAllocateTheDeclaredData()
    {
        // 16 bytes declaring [100000, 28, 28]: 78 MB were allocated before the data was read.
        var header = IdxHeader(100_000, 28, 28);
        var (error, allocated) = Bounded(() => IdxFile.Read(new MemoryStream(header), "head.idx"));
        Assert.Contains("ends inside the data", Assert.IsType<InvalidDataException>(error).Message);
        Assert.InRange(allocated, 0, 1 << 20);

        var gz = new MemoryStream();
        using (var z = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true)) z.Write(header);
        gz.Position = 0;
        (error, allocated) = Bounded(() => IdxFile.Read(new GZipStream(gz, CompressionMode.Decompress), "head.idx.gz"));
        Assert.Contains("ends inside the data", Assert.IsType<InvalidDataException>(error).Message);
        Assert.InRange(allocated, 0, 4 << 20);
    }
}
