// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// A catalogue of broken files: each must fail with SafetensorsFormatException naming the file and the defect,
// both from memory and through the memory-mapped file path.
using System.Text;

namespace HpcCore.Tests.Models.Weights;

using HpcCore.Models.Weights;
using Xunit;

public sealed class SafetensorsMalformedTests : IDisposable
{
    private const string W = "{\"w\":{\"dtype\":\"F32\",\"shape\":[3,10],\"data_offsets\":[0,120]}}";

    private static readonly Dictionary<string, (byte[] Bytes, string Expected)> Cases = BuildCases();

    private readonly TempFolder _folder = new();

    public static TheoryData<string> CaseNames => [.. Cases.Keys];

    public void Dispose() => _folder.Dispose();

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Malformed_FromBytes_ThrowsFormatExceptionNamingTheProblem(string name)
    {
        var (bytes, expected) = Cases[name];
        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsReader.FromBytes(bytes, "bad.safetensors").Dispose());
        Assert.StartsWith("bad.safetensors: ", e.Message, StringComparison.Ordinal);
        Assert.True(e.Message.Contains(expected, StringComparison.Ordinal), $"expected \"{expected}\" in: {e.Message}");
        Assert.Equal("bad.safetensors", e.FileName);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Malformed_Open_ThrowsTheSameErrorAndReleasesTheFile(string name)
    {
        var (bytes, expected) = Cases[name];
        string path = _folder.File("model.safetensors");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsReader.Open(path).Dispose());
        Assert.StartsWith(path + ": ", e.Message, StringComparison.Ordinal);
        Assert.True(e.Message.Contains(expected, StringComparison.Ordinal), $"expected \"{expected}\" in: {e.Message}");
        // The mapping was released: the file can be deleted and rewritten at once.
        File.Delete(path);
    }

    [Fact]
    public void Malformed_LengthMismatch_MessageMatchesTheDocumentedExample()
    {
        string json = "{\"blocks.0.attn.qkv.weight\":{\"dtype\":\"F32\",\"shape\":[3,10],\"data_offsets\":[0,100]}}";
        var e = Assert.Throws<SafetensorsFormatException>(
            () => SafetensorsReader.FromBytes(SafetensorsTestFiles.Build(json, 100), "model.safetensors"));
        Assert.Equal(
            "model.safetensors: tensor 'blocks.0.attn.qkv.weight' data_offsets [0, 100] do not match F32 [3, 10] (120 bytes)",
            e.Message);
    }

    [Fact]
    public void Malformed_HugeNameInMessage_IsCutShort()
    {
        string name = new('n', 100_000);
        string json = $"{{\"{name}\":{{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}}}";
        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsReader.FromBytes(SafetensorsTestFiles.Build(json, 8)));
        Assert.True(e.Message.Length < 400, e.Message);
        Assert.Contains("(100000 chars)", e.Message, StringComparison.Ordinal);
    }

    private static Dictionary<string, (byte[], string)> BuildCases()
    {
        static string T(string dtype, string shape, string offsets, string name = "w") =>
            $"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":{offsets}}}";
        static byte[] J(string json, int data) => SafetensorsTestFiles.Build(json, data);

        int wLength = Encoding.UTF8.GetByteCount(W);
        byte[] badUtf8 = J("{\"ab\":{}}", 0);
        badUtf8[10] = 0xFF; // inside the key
        string deep = new string('[', 100) + new string(']', 100);

        return new()
        {
            ["empty file"] = ([], "too short for the 8-byte header length"),
            ["truncated length field"] = ([8, 0, 0], "too short for the 8-byte header length"),
            ["length field only"] = ([2, 0, 0, 0, 0, 0, 0, 0], "runs past the end of the file"),
            ["header length past file"] = (SafetensorsTestFiles.Build(W, 120, (ulong)(wLength + 121)), "runs past the end of the file"),
            ["header length 2^63"] = (SafetensorsTestFiles.Build(W, 120, 1UL << 63), "exceeds the 100000000-byte limit"),
            ["header length u64 max"] = (SafetensorsTestFiles.Build(W, 120, ulong.MaxValue), "exceeds the 100000000-byte limit"),
            ["header length zero"] = (SafetensorsTestFiles.Build(W, 120, 0), "header length is 0"),
            ["header length cuts the JSON"] = (SafetensorsTestFiles.Build(W, 120, (ulong)(wLength - 3)), "not valid JSON"),
            ["header length swallows data"] = (SafetensorsTestFiles.Build(W, 120, (ulong)(wLength + 4)), "run past the data section (116 bytes)"),
            ["invalid JSON"] = (J("{\"w\":{\"dtype\":\"F32\",,}}", 0), "not valid JSON"),
            ["JSON array, not object"] = (J("[1,2]", 0), "must start with '{'"),
            ["JSON string, not object"] = (J("\"hello\"", 0), "must start with '{'"),
            ["leading whitespace"] = (J(" {}", 0), "must start with '{'"),
            ["invalid UTF-8"] = (badUtf8, "not valid UTF-8"),
            ["lone surrogate escape"] = (J("{\"\\ud800\":{}}", 0), "not a valid string"),
            ["trailing content"] = (J("{} {}", 0), "not valid JSON"),
            ["NUL padding"] = (J("{}\0\0", 0), "not valid JSON"),
            ["comment"] = (J("{/*c*/}", 0), "not valid JSON"),
            ["JSON ends early"] = (J("{\"w\":{\"dtype\"", 0), "not valid JSON"),
            ["trailing comma"] = (J("{\"__metadata__\":{\"a\":\"b\",}}", 0), "not valid JSON"),
            ["too deep"] = (J($"{{\"w\":{{\"x\":{deep},\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[0,1]}}}}", 1), "not valid JSON"),
            ["tensor is a number"] = (J("{\"w\":5}", 0), "tensor 'w' is a number; expected an object"),
            ["missing dtype"] = (J("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "tensor 'w' has no \"dtype\""),
            ["missing shape"] = (J("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4), "tensor 'w' has no \"shape\""),
            ["missing data_offsets"] = (J("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), "tensor 'w' has no \"data_offsets\""),
            ["dtype twice"] = (J("{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "two \"dtype\" fields"),
            ["dtype not a string"] = (J("{" + T("F32", "[1]", "[0,4]").Replace("\"F32\"", "7", StringComparison.Ordinal) + "}", 4), "dtype is a number"),
            ["unknown dtype"] = (J("{" + T("F99", "[1]", "[0,4]") + "}", 4), "unknown dtype 'F99'"),
            ["lower-case dtype"] = (J("{" + T("f32", "[1]", "[0,4]") + "}", 4), "unknown dtype 'f32'"),
            ["unsupported F64"] = (J("{" + T("F64", "[1]", "[0,8]") + "}", 8), "dtype F64, which HpcCore does not support"),
            ["unsupported I8"] = (J("{" + T("I8", "[1]", "[0,1]") + "}", 1), "dtype I8, which HpcCore does not support"),
            ["unsupported I16"] = (J("{" + T("I16", "[1]", "[0,2]") + "}", 2), "dtype I16, which HpcCore does not support"),
            ["shape not an array"] = (J("{" + T("F32", "3", "[0,12]") + "}", 12), "shape is a number"),
            ["negative dimension"] = (J("{" + T("F32", "[-1,10]", "[0,40]") + "}", 40), "shape dimension 0 is -1; it must be non-negative"),
            ["fractional dimension"] = (J("{" + T("F32", "[1.5]", "[0,4]") + "}", 4), "shape dimension 0 is '1.5'"),
            ["exponent dimension"] = (J("{" + T("F32", "[1e1]", "[0,40]") + "}", 40), "shape dimension 0 is '1e1'"),
            ["string dimension"] = (J("{" + T("F32", "[\"2\"]", "[0,8]") + "}", 8), "shape dimension 0 is a string"),
            ["dimension above int"] = (J("{" + T("U8", "[4294967296]", "[0,0]") + "}", 0), "HpcCore dimensions are at most 2147483647"),
            ["dimension above u64"] = (J("{" + T("U8", "[18446744073709551616]", "[0,0]") + "}", 0), "below 2^64"),
            ["element count overflows"] = (J("{" + T("F32", "[2147483647,2147483647,2147483647,2147483647]", "[0,0]") + "}", 0), "the product overflows"),
            ["rank 9"] = (J("{" + T("U8", "[1,1,1,1,1,1,1,1,1]", "[0,1]") + "}", 1), "more than 8 dimensions"),
            ["offsets out of range"] = (J("{" + T("F32", "[250]", "[0,1000]") + "}", 120), "run past the data section (120 bytes)"),
            ["offsets u64 max"] = (J("{" + T("U8", "[1]", "[18446744073709551615,0]") + "}", 1), "end before they begin"),
            ["end before begin"] = (J("{" + T("F32", "[3,10]", "[120,0]") + "}", 120), "data_offsets [120, 0] end before they begin"),
            ["negative offset"] = (J("{" + T("U8", "[1]", "[-1,0]") + "}", 1), "data_offsets[0] is -1"),
            ["three offsets"] = (J("{" + T("U8", "[1]", "[0,1,2]") + "}", 1), "more than 2 numbers"),
            ["one offset"] = (J("{" + T("U8", "[1]", "[0]") + "}", 1), "has 1 number(s)"),
            ["offsets not an array"] = (J("{" + T("U8", "[1]", "{}") + "}", 1), "data_offsets is an object"),
            ["length mismatch"] = (J("{" + T("F32", "[3,10]", "[0,100]") + "}", 100), "data_offsets [0, 100] do not match F32 [3, 10] (120 bytes)"),
            ["overlapping regions"] = (J("{" + T("U8", "[8]", "[0,8]", "a") + "," + T("U8", "[8]", "[4,12]", "b") + "}", 12), "tensor 'b' data_offsets [4, 12] overlap tensor 'a' [0, 8]"),
            ["identical regions"] = (J("{" + T("U8", "[8]", "[0,8]", "a") + "," + T("U8", "[8]", "[0,8]", "b") + "}", 8), "overlap tensor 'a'"),
            ["empty tensor inside another"] = (J("{" + T("U8", "[8]", "[0,8]", "a") + "," + T("U8", "[0]", "[4,4]", "z") + "}", 8), "tensor 'z' data_offsets [4, 4] overlap"),
            ["gap between regions"] = (J("{" + T("U8", "[4]", "[0,4]", "a") + "," + T("U8", "[4]", "[8,12]", "b") + "}", 12), "bytes [4, 8) of the data section belong to no tensor"),
            ["gap at start"] = (J("{" + T("U8", "[4]", "[4,8]") + "}", 8), "bytes [0, 4) of the data section belong to no tensor"),
            ["trailing data bytes"] = (J("{" + T("U8", "[4]", "[0,4]") + "}", 8), "the data section is 8 bytes but the tensors cover only 4"),
            ["data but no tensors"] = (J("{}", 3), "the data section is 3 bytes but the tensors cover only 0"),
            ["duplicate names"] = (J("{" + T("U8", "[4]", "[0,4]", "a") + "," + T("U8", "[4]", "[4,8]", "a") + "}", 8), "tensor 'a' appears twice"),
            ["metadata value a number"] = (J("{\"__metadata__\":{\"a\":1}}", 0), "\"__metadata__\" value for 'a' is a number; metadata values must be strings"),
            ["metadata value an object"] = (J("{\"__metadata__\":{\"a\":{}}}", 0), "metadata values must be strings"),
            ["metadata value null"] = (J("{\"__metadata__\":{\"a\":null}}", 0), "metadata values must be strings"),
            ["metadata an array"] = (J("{\"__metadata__\":[\"a\"]}", 0), "\"__metadata__\" is an array; expected an object of strings"),
            ["metadata twice"] = (J("{\"__metadata__\":{},\"__metadata__\":{}}", 0), "\"__metadata__\" appears twice"),
            ["metadata key twice"] = (J("{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}}", 0), "\"__metadata__\" key 'a' appears twice"),
        };
    }
}
