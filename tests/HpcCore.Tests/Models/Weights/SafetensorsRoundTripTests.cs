// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Writer -> file -> reader round trips: every dtype, odd shapes (scalars, zero-size, rank 8), metadata, views.
using System.Text;

namespace HpcCore.Tests.Models.Weights;

using HpcCore.Cpu;
using HpcCore.Models.Weights;
using HpcCore.Tensors;
using Xunit;

public sealed class SafetensorsRoundTripTests : IDisposable
{
    private readonly CpuBackend _backend = new(threads: 1);
    private readonly TempFolder _folder = new();

    public static TheoryData<DType> AllDTypes => [DType.F32, DType.F16, DType.BF16, DType.I32, DType.I64, DType.U8, DType.Bool];

    // Scalar, zero-size in several positions, odd sizes, and the maximum rank.
    private static readonly int[][] OddShapes =
    [
        [], [0], [1], [7], [3, 5], [2, 0, 3], [31, 33], [1, 1, 1, 1, 1, 1, 1, 2], [2, 3, 1, 2, 1, 3, 1, 2], [5, 0],
    ];

    public void Dispose()
    {
        _folder.Dispose();
        _backend.Dispose();
    }

    [Theory]
    [MemberData(nameof(AllDTypes))]
    public void RoundTrip_EveryOddShape_PreservesShapeDTypeAndBytes(DType dtype)
    {
        var expected = new Dictionary<string, byte[]>();
        var tensors = new List<KeyValuePair<string, Tensor>>();
        try
        {
            for (int i = 0; i < OddShapes.Length; i++)
            {
                var shape = new Shape(OddShapes[i]);
                byte[] bytes = SafetensorsTestFiles.RandomBytes(dtype, shape.ElementCount, seed: 100 * i + (int)dtype);
                string name = $"t{i}.{dtype}";
                expected[name] = bytes;
                tensors.Add(new(name, Tensor.FromBytes(bytes, shape, dtype, _backend)));
            }
            string path = _folder.File($"{dtype}.safetensors");
            SafetensorsWriter.Write(path, tensors);

            using var reader = SafetensorsReader.Open(path);
            Assert.Equal(OddShapes.Length, reader.Entries.Count);
            Assert.Empty(reader.Metadata);
            for (int i = 0; i < OddShapes.Length; i++)
            {
                string name = $"t{i}.{dtype}";
                var entry = reader.GetEntry(name);
                Assert.Equal(dtype, entry.DType);
                Assert.Equal(new Shape(OddShapes[i]), entry.Shape);
                Assert.Equal(expected[name].Length, entry.ByteLength);
                Assert.Equal(expected[name], reader.GetBytes(name).ToArray());
                using var loaded = reader.Load(name, _backend);
                Assert.Equal(new Shape(OddShapes[i]), loaded.Shape);
                Assert.Equal(dtype, loaded.DType);
                Assert.Equal(expected[name], SafetensorsTestFiles.Bytes(loaded));
            }
        }
        finally
        {
            foreach (var (_, t) in tensors) t.Dispose();
        }
    }

    [Fact]
    public void RoundTrip_MixedDTypes_OrdersBySizeThenNameAndAlignsEveryTensor()
    {
        var tensors = new List<KeyValuePair<string, Tensor>>();
        try
        {
            // Odd byte counts (U8 [3], BF16 [5]) would misalign everything after them in insertion order.
            tensors.Add(new("z.u8", Tensor.FromBytes([1, 2, 3], new Shape(3), DType.U8, _backend)));
            tensors.Add(new("a.bf16", Tensor.FromBytes(new byte[10], new Shape(5), DType.BF16, _backend)));
            tensors.Add(new("m.i64", Tensor.From<long>([long.MinValue, -1, long.MaxValue], new Shape(3), _backend)));
            tensors.Add(new("b.f32", Tensor.From<float>([1.5f, float.NaN, float.NegativeInfinity], new Shape(3), _backend)));
            tensors.Add(new("a.f32", Tensor.From<float>([2.5f], new Shape(), _backend)));
            tensors.Add(new("flag", Tensor.From<bool>([true, false], new Shape(2), _backend)));
            string path = _folder.File("mixed.safetensors");
            SafetensorsWriter.Write(path, tensors);

            using var reader = SafetensorsReader.Open(path);
            Assert.Equal(["m.i64", "a.f32", "b.f32", "a.bf16", "flag", "z.u8"], reader.Entries.Select(e => e.Name));
            Assert.Equal(0, reader.DataStart % 8);
            foreach (var e in reader.Entries)
                Assert.Equal(0, (reader.DataStart + e.DataOffset) % e.DType.SizeInBytes());

            using var i64 = reader.Load("m.i64", _backend);
            Assert.Equal([long.MinValue, -1, long.MaxValue], i64.ToArray<long>());
            using var f32 = reader.Load("b.f32", _backend);
            var f = f32.ToArray<float>();
            Assert.Equal(1.5f, f[0]);
            Assert.True(float.IsNaN(f[1]));
            Assert.Equal(float.NegativeInfinity, f[2]);
            using var scalar = reader.Load("a.f32", _backend);
            Assert.Equal(0, scalar.Rank);
            Assert.Equal([2.5f], scalar.ToArray<float>());
            using var flag = reader.Load("flag", _backend);
            Assert.Equal([true, false], flag.ToArray<bool>());
        }
        finally
        {
            foreach (var (_, t) in tensors) t.Dispose();
        }
    }

    [Fact]
    public void RoundTrip_Metadata_PreservesEveryStringIncludingEscapes()
    {
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["empty"] = string.Empty,
            ["quote\"and\\slash"] = "line\nbreak\ttab \u0001 control",
            ["unicode-é-世界"] = "emoji 🙂 and <html> & a+b",
        };
        using var t = Tensor.From<int>([1, 2, 3], new Shape(3), _backend);
        string path = _folder.File("meta.safetensors");
        SafetensorsWriter.Write(path, [new("x", t)], metadata);

        using var reader = SafetensorsReader.Open(path);
        Assert.Equal(metadata.OrderBy(p => p.Key, StringComparer.Ordinal), reader.Metadata.OrderBy(p => p.Key, StringComparer.Ordinal));
        // Relaxed escaping keeps non-ASCII readable in the header, as the reference writer does.
        string header = Encoding.UTF8.GetString(File.ReadAllBytes(path), 8, (int)reader.HeaderLength);
        Assert.Contains("世界", header, StringComparison.Ordinal);
        Assert.StartsWith("{\"__metadata__\":{", header, StringComparison.Ordinal);
    }

    [Fact]
    public void RoundTrip_NoTensorsWithEmptyMetadata_IsValid()
    {
        string path = _folder.File("empty.safetensors");
        SafetensorsWriter.Write(path, [], new Dictionary<string, string>());
        using var reader = SafetensorsReader.Open(path);
        Assert.Empty(reader.Entries);
        Assert.Empty(reader.Metadata);
        Assert.Equal(reader.DataStart, new FileInfo(path).Length);
    }

    [Fact]
    public void Write_StridedView_WritesRowMajorValues()
    {
        using var t = Tensor.From<float>([1, 2, 3, 4, 5, 6], new Shape(2, 3), _backend);
        using var transposed = t.Transpose(0, 1); // [3, 2] view, strides (1, 3)
        using var narrowed = t.Narrow(1, 1, 2);   // [2, 2] view, offset 1
        string path = _folder.File("views.safetensors");
        SafetensorsWriter.Write(path, [new("tt", transposed), new("nn", narrowed)]);

        using var reader = SafetensorsReader.Open(path);
        using var tt = reader.Load("tt", _backend);
        Assert.Equal(new Shape(3, 2), tt.Shape);
        Assert.Equal([1f, 4, 2, 5, 3, 6], tt.ToArray<float>());
        using var nn = reader.Load("nn", _backend);
        Assert.Equal([2f, 3, 5, 6], nn.ToArray<float>());
    }

    [Fact]
    public void Write_Stream_ProducesTheSameBytesAsTheFileOverload()
    {
        using var a = Tensor.From<Half>([(Half)1, (Half)(-2)], new Shape(2), _backend);
        using var b = Tensor.From<byte>([9], new Shape(1, 1), _backend);
        var meta = new Dictionary<string, string> { ["k"] = "v" };
        string path = _folder.File("s.safetensors");
        SafetensorsWriter.Write(path, [new("a", a), new("b", b)], meta);
        using var stream = new MemoryStream();
        stream.WriteByte(0xAA); // the file starts at the stream's current position
        SafetensorsWriter.Write(stream, [new("b", b), new("a", a)], meta);
        Assert.Equal(File.ReadAllBytes(path), stream.ToArray()[1..]);

        using var reader = SafetensorsReader.FromBytes(stream.ToArray().AsMemory(1), "stream");
        using var loaded = reader.Load("a", _backend);
        Assert.Equal([(Half)1, (Half)(-2)], loaded.ToArray<Half>());
    }

    [Fact]
    public void Write_RejectsDuplicateReservedNullAndDisposed()
    {
        using var t = Tensor.From<int>([1], new Shape(1), _backend);
        var disposed = Tensor.From<int>([1], new Shape(1), _backend);
        disposed.Dispose();
        using var stream = new MemoryStream();
        Assert.Contains("'x' appears twice", Assert.Throws<ArgumentException>(
            () => SafetensorsWriter.Write(stream, [new("x", t), new("x", t)])).Message, StringComparison.Ordinal);
        Assert.Contains("reserved", Assert.Throws<ArgumentException>(
            () => SafetensorsWriter.Write(stream, [new("__metadata__", t)])).Message, StringComparison.Ordinal);
        Assert.Contains("disposed", Assert.Throws<ArgumentException>(
            () => SafetensorsWriter.Write(stream, [new("d", disposed)])).Message, StringComparison.Ordinal);
        Assert.Equal(0, stream.Length);
    }

    [Fact]
    public void Write_OverAMappedFile_LeavesLoadedTensorsIntact()
    {
        string path = _folder.File("replace.safetensors");
        using (var v1 = Tensor.From<float>([1, 2, 3], new Shape(3), _backend))
            SafetensorsWriter.Write(path, [new("w", v1)]);
        using var reader = SafetensorsReader.Open(path);
        using var old = reader.Load("w", _backend);

        // The writer renames a new file over the old one instead of truncating the mapped inode.
        using (var v2 = Tensor.From<float>([7, 8, 9, 10], new Shape(4), _backend))
            SafetensorsWriter.Write(path, [new("w", v2)]);

        Assert.Equal([1f, 2, 3], old.ToArray<float>());
        using var fresh = SafetensorsReader.Open(path);
        using var now = fresh.Load("w", _backend);
        Assert.Equal([7f, 8, 9, 10], now.ToArray<float>());
        Assert.Single(Directory.GetFiles(_folder.Path)); // no temporary file left behind
    }
}
