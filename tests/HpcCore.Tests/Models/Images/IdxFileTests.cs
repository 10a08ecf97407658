// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// IDX parsing of untrusted files: well-formed round trips, every malformed header rejected before allocation,
// and random corruptions only ever raise InvalidDataException.
namespace HpcCore.Tests.Models.Images;

using System.Buffers.Binary;
using System.IO.Compression;
using HpcCore.Models.Images;
using Xunit;

public sealed class IdxFileTests
{
    internal static byte[] Idx(byte type, params int[] dims)
    {
        long count = dims.Aggregate(1L, (a, d) => a * d);
        var bytes = new byte[4 + 4 * dims.Length + count];
        bytes[2] = type;
        bytes[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        for (long i = 0; i < count; i++) bytes[4 + 4 * dims.Length + i] = (byte)(i * 7 + 3);
        return bytes;
    }

    [Theory]
    [InlineData(new[] { 5 })]
    [InlineData(new[] { 3, 2, 7 })]
    [InlineData(new[] { 1, 1, 1, 1 })]
    [InlineData(new[] { 0, 28, 28 })]
    public void Read_WellFormed_RoundTrips(int[] dims)
    {
        var bytes = Idx(0x08, dims);
        var f = IdxFile.Read(new MemoryStream(bytes));
        Assert.Equal(dims, f.Dims);
        Assert.Equal(bytes[(4 + 4 * dims.Length)..], f.Data);
    }

    [Fact]
    public void Read_Gzip_FromDisk()
    {
        string path = Path.Combine(Path.GetTempPath(), $"idx-{Guid.NewGuid():N}-images-idx3-ubyte.gz");
        var bytes = Idx(0x08, 2, 3, 3);
        try
        {
            using (var gz = new GZipStream(File.Create(path), CompressionLevel.Fastest)) gz.Write(bytes);
            var f = IdxFile.Read(path);
            Assert.Equal([2, 3, 3], f.Dims);
            Assert.Equal(bytes[16..], f.Data);
        }
        finally
        {
            File.Delete(path);
        }
    }

    public static TheoryData<string, byte[]> Malformed()
    {
        var data = new TheoryData<string, byte[]>();
        var ok = Idx(0x08, 2, 3);
        var magic = (byte[])ok.Clone();
        magic[0] = 1;
        data.Add("two zero bytes", magic);
        data.Add("0x0d", Idx(0x0D, 2));
        var rank0 = (byte[])ok.Clone();
        rank0[3] = 0;
        data.Add("rank 0", rank0);
        var rank9 = (byte[])ok.Clone();
        rank9[3] = 9;
        data.Add("rank 9", rank9);
        var huge = (byte[])ok.Clone();
        BinaryPrimitives.WriteUInt32BigEndian(huge.AsSpan(4), 0xFFFFFFFF);
        data.Add("above the limit", huge);
        var product = Idx(0x08, 1, 1, 1);
        BinaryPrimitives.WriteInt32BigEndian(product.AsSpan(4), 1 << 20);
        BinaryPrimitives.WriteInt32BigEndian(product.AsSpan(8), 1 << 20);
        data.Add("more than", product);
        data.Add("inside the data", ok[..^1]);
        data.Add("inside the header", ok[..3]);
        data.Add("inside the dimensions", ok[..9]);
        data.Add("bytes after", [.. ok, 0]);
        return data;
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Read_Malformed_ThrowsNamingTheProblem(string expected, byte[] bytes)
    {
        var ex = Assert.Throws<InvalidDataException>(() => IdxFile.Read(new MemoryStream(bytes), "test.idx"));
        Assert.Contains("IdxFile.Read", ex.Message);
        Assert.Contains("test.idx", ex.Message);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void Read_RandomCorruptions_OnlyThrowInvalidData()
    {
        var ok = Idx(0x08, 4, 5, 5);
        var rng = new Random(1234);
        int rejected = 0;
        for (int trial = 0; trial < 2000; trial++)
        {
            var bytes = (byte[])ok.Clone();
            int flips = 1 + rng.Next(4);
            for (int f = 0; f < flips; f++) bytes[rng.Next(Math.Min(bytes.Length, 24))] = (byte)rng.Next(256);
            if (rng.Next(4) == 0) bytes = bytes[..rng.Next(bytes.Length)];
            try
            {
                var file = IdxFile.Read(new MemoryStream(bytes));
                Assert.Equal(file.Dims.Aggregate(1L, (a, d) => a * d), file.Data.LongLength);
            }
            catch (InvalidDataException)
            {
                rejected++;
            }
        }
        Assert.InRange(rejected, 1, 2000);
    }

    [Fact]
    public void ImageSet_CountMismatch_Throws()
    {
        var images = IdxFile.Read(new MemoryStream(Idx(0x08, 3, 2, 2)));
        var labels = IdxFile.Read(new MemoryStream(Idx(0x08, 4)));
        var ex = Assert.Throws<InvalidDataException>(() => ImageSet.FromIdx(images, labels, "set"));
        Assert.Contains("3 images", ex.Message);
        var set = ImageSet.FromIdx(images, IdxFile.Read(new MemoryStream(Idx(0x08, 3))));
        Assert.Equal(3, set.Count);
        Assert.Equal(images.Data[4..8], set.Image(1).ToArray());
        Assert.Equal(labels.Data[2], set.Label(2));
    }
}
