// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.Lm.Gguf;

using System.Buffers.Binary;
using HpcCore.Models.Lm.Loading;
using HpcCore.Models.Lm.Loading.Gguf;
using Xunit;

/// <summary>
/// The GGUF container: metadata and tensors survive a write and a read; each written type encodes as a plain
/// double-precision twin says; hand-built blocks of the read-only types decode to their documented values.
/// </summary>
public sealed class GgufFormatTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gguf-format-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Metadata_RoundTrips()
    {
        string path = Path.Combine(_dir, "meta.gguf");
        new GgufWriter()
            .Add("a.string", GgufValue.Of("héllo ▁world"))
            .Add("a.u32", GgufValue.Of(4000000000u))
            .Add("a.f32", GgufValue.Of(1e-5f))
            .Add("a.bool", GgufValue.Of(true))
            .Add("a.i64", GgufValue.Scalar(GgufValueType.Int64, -5L))
            .Add("a.strings", GgufValue.Array(GgufValueType.String, [GgufValue.Of("x"), GgufValue.Of("")]))
            .Write(path);
        using var f = GgufFile.Open(path);
        Assert.Equal(3u, f.Version);
        Assert.Equal("héllo ▁world", f.Get("a.string")!.Value);
        Assert.Equal(4000000000L, f.Get("a.u32")!.AsInt64());
        Assert.Equal(1e-5f, (float)f.Get("a.f32")!.AsDouble()!.Value);
        Assert.Equal(true, f.Get("a.bool")!.Value);
        Assert.Equal(-5L, f.Get("a.i64")!.AsInt64());
        Assert.Equal(["x", ""], f.Get("a.strings")!.ArrayItems.Select(v => (string)v.Value));
        Assert.Equal(32, f.Alignment);
        Assert.Empty(f.Tensors);
    }

    [Theory]
    [InlineData(GgufTensorType.F32)]
    [InlineData(GgufTensorType.F16)]
    [InlineData(GgufTensorType.BF16)]
    [InlineData(GgufTensorType.Q8_0)]
    public void Tensors_RoundTripAsThePlainTwinEncodes(GgufTensorType type)
    {
        var rng = new Random(3);
        // Odd row counts, a row length of 64 (two Q8_0 blocks), zeros, a spike and tiny values.
        var a = Enumerable.Range(0, 7 * 64).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
        a[5] = 0; a[70] = 300f; a[100] = 1e-7f;
        Array.Clear(a, 128, 32); // one all-zero block
        var b = Enumerable.Range(0, 5).Select(i => i * 0.25f - 1f).ToArray();
        string path = Path.Combine(_dir, $"t-{type}.gguf");
        new GgufWriter().AddTensor("a", [7, 64], type, a).AddTensor("b", [5], GgufTensorType.F32, b).Write(path);
        using var f = GgufFile.Open(path);
        var info = f.Find("a")!;
        Assert.Equal([64L, 7L], info.Dims);
        Assert.Equal(type, info.Type);
        Assert.Equal(0, (info.Offset - f.DataOffset) % 32);
        var expected = PlainRoundTrip(type, a);
        Assert.Equal(expected, f.ReadF32(info));
        Assert.Equal(b, f.ReadF32(f.Find("b")!));
    }

    [Fact]
    public void Q4_0_DecodesLowNibblesFirst()
    {
        var block = new byte[18];
        BinaryPrimitives.WriteUInt16LittleEndian(block, BitConverter.HalfToUInt16Bits((Half)0.5f));
        for (int i = 0; i < 16; i++) block[2 + i] = (byte)(i | ((15 - i) << 4));
        var y = new float[32];
        GgufDequantize.ToF32(GgufTensorType.Q4_0, block, y);
        for (int i = 0; i < 16; i++)
        {
            Assert.Equal(0.5f * (i - 8), y[i]);
            Assert.Equal(0.5f * (15 - i - 8), y[16 + i]);
        }
    }

    [Fact]
    public void Q4_K_DecodesScalesAndMinsOfAllEightSubBlocks()
    {
        // Sub-block j gets scale j + 1 and min 2j (6-bit fields, the upper four split across the spare bits), every
        // value nibble = j so each output is d (j + 1) j - dmin 2j.
        var block = new byte[144];
        BinaryPrimitives.WriteUInt16LittleEndian(block, BitConverter.HalfToUInt16Bits((Half)0.25f));
        BinaryPrimitives.WriteUInt16LittleEndian(block.AsSpan(2), BitConverter.HalfToUInt16Bits((Half)0.125f));
        var sc = block.AsSpan(4, 12);
        int[] scale = [1, 2, 3, 4, 45, 50, 63, 8], min = [0, 2, 4, 6, 40, 33, 62, 14];
        for (int j = 0; j < 4; j++)
        {
            sc[j] = (byte)(scale[j] | ((scale[j + 4] >> 4) << 6));
            sc[j + 4] = (byte)(min[j] | ((min[j + 4] >> 4) << 6));
            sc[j + 8] = (byte)((scale[j + 4] & 0xF) | ((min[j + 4] & 0xF) << 4));
        }
        for (int pair = 0; pair < 4; pair++)
            for (int l = 0; l < 32; l++) block[16 + 32 * pair + l] = (byte)((2 * pair) | ((2 * pair + 1) << 4));
        var y = new float[256];
        GgufDequantize.ToF32(GgufTensorType.Q4_K, block, y);
        for (int j = 0; j < 8; j++)
            for (int l = 0; l < 32; l++)
                Assert.Equal(0.25 * scale[j] * j - 0.125 * min[j], y[32 * j + l], 6);
    }

    [Fact]
    public void Q6_K_DecodesSixBitValuesWithSubBlockScales()
    {
        // Value v of the 256 gets q = v % 64 (low 4 bits in ql, high 2 in qh at its quarter's shift) and sub-block scale (v / 16) - 8.
        var block = new byte[210];
        var ql = block.AsSpan(0, 128);
        var qh = block.AsSpan(128, 64);
        for (int v = 0; v < 256; v++)
        {
            int q = v % 64, half = v / 128, quarter = v % 128 / 32, l = v % 32;
            int qlIndex = 64 * half + l + (quarter % 2 == 1 ? 32 : 0);
            ql[qlIndex] |= (byte)(quarter < 2 ? q & 0xF : (q & 0xF) << 4);
            qh[32 * half + l] |= (byte)((q >> 4) << (2 * quarter));
        }
        for (int s = 0; s < 16; s++) block[192 + s] = (byte)(sbyte)(s - 8);
        BinaryPrimitives.WriteUInt16LittleEndian(block.AsSpan(208), BitConverter.HalfToUInt16Bits((Half)0.5f));
        var y = new float[256];
        GgufDequantize.ToF32(GgufTensorType.Q6_K, block, y);
        for (int v = 0; v < 256; v++) Assert.Equal(0.5 * (v / 16 - 8) * (v % 64 - 32), y[v], 6);
    }

    [Fact]
    public void Writer_RefusesRowsThatAreNotWholeBlocks()
    {
        var e = Assert.Throws<ArgumentException>(() => new GgufWriter().AddTensor("w", [2, 40], GgufTensorType.Q8_0, new float[80]));
        Assert.Contains("'w'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reader_NamesTheProblem()
    {
        string path = Path.Combine(_dir, "bad.gguf");
        File.WriteAllBytes(path, [(byte)'G', (byte)'G', (byte)'U', (byte)'F', 1, 0, 0, 0]);
        Assert.Contains("version 1", Assert.Throws<LmFormatException>(() => GgufFile.Open(path)).Message, StringComparison.Ordinal);
        File.WriteAllBytes(path, "GGML"u8.ToArray());
        Assert.Contains("not a GGUF file", Assert.Throws<LmFormatException>(() => GgufFile.Open(path)).Message, StringComparison.Ordinal);
        new GgufWriter().AddTensor("w", [4, 32], GgufTensorType.F32, new float[128]).Write(path);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^8]);
        Assert.Contains("'w'", Assert.Throws<LmFormatException>(() => GgufFile.Open(path)).Message, StringComparison.Ordinal);
    }

    // What each type stores, computed the plain way in double: F16 and BF16 round to nearest even, Q8_0 takes
    // d = max|x| / 127 per block of 32, stores d as F16 and q = round(x / d) half away from zero.
    private static float[] PlainRoundTrip(GgufTensorType type, float[] x)
    {
        var y = new float[x.Length];
        for (int i = 0; i < x.Length; i++)
            y[i] = type switch
            {
                GgufTensorType.F32 => x[i],
                GgufTensorType.F16 => (float)(Half)x[i],
                GgufTensorType.BF16 => Bf16(x[i]),
                _ => 0,
            };
        if (type != GgufTensorType.Q8_0) return y;
        for (int b = 0; b < x.Length; b += 32)
        {
            double amax = 0;
            for (int i = 0; i < 32; i++) amax = Math.Max(amax, Math.Abs((double)x[b + i]));
            float d = (float)(amax / 127);
            double dStored = (double)(float)(Half)d;
            for (int i = 0; i < 32; i++)
            {
                double q = d == 0 ? 0 : Math.Round(x[b + i] / (double)d, MidpointRounding.AwayFromZero);
                y[b + i] = (float)((float)dStored * (float)q);
            }
        }
        return y;
    }

    private static float Bf16(float x)
    {
        // Nearest bfloat16 by comparing the two neighbours in double (ties to the even mantissa).
        uint bits = BitConverter.SingleToUInt32Bits(x);
        float lo = BitConverter.UInt32BitsToSingle(bits & 0xFFFF0000u), hi = BitConverter.UInt32BitsToSingle((bits & 0xFFFF0000u) + 0x10000u);
        double dl = Math.Abs((double)x - lo), dh = Math.Abs((double)hi - x);
        if (dl < dh) return lo;
        if (dh < dl) return hi;
        return ((bits >> 16) & 1) == 0 ? lo : hi;
    }
}
