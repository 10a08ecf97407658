// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// A hand-encoded ONNX model with one com.microsoft.MultiHeadAttention node (query, key, value [B, T, H*D] -> output),
// with int attributes num_heads and unidirectional. OnnxModelBuilder has no node domain or attributes, so this
// file carries its own minimal protobuf writer (field numbers from onnx/onnx.proto3).
using System.Text;

namespace HpcCore.Benchmarks.Quick;

/// <summary>Builds the single-node MultiHeadAttention model of the attention quick benchmark.</summary>
public static class QuickAttentionModel
{
    /// <summary>The model for float inputs [B, T, H*D] with <paramref name="heads"/> heads (causal when unidirectional).</summary>
    public static byte[] MultiHeadAttention(int batch, int tokens, int heads, int headDim, bool unidirectional)
    {
        long[] shape = [batch, tokens, (long)heads * headDim];
        var node = new Writer();
        foreach (var name in new[] { "query", "key", "value" }) node.Text(1, name); // NodeProto.input
        node.Text(2, "output");                                                      // NodeProto.output
        node.Text(4, "MultiHeadAttention");                                          // NodeProto.op_type
        node.Message(5, IntAttribute("num_heads", heads));                           // NodeProto.attribute
        if (unidirectional) node.Message(5, IntAttribute("unidirectional", 1));
        node.Text(7, "com.microsoft");                                               // NodeProto.domain

        var graph = new Writer();
        graph.Message(1, node);
        graph.Text(2, "g");
        foreach (var name in new[] { "query", "key", "value" }) graph.Message(11, ValueInfo(name, shape));
        graph.Message(12, ValueInfo("output", shape));

        var model = new Writer();
        model.Varint(1, 8);                                                          // ir_version
        model.Text(2, "hpccore-bench");
        model.Message(7, graph);
        model.Message(8, Opset("", 17));                                             // opset_import
        model.Message(8, Opset("com.microsoft", 1));
        return model.ToArray();
    }

    private static Writer IntAttribute(string name, long value)
    {
        var a = new Writer();
        a.Text(1, name);     // AttributeProto.name
        a.Varint(3, value);  // AttributeProto.i
        a.Varint(20, 2);     // AttributeProto.type = INT
        return a;
    }

    private static Writer Opset(string domain, int version)
    {
        var o = new Writer();
        o.Text(1, domain);
        o.Varint(2, version);
        return o;
    }

    private static Writer ValueInfo(string name, long[] shape)
    {
        var dims = new Writer();
        foreach (long d in shape)
        {
            var dim = new Writer();
            dim.Varint(1, d);
            dims.Message(1, dim);
        }
        var tensor = new Writer();
        tensor.Varint(1, 1); // FLOAT
        tensor.Message(2, dims);
        var type = new Writer();
        type.Message(1, tensor);
        var info = new Writer();
        info.Text(1, name);
        info.Message(2, type);
        return info;
    }

    /// <summary>Protobuf varint and length-delimited fields.</summary>
    private sealed class Writer
    {
        private readonly List<byte> _bytes = [];

        public void Varint(int field, long value)
        {
            Raw((ulong)(field << 3));
            Raw((ulong)value);
        }

        public void Text(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public void Message(int field, Writer message) => Bytes(field, message.ToArray());

        public byte[] ToArray() => [.. _bytes];

        private void Bytes(int field, byte[] value)
        {
            Raw((ulong)((field << 3) | 2));
            Raw((ulong)value.Length);
            _bytes.AddRange(value);
        }

        private void Raw(ulong v)
        {
            while (v >= 0x80)
            {
                _bytes.Add((byte)(v | 0x80));
                v >>= 7;
            }
            _bytes.Add((byte)v);
        }
    }
}
