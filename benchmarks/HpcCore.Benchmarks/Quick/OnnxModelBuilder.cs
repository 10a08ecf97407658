// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// A hand-encoded ONNX ModelProto with one node (protobuf wire format: tag = field << 3 | wire type; varints and
// length-delimited fields only). Field numbers are from onnx/onnx.proto3. This keeps Google.Protobuf out of the
// build for the few bytes a single-op model needs.
using System.Text;

namespace HpcCore.Benchmarks.Quick;

/// <summary>Builds tiny single-node ONNX models for the peer runs.</summary>
public static class OnnxModelBuilder
{
    private const int ElemFloat = 1; // TensorProto.DataType.FLOAT
    private const int AttributeInt = 2; // AttributeProto.AttributeType.INT

    /// <summary>
    /// A model computing <c>output = op_type(inputs...)</c> at the given opset, with float inputs/outputs of fixed shapes
    /// and optional integer attributes (e.g. Gemm's transB).
    /// </summary>
    public static byte[] SingleNode(string opType, int opset,
        IReadOnlyList<(string Name, long[] Shape)> inputs, (string Name, long[] Shape) output,
        IReadOnlyList<(string Name, long Value)>? intAttributes = null)
    {
        var node = new Proto();
        foreach (var (name, _) in inputs) node.String(1, name); // NodeProto.input
        node.String(2, output.Name);                            // NodeProto.output
        node.String(4, opType);                                 // NodeProto.op_type
        foreach (var (name, value) in intAttributes ?? [])
        {
            var attribute = new Proto();
            attribute.String(1, name);                          // AttributeProto.name
            attribute.Varint(3, value);                         // AttributeProto.i
            attribute.Varint(20, AttributeInt);                 // AttributeProto.type
            node.Message(5, attribute);                         // NodeProto.attribute
        }

        var graph = new Proto();
        graph.Message(1, node);                                 // GraphProto.node
        graph.String(2, "g");                                   // GraphProto.name
        foreach (var (name, shape) in inputs) graph.Message(11, ValueInfo(name, shape)); // GraphProto.input
        graph.Message(12, ValueInfo(output.Name, output.Shape)); // GraphProto.output

        var opsetId = new Proto();
        opsetId.String(1, "");                                  // OperatorSetIdProto.domain (default)
        opsetId.Varint(2, opset);                               // OperatorSetIdProto.version

        var model = new Proto();
        model.Varint(1, 8);                                     // ModelProto.ir_version
        model.String(2, "hpccore-bench");                       // ModelProto.producer_name
        model.Message(7, graph);                                // ModelProto.graph
        model.Message(8, opsetId);                              // ModelProto.opset_import
        return model.ToArray();
    }

    private static Proto ValueInfo(string name, long[] shape)
    {
        var dims = new Proto();
        foreach (long d in shape)
        {
            var dim = new Proto();
            dim.Varint(1, d);                                   // Dimension.dim_value
            dims.Message(1, dim);                               // TensorShapeProto.dim
        }
        var tensor = new Proto();
        tensor.Varint(1, ElemFloat);                            // TypeProto.Tensor.elem_type
        tensor.Message(2, dims);                                // TypeProto.Tensor.shape
        var type = new Proto();
        type.Message(1, tensor);                                // TypeProto.tensor_type
        var info = new Proto();
        info.String(1, name);                                   // ValueInfoProto.name
        info.Message(2, type);                                  // ValueInfoProto.type
        return info;
    }

    /// <summary>A minimal protobuf writer: varint (wire type 0) and length-delimited (wire type 2) fields.</summary>
    private sealed class Proto
    {
        private readonly List<byte> _bytes = [];

        public void Varint(int field, long value)
        {
            WriteVarint((ulong)(field << 3));
            WriteVarint((ulong)value);
        }

        public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public void Message(int field, Proto message) => Bytes(field, message.ToArray());

        public byte[] ToArray() => _bytes.ToArray();

        private void Bytes(int field, byte[] value)
        {
            WriteVarint((ulong)((field << 3) | 2));
            WriteVarint((ulong)value.Length);
            _bytes.AddRange(value);
        }

        private void WriteVarint(ulong v)
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
