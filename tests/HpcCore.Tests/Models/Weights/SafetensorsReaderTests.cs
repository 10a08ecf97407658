// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Reader behaviour beyond the format: zero-copy loads, lifetimes, the copy paths, copy-on-write, lookups.
namespace HpcCore.Tests.Models.Weights;

using HpcCore.Cpu;
using HpcCore.Models.Weights;
using HpcCore.Tensors;
using Xunit;

public sealed unsafe class SafetensorsReaderTests : IDisposable
{
    private readonly CpuBackend _backend = new(threads: 1);
    private readonly TempFolder _folder = new();

    public void Dispose()
    {
        _folder.Dispose();
        _backend.Dispose();
    }

    [Fact]
    public void Load_OnCpuBackend_IsAZeroCopyViewOfTheMapping()
    {
        string path = WriteSample();
        using var reader = SafetensorsReader.Open(path);
        long fresh = _backend.Memory.FreshAllocations, live = _backend.Memory.LiveBuffers;

        using var w = reader.Load("w", _backend);
        using var bias = reader.Load("bias", _backend);

        Assert.Equal(fresh, _backend.Memory.FreshAllocations);
        Assert.Equal(live, _backend.Memory.LiveBuffers);
        var storage = Assert.IsType<CpuStorage>(w.Storage);
        var entry = reader.GetEntry("w");
        Assert.True(storage.Pointer == reader.MappedDataPointer + entry.DataOffset);
        Assert.Equal(entry.ByteLength, storage.ByteLength);
        fixed (byte* span = reader.GetBytes("w"))
            Assert.True(storage.Pointer == span);
        Assert.Equal(Sample(), w.ToArray<float>());
        Assert.Equal([0.5f, -0.5f, 0.25f], bias.ToArray<float>());
    }

    [Fact]
    public void Load_TensorOutlivesTheReader()
    {
        string path = WriteSample();
        Tensor w;
        Tensor view;
        using (var reader = SafetensorsReader.Open(path))
        {
            w = reader.Load("w", _backend);
            view = w.Narrow(0, 1, 2);
        }
        using (w)
        {
            Assert.Equal(Sample(), w.ToArray<float>());
        }
        // The storage's last view keeps the mapping alive after the tensor it came from is gone.
        using (view)
        {
            Assert.Equal(Sample()[5..15], view.ToArray<float>());
        }
        Assert.True(view.Storage.IsReleased);
    }

    [Fact]
    public void Dispose_ThenUse_ThrowsObjectDisposedButLookupsStillWork()
    {
        var reader = SafetensorsReader.Open(WriteSample());
        reader.Dispose();
        reader.Dispose();
        Assert.True(reader.IsDisposed);
        Assert.True(reader.Contains("w"));
        Assert.Throws<ObjectDisposedException>(() => reader.Load("w", _backend));
        Assert.Throws<ObjectDisposedException>(() => reader.GetBytes("w").Length);
    }

    [Fact]
    public void Load_FromBytes_CopiesIntoPooledMemory()
    {
        byte[] file = File.ReadAllBytes(WriteSample());
        using var reader = SafetensorsReader.FromBytes(file, "in-memory");
        long live = _backend.Memory.LiveBuffers;
        using var w = reader.Load("w", _backend);
        Assert.Equal(live + 1, _backend.Memory.LiveBuffers);
        Assert.Equal(Sample(), w.ToArray<float>());
        // A copy: changing it leaves the source buffer alone.
        w.AsSpan<float>()[0] = 1234f;
        using var again = reader.Load("w", _backend);
        Assert.Equal(Sample()[0], again.ToArray<float>()[0]);
    }

    [Fact]
    public void Load_MisalignedData_FallsBackToACopy()
    {
        // A 9-byte header (legal: the format does not require padding) puts the F32 data at file offset 17.
        string json = "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        byte[] data = [.. BitConverter.GetBytes(1.5f), .. BitConverter.GetBytes(-3f)];
        byte[] file = SafetensorsTestFiles.Build(json, data);
        Assert.NotEqual(0, (8 + json.Length) % 4);
        string path = _folder.File("misaligned.safetensors");
        File.WriteAllBytes(path, file);

        using var reader = SafetensorsReader.Open(path);
        long live = _backend.Memory.LiveBuffers;
        using var x = reader.Load("x", _backend);
        Assert.Equal(live + 1, _backend.Memory.LiveBuffers);
        Assert.Equal([1.5f, -3f], x.ToArray<float>());
    }

    [Fact]
    public void Load_WritingIntoAZeroCopyTensor_NeverReachesTheFile()
    {
        string path = WriteSample();
        byte[] before = File.ReadAllBytes(path);
        using (var reader = SafetensorsReader.Open(path))
        using (var w = reader.Load("w", _backend))
        {
            // Undefined by contract, but copy-on-write pages make it private to this process instead of a crash.
            w.AsSpan<float>().Fill(42f);
            Assert.All(w.ToArray<float>(), v => Assert.Equal(42f, v));
        }
        Assert.Equal(before, File.ReadAllBytes(path));
        using var reopened = SafetensorsReader.Open(path);
        using var fresh = reopened.Load("w", _backend);
        Assert.Equal(Sample(), fresh.ToArray<float>());
    }

    [Fact]
    public void Lookups_UnknownNameThrowsKeyNotFoundNamingFileAndTensor()
    {
        string path = WriteSample();
        using var reader = SafetensorsReader.Open(path);
        Assert.False(reader.Contains("nope"));
        Assert.False(reader.TryGetEntry("nope", out _));
        Assert.True(reader.TryGetEntry("bias", out var bias));
        Assert.Equal(new Shape(3), bias.Shape);
        var e = Assert.Throws<KeyNotFoundException>(() => reader.Load("nope", _backend));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("'nope'", e.Message, StringComparison.Ordinal);
        Assert.Equal(path, reader.Source);
    }

    [Fact]
    public void Open_MissingFile_IsAnIOExceptionNotAFormatError()
    {
        Assert.Throws<FileNotFoundException>(() => SafetensorsReader.Open(_folder.File("absent.safetensors")));
    }

    [Fact]
    public void Load_ManyThreads_ShareOneMapping()
    {
        using var reader = SafetensorsReader.Open(WriteSample());
        Parallel.For(0, 64, _ =>
        {
            using var w = reader.Load("w", _backend);
            Assert.Equal(Sample(), w.ToArray<float>());
        });
    }

    private static float[] Sample() => [.. Enumerable.Range(0, 20).Select(i => i * 0.5f - 3f)];

    private string WriteSample()
    {
        string path = _folder.File("sample.safetensors");
        using var w = Tensor.From<float>(Sample(), new Shape(4, 5), _backend);
        using var b = Tensor.From<float>([0.5f, -0.5f, 0.25f], new Shape(3), _backend);
        using var idx = Tensor.From<byte>([7], new Shape(1), _backend);
        SafetensorsWriter.Write(path, [new("w", w), new("bias", b), new("idx", idx)], new Dictionary<string, string> { ["format"] = "pt" });
        return path;
    }
}
