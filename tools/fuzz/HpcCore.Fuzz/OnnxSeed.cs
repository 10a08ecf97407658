// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Fuzz;

using System.Text;

/// <summary>
/// A tiny one-layer BERT as an ONNX protobuf, encoded by hand (field numbers from onnx.proto), in the layout the
/// importer reads: embedding and LayerNorm initializers by name, each linear layer a MatMul with a weight initializer
/// feeding an Add with a named bias. The committed ViT export (1.2 MB) is a seed too, but too large for fast fuzzing.
/// </summary>
internal static class OnnxSeed
{
    public static byte[] TinyBert()
    {
        const int D = 4, I = 8, V = 10, P = 8;
        var graph = new MemoryStream();
        int n = 0;
        void Init(string name, params int[] dims)
        {
            var t = new MemoryStream();
            foreach (int d in dims) Int(t, 1, d);
            Int(t, 2, 1); // FLOAT
            Str(t, 8, name);
            var raw = new byte[4 * dims.Aggregate(1, (a, b) => a * b)];
            for (int i = 0; i < raw.Length / 4; i++) BitConverter.TryWriteBytes(raw.AsSpan(4 * i), (i % 7) * 0.1f);
            Bytes(t, 9, raw);
            Bytes(graph, 5, t.ToArray());
        }
        void Node(string op, string[] inputs, string output)
        {
            var t = new MemoryStream();
            foreach (var i in inputs) Str(t, 1, i);
            Str(t, 2, output);
            Str(t, 4, op);
            Bytes(graph, 1, t.ToArray());
        }
        void Linear(string prefix, int inDim, int outDim)
        {
            string w = $"onnx::MatMul_{n++}", mm = $"mm_{n++}";
            Init(w, inDim, outDim);
            Init(prefix + ".bias", outDim);
            Node("MatMul", ["x", w], mm);
            Node("Add", [prefix + ".bias", mm], $"out_{n++}");
        }
        Init("embeddings.word_embeddings.weight", V, D);
        Init("embeddings.position_embeddings.weight", P, D);
        Init("embeddings.token_type_embeddings.weight", 2, D);
        Init("embeddings.LayerNorm.weight", D);
        Init("embeddings.LayerNorm.bias", D);
        foreach (var m in new[] { "query", "key", "value" }) Linear($"encoder.layer.0.attention.self.{m}", D, D);
        Linear("encoder.layer.0.attention.output.dense", D, D);
        Init("encoder.layer.0.attention.output.LayerNorm.weight", D);
        Init("encoder.layer.0.attention.output.LayerNorm.bias", D);
        Linear("encoder.layer.0.intermediate.dense", D, I);
        Linear("encoder.layer.0.output.dense", I, D);
        Init("encoder.layer.0.output.LayerNorm.weight", D);
        Init("encoder.layer.0.output.LayerNorm.bias", D);
        Str(graph, 2, "tiny-bert");
        var model = new MemoryStream();
        Int(model, 1, 8); // ir_version
        Bytes(model, 7, graph.ToArray());
        var opset = new MemoryStream();
        Str(opset, 1, "");
        Int(opset, 2, 17);
        Bytes(model, 8, opset.ToArray());
        return model.ToArray();
    }

    private static void Varint(Stream s, ulong v)
    {
        while (v >= 0x80)
        {
            s.WriteByte((byte)(v | 0x80));
            v >>= 7;
        }
        s.WriteByte((byte)v);
    }

    private static void Int(Stream s, int field, long v)
    {
        Varint(s, (ulong)(field << 3));
        Varint(s, (ulong)v);
    }

    private static void Bytes(Stream s, int field, byte[] b)
    {
        Varint(s, (ulong)((field << 3) | 2));
        Varint(s, (ulong)b.Length);
        s.Write(b);
    }

    private static void Str(Stream s, int field, string v) => Bytes(s, field, Encoding.UTF8.GetBytes(v));
}
