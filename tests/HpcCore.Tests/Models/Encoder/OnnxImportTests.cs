// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.Encoder;

using Google.Protobuf;
using HpcCore.Cpu;
using HpcCore.Models.Encoder;
using HpcCore.Models.Onnx;
using HpcCore.Models.Onnx.Protos;
using Xunit;

/// <summary>
/// The BERT ONNX importer on a small export built here in the exporter's pattern (named biases and LayerNorms,
/// anonymous [in, out] MatMul weights feeding Add(bias)), and the ONNX reader under seeded byte mutations.
/// </summary>
public sealed class OnnxImportTests
{
    /// <summary>A ModelProto laid out as torch.onnx exports BertModel (the parts the importer reads).</summary>
    internal static byte[] SmallExport(EncoderConfig c, Dictionary<string, (float[] Data, int[] Shape)> host, bool biasFirst = false)
    {
        var graph = new GraphProto { Name = "bert" };
        int anon = 0;
        void Init(string name, float[] data, params int[] dims)
        {
            var t = new TensorProto { Name = name, DataType = 1, RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan())) };
            t.Dims.AddRange(dims.Select(d => (long)d));
            graph.Initializer.Add(t);
        }
        string x = "hidden";
        foreach (var (name, (data, shape)) in host)
        {
            if (name.EndsWith(".weight", StringComparison.Ordinal) && host.ContainsKey(name[..^6] + "bias") && !name.Contains("LayerNorm", StringComparison.Ordinal))
            {
                // nn.Linear [out, in] is exported transposed, under an anonymous name.
                int o = shape[0], i = shape[1];
                var transposed = new float[o * i];
                for (int r = 0; r < o; r++)
                    for (int k = 0; k < i; k++) transposed[k * o + r] = data[r * i + k];
                string w = $"onnx::MatMul_{1000 + anon++}";
                Init(w, transposed, i, o);
                string mm = $"/{name}/MatMul_output_0";
                graph.Node.Add(new NodeProto { OpType = "MatMul", Input = { x, w }, Output = { mm } });
                string bias = name[..^6] + "bias";
                graph.Node.Add(new NodeProto { OpType = "Add", Input = { biasFirst ? bias : mm, biasFirst ? mm : bias }, Output = { $"/{name}/Add_output_0" } });
            }
            else
            {
                Init(name, data, shape);
            }
        }
        var model = new ModelProto { IrVersion = 7, Graph = graph, OpsetImport = { new OperatorSetIdProto { Version = 13 } } };
        return model.ToByteArray();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Import_SmallExport_RecoversEveryHfTensorExactly(bool biasFirst)
    {
        var c = EncoderTestModels.Small(EncoderPooling.Cls);
        var host = EncoderTestModels.RandomTensors(c, seed: 11);
        var onnx = OnnxModelFile.Parse(SmallExport(c, host, biasFirst), "small");
        using var cpu = new CpuBackend(1);
        var (config, tensors) = BertOnnxImporter.Import(onnx, c.Heads, c.Pooling, cpu);
        try
        {
            Assert.Equal(c with { TypeVocabSize = 2 }, config);
            Assert.Equal(host.Keys.Order(), tensors.Keys.Order());
            foreach (var (name, (data, shape)) in host)
            {
                Assert.Equal(shape, tensors[name].Shape.ToArray());
                Assert.Equal(data, tensors[name].ToArray<float>());
            }
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    [Fact]
    public void Import_BiasFedByAGraphInput_IsRefusedByName()
    {
        var c = EncoderTestModels.Small();
        var model = ModelProto.Parser.ParseFrom(SmallExport(c, EncoderTestModels.RandomTensors(c, 2)));
        var add = model.Graph.Node.First(n => n.OpType == "Add");
        add.Input[0] = "hidden";
        using var cpu = new CpuBackend(1);
        var e = Assert.Throws<OnnxFormatException>(() => BertOnnxImporter.Import(OnnxModelFile.Parse(model.ToByteArray(), "bad"), 4, EncoderPooling.Mean, cpu));
        Assert.Contains("is not fed by a MatMul", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Floats_LengthDisagreeingWithDims_IsRefusedBeforeAllocating()
    {
        var t = new TensorProto { Name = "w", DataType = 1, RawData = ByteString.CopyFrom(new byte[8]) };
        t.Dims.AddRange([1L << 20, 1L << 20]);
        var model = new ModelProto { Graph = new GraphProto { Initializer = { t } } };
        var file = OnnxModelFile.Parse(model.ToByteArray(), "huge");
        var e = Assert.Throws<OnnxFormatException>(() => file.Floats("w"));
        Assert.Contains("dims [1048576, 1048576]", e.Message, StringComparison.Ordinal);
        t.Dims.Clear();
        t.Dims.AddRange([3L, 1L]);
        var e2 = Assert.Throws<OnnxFormatException>(() => OnnxModelFile.Parse(model.ToByteArray(), "short").Floats("w"));
        Assert.Contains("8 raw bytes; its dims need 12", e2.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fuzz_MutatedExports_ImportOrThrowFormatExceptions()
    {
        var c = EncoderTestModels.Small();
        var clean = SmallExport(c, EncoderTestModels.RandomTensors(c, 4));
        using var cpu = new CpuBackend(1);
        int imported = 0, refused = 0;
        for (int seed = 0; seed < 400; seed++)
        {
            var bytes = Mutate(clean, seed);
            try
            {
                var (_, tensors) = BertOnnxImporter.Import(OnnxModelFile.Parse(bytes, $"mutant {seed}"), c.Heads, c.Pooling, cpu);
                foreach (var t in tensors.Values) t.Dispose();
                imported++;
            }
            catch (Exception e) when (e is OnnxFormatException or EncoderFormatException)
            {
                refused++;
            }
        }
        // Both outcomes must occur, or the mutations are not reaching the parts that matter.
        Assert.True(imported > 0 && refused > 0, $"imported {imported}, refused {refused}");
    }

    /// <summary>1-4 seeded edits: a random byte, a flipped bit, or a truncation.</summary>
    internal static byte[] Mutate(byte[] clean, int seed)
    {
        var rng = new Random(seed);
        var bytes = (byte[])clean.Clone();
        int edits = 1 + rng.Next(4);
        for (int e = 0; e < edits; e++)
        {
            switch (rng.Next(3))
            {
                case 0: bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256); break;
                case 1: bytes[rng.Next(bytes.Length)] ^= (byte)(1 << rng.Next(8)); break;
                default: if (rng.Next(8) == 0) bytes = bytes[..rng.Next(bytes.Length)]; break;
            }
        }
        return bytes;
    }
}
