// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Known-good bytes: the byte vectors the reference implementation asserts its own serializer produces
// (huggingface/safetensors, safetensors/src/tensor.rs: test_serialization, test_serialization_forced_alignement,
// test_empty), plus hand-built files written straight from the format description. No Debian package ships a
// safetensors writer (python3-safetensors does not exist in bookworm), so these stand in for generated goldens.

namespace HpcCore.Tests.Models.Weights;

using HpcCore.Cpu;
using HpcCore.Models.Weights;
using HpcCore.Tensors;
using Xunit;

public sealed class SafetensorsGoldenTests : IDisposable
{
    // {"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}} is exactly 64 bytes: no padding.
    private static readonly byte[] Attn0 =
    [
        64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
        116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34,
        58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115,
        101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63,
        0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
    ];

    // 65 bytes of JSON padded with 7 spaces to 72, so the F32 data starts 8-aligned.
    private static readonly byte[] Attn0Aligned =
    [
        72, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 48, 34, 58, 123, 34, 100, 116,
        121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58,
        91, 49, 44, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102,
        115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 32, 32, 32, 32, 32,
        32, 32, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0,
        160, 64,
    ];

    private static readonly byte[] Empty = [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32];

    private static readonly byte[] EmptyWithFramework =
    [
        40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95,
        95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112,
        116, 34, 125, 125, 32, 32, 32, 32, 32,
    ];

    private readonly CpuBackend _backend = new(threads: 1);
    private readonly TempFolder _folder = new();

    public void Dispose()
    {
        _folder.Dispose();
        _backend.Dispose();
    }

    [Fact]
    public void Golden_ReferenceVectors_ReadCorrectly()
    {
        foreach (var (bytes, name, shape) in new[] { (Attn0, "attn.0", new Shape(1, 2, 3)), (Attn0Aligned, "attn0", new Shape(1, 1, 2, 3)) })
        {
            string path = _folder.File(name + ".safetensors");
            File.WriteAllBytes(path, bytes);
            using var reader = SafetensorsReader.Open(path);
            var entry = Assert.Single(reader.Entries);
            Assert.Equal(new SafetensorsEntry(name, DType.F32, shape, 0, 24), entry);
            using var t = reader.Load(name, _backend);
            Assert.Equal([0f, 1, 2, 3, 4, 5], t.ToArray<float>());
        }

        using var empty = SafetensorsReader.FromBytes(Empty);
        Assert.Empty(empty.Entries);
        Assert.Equal(8, empty.HeaderLength);
        using var framework = SafetensorsReader.FromBytes(EmptyWithFramework);
        Assert.Equal("pt", Assert.Single(framework.Metadata, p => p.Key == "framework").Value);
    }

    [Fact]
    public void Golden_WriterReproducesReferenceBytes()
    {
        float[] values = [0, 1, 2, 3, 4, 5];
        using var a = Tensor.From<float>(values, new Shape(1, 2, 3), _backend);
        using var b = Tensor.From<float>(values, new Shape(1, 1, 2, 3), _backend);
        Assert.Equal(Attn0, WriteToArray([new("attn.0", a)], null));
        Assert.Equal(Attn0Aligned, WriteToArray([new("attn0", b)], null));
        Assert.Equal(Empty, WriteToArray([], null));
        Assert.Equal(EmptyWithFramework, WriteToArray([], new Dictionary<string, string> { ["framework"] = "pt" }));
    }

    [Fact]
    public void Golden_HandBuiltFromSpec_EveryDTypeUnsortedOffsetsAndExtras()
    {
        // Written straight from the format description: tensors listed out of offset order, an unknown field
        // (ignored, as the reference does), padding spaces, a BF16 pair, an I64 and a BOOL.
        string json =
            "{\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[8,12],\"extra\":{\"x\":[1,2]}}," +
            "\"a\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]}," +
            "\"__metadata__\":{\"k\":\"v\"}," +
            "\"c\":{\"dtype\":\"BOOL\",\"shape\":[1,2],\"data_offsets\":[12,14]}," +
            "\"z\":{\"dtype\":\"U8\",\"shape\":[0,3],\"data_offsets\":[14,14]}}   ";
        byte[] data =
        [
            0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // I64 -2
            0x80, 0x3F, 0x00, 0xC0,                         // BF16 1.0, -2.0
            0x01, 0x00,                                     // true, false
        ];
        using var reader = SafetensorsReader.FromBytes(SafetensorsTestFiles.Build(json, data), "hand-built");
        Assert.Equal(["a", "b", "c", "z"], reader.Entries.Select(e => e.Name));
        Assert.Equal("v", reader.Metadata["k"]);
        using var a = reader.Load("a", _backend);
        Assert.Equal([-2L], a.ToArray<long>());
        using var b = reader.Load("b", _backend);
        Assert.Equal([(ushort)0x3F80, (ushort)0xC000], b.ToArray<ushort>());
        using var c = reader.Load("c", _backend);
        Assert.Equal([true, false], c.ToArray<bool>());
        using var z = reader.Load("z", _backend);
        Assert.Equal(new Shape(0, 3), z.Shape);
        Assert.Empty(reader.GetBytes("z").ToArray());
    }

    [Fact]
    public void Golden_EscapedNames_DecodeLikeAnyJsonString()
    {
        string json = "{\"w\\u00e9ight\\n\\\"q\\\"\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}";
        using var reader = SafetensorsReader.FromBytes(SafetensorsTestFiles.Build(json, 1));
        Assert.True(reader.Contains("wéight\n\"q\""));
        Assert.Equal(new byte[] { 0 }, reader.GetBytes("wéight\n\"q\"").ToArray());
    }

    private static byte[] WriteToArray(List<KeyValuePair<string, Tensor>> tensors, Dictionary<string, string>? metadata)
    {
        using var stream = new MemoryStream();
        SafetensorsWriter.Write(stream, tensors, metadata);
        return stream.ToArray();
    }
}
