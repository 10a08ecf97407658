// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.Lm.Gguf;

using System.Buffers.Binary;
using System.Diagnostics;
using HpcCore.Benchmarks.Quick;
using HpcCore.Cpu;
using HpcCore.Models.Lm;
using HpcCore.Models.Lm.Loading;
using HpcCore.Models.Lm.Loading.Gguf;
using Xunit;

/// <summary>
/// GGUF files are untrusted: mutations of a real small model file (flipped bytes, overwritten lengths and counts,
/// truncations) either load or fail with <see cref="LmFormatException"/>, never another exception, never a hang and
/// never a huge allocation.
/// </summary>
public sealed class GgufFuzzTests
{
    [Fact]
    public void MutatedFiles_LoadOrFailWithFormatError()
    {
        string dir = Directory.CreateTempSubdirectory("gguf-fuzz-").FullName;
        try
        {
            string seedPath = Path.Combine(dir, "seed.gguf");
            var config = new LmConfig(LmArchitecture.Llama, 32, 40, 1, 4, 2, 260, 64);
            RandomLlamaModel.WriteGguf(seedPath, config, GgufTensorType.Q8_0, seed: 5);
            Fuzz(seedPath, cases: 2000, seed: 11);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void MutatedLlama3Files_LoadOrFailWithFormatError()
    {
        // The byte-level BPE vocabulary (tokens, token types, merges, pre-tokenizer) and rope_freqs of a Llama 3 file.
        string dir = Directory.CreateTempSubdirectory("gguf-fuzz3-").FullName;
        try
        {
            Fuzz(GgufLlama3Tests.WriteGguf(dir, GgufTensorType.Q8_0), cases: 1000, seed: 12);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void Fuzz(string seedPath, int cases, int seed)
    {
        var original = File.ReadAllBytes(seedPath);
        long metadataEnd;
        using (var f = GgufFile.Open(seedPath)) metadataEnd = f.DataOffset;
        Assert.True(metadataEnd > 1000);
        using var cpu = new CpuBackend(threads: 1);
        var rng = new Random(seed);
        var clock = Stopwatch.StartNew();
        int loaded = 0, rejected = 0;
        string path = Path.Combine(Path.GetDirectoryName(seedPath)!, "case.gguf");
        for (int i = 0; i < cases; i++)
        {
            var bytes = Mutate(original, metadataEnd, rng);
            File.WriteAllBytes(path, bytes);
            try
            {
                var (_, weights, _) = GgufLlamaReader.Load(path, cpu);
                weights.Dispose();
                loaded++;
            }
            catch (LmFormatException)
            {
                rejected++;
            }
            catch (Exception e)
            {
                Assert.Fail($"case {i}: {e.GetType().Name}: {e.Message}");
            }
        }
        Assert.True(rejected > cases / 4, $"only {rejected} of {cases} mutations were rejected: the mutations miss the header");
        Assert.True(loaded > 0, "no mutation loaded: the seed file itself may be broken");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(120), $"{cases} cases took {clock.Elapsed}");
    }

    private static byte[] Mutate(byte[] original, long metadataEnd, Random rng)
    {
        var b = (byte[])original.Clone();
        int header = (int)metadataEnd;
        switch (rng.Next(6))
        {
            case 0: // flip random bytes, mostly in the header region
                for (int k = rng.Next(1, 4); k > 0; k--) b[rng.Next(rng.Next(4) == 0 ? b.Length : header)] ^= (byte)rng.Next(1, 256);
                break;
            case 1: // truncate
                return b[..rng.Next(b.Length)];
            case 2: // a huge or boundary uint64 at a random 8-aligned-ish header position (counts, lengths, offsets, dims)
            {
                int at = rng.Next(header - 8);
                ulong[] values = [0, 1, 0xFFFFFFFFFFFFFFFF, 0x7FFFFFFFFFFFFFFF, 0x100000000, (ulong)original.Length, (ulong)rng.NextInt64()];
                BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(at), values[rng.Next(values.Length)]);
                break;
            }
            case 3: // a uint32 (types, n_dims, metadata values) set to a boundary
            {
                int at = rng.Next(header - 4);
                uint[] values = [0, 1, 5, 9, 12, 13, 31, 0xFFFFFFFF, 0x80000000, (uint)rng.Next()];
                BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at), values[rng.Next(values.Length)]);
                break;
            }
            case 4: // the fixed header fields: version, tensor count, kv count
            {
                int at = new[] { 4, 8, 16 }[rng.Next(3)];
                if (at == 4) BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at), (uint)rng.Next(0, 5));
                else BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(at), (uint)rng.Next(0, 200) | (rng.Next(2) == 0 ? 0UL : 1UL << 40));
                break;
            }
            default: // insert or delete bytes inside the header
            {
                int at = rng.Next(header);
                var list = b.ToList();
                if (rng.Next(2) == 0) list.RemoveRange(at, Math.Min(rng.Next(1, 16), list.Count - at));
                else list.InsertRange(at, Enumerable.Range(0, rng.Next(1, 16)).Select(_ => (byte)rng.Next(256)));
                return [.. list];
            }
        }
        return b;
    }
}
