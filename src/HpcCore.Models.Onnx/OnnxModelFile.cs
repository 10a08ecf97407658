// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Onnx;

using System.Runtime.InteropServices;
using Google.Protobuf;
using HpcCore.Models.Onnx.Protos;

/// <summary>
/// An ONNX model parsed by Google.Protobuf (message types generated from Protos/onnx_subset.proto), with its
/// initializers readable as float32 arrays. The file is untrusted: protobuf framing errors become
/// <see cref="OnnxFormatException"/>, and every initializer's dims and data length are checked against each other
/// before a value array is allocated.
/// </summary>
public sealed class OnnxModelFile
{
    // An initializer larger than this is refused: 1 G elements is 4 GiB of float32, past any encoder we import.
    private const long MaxElements = 1L << 30;
    private const int FloatType = 1;

    private readonly Dictionary<string, TensorProto> _initializers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, NodeProto> _producers = new(StringComparer.Ordinal);

    private OnnxModelFile(ModelProto model, string source)
    {
        Model = model;
        Source = source;
        foreach (var t in model.Graph.Initializer)
            if (t.HasName && !_initializers.TryAdd(t.Name, t))
                throw new OnnxFormatException($"OnnxModelFile: {source} has two initializers named '{t.Name}'.");
        foreach (var n in model.Graph.Node)
            foreach (var o in n.Output)
                _producers.TryAdd(o, n);
    }

    internal ModelProto Model { get; }

    /// <summary>Where the model came from (for messages).</summary>
    public string Source { get; }

    /// <summary>The graph's nodes in file (topological) order: op type and input/output value names.</summary>
    public IEnumerable<(string OpType, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs)> Nodes =>
        Model.Graph.Node.Select(n => (n.OpType, (IReadOnlyList<string>)n.Input, (IReadOnlyList<string>)n.Output));

    /// <summary>Names of the graph's initializers.</summary>
    public IEnumerable<string> InitializerNames => _initializers.Keys;

    /// <summary>The highest default-domain opset the model imports (0 if none).</summary>
    public long Opset => Model.OpsetImport.Where(o => string.IsNullOrEmpty(o.Domain)).Select(o => o.Version).DefaultIfEmpty(0).Max();

    /// <summary>Parses an ONNX model from <paramref name="bytes"/>.</summary>
    public static OnnxModelFile Parse(byte[] bytes, string source = "<memory>")
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new OnnxFormatException($"OnnxModelFile: {source} is not an ONNX protobuf ({e.Message}).", e);
        }
        if (model.Graph is null)
            throw new OnnxFormatException($"OnnxModelFile: {source} has no graph.");
        return new OnnxModelFile(model, source);
    }

    /// <summary>True when the graph has an initializer called <paramref name="name"/>.</summary>
    public bool HasInitializer(string name) => _initializers.ContainsKey(name);

    /// <summary>The node whose output is <paramref name="value"/>, or null (graph inputs and initializers).</summary>
    public (string OpType, IReadOnlyList<string> Inputs)? Producer(string value) =>
        _producers.TryGetValue(value, out var n) ? (n.OpType, n.Input) : null;

    /// <summary>The dims of initializer <paramref name="name"/>, each checked to be >= 0 with a bounded product.</summary>
    public long[] Dims(string name)
    {
        var t = Get(name);
        var dims = t.Dims.ToArray();
        long count = 1;
        foreach (long d in dims)
        {
            if (d < 0 || d > MaxElements || (count *= d) > MaxElements)
                throw new OnnxFormatException($"OnnxModelFile: initializer '{name}' of {Source} has dims [{string.Join(", ", dims)}] (negative or over {MaxElements} elements).");
        }
        return dims;
    }

    /// <summary>The float32 values of initializer <paramref name="name"/>, row-major, after checking its type and length.</summary>
    public float[] Floats(string name)
    {
        var t = Get(name);
        long count = 1;
        foreach (long d in Dims(name)) count *= d;
        if (t.DataType != FloatType)
            throw new OnnxFormatException($"OnnxModelFile: initializer '{name}' of {Source} has data type {t.DataType}; FLOAT (1) is needed.");
        if (t.DataLocation != 0 || t.ExternalData.Count > 0)
            throw new OnnxFormatException($"OnnxModelFile: initializer '{name}' of {Source} keeps its data in an external file, which is not read.");
        if (t.HasRawData)
        {
            if (t.RawData.Length != count * sizeof(float))
                throw new OnnxFormatException($"OnnxModelFile: initializer '{name}' of {Source} has {t.RawData.Length} raw bytes; its dims need {count * sizeof(float)}.");
            // ONNX raw_data is little-endian, as is every machine .NET runs this on.
            return MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray();
        }
        if (t.FloatData.Count != count)
            throw new OnnxFormatException($"OnnxModelFile: initializer '{name}' of {Source} has {t.FloatData.Count} float_data values; its dims need {count}.");
        return [.. t.FloatData];
    }

    private TensorProto Get(string name) =>
        _initializers.TryGetValue(name, out var t) ? t : throw new OnnxFormatException($"OnnxModelFile: {Source} has no initializer '{name}'.");
}
