// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Onnx;

using System.Text.RegularExpressions;
using HpcCore.Devices;
using HpcCore.Models.Encoder;
using HpcCore.Tensors;

/// <summary>
/// Turns an ONNX export of a Hugging Face BertModel into HF-named tensors. The exporter keeps the names of the
/// embeddings, biases and LayerNorm parameters, but the 36 linear weights (6 layers x q, k, v, attention output,
/// intermediate, output) become anonymous initializers stored [in, out] (torch.onnx folds nn.Linear's transpose into
/// the MatMul). Each is found by following the Add that consumes its named bias back to the MatMul that feeds it, and
/// transposed back to nn.Linear's [out, in].
/// </summary>
public static partial class BertOnnxImporter
{
    /// <summary>
    /// Reads the encoder of <paramref name="onnx"/> into HF BertModel tensors on <paramref name="backend"/> and derives
    /// its config (the head count and pooling, which the shapes do not give, come from the caller).
    /// </summary>
    public static (EncoderConfig Config, Dictionary<string, Tensor> Tensors) Import(OnnxModelFile onnx, int heads, EncoderPooling pooling, IBackend backend)
    {
        ArgumentNullException.ThrowIfNull(onnx);
        ArgumentNullException.ThrowIfNull(backend);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (string name in onnx.InitializerNames)
            {
                string hf = Strip(name);
                if (Named().IsMatch(hf)) tensors[hf] = Load(onnx, name, backend, transpose: false);
            }
            foreach (var (opType, inputs, _) in onnx.Nodes)
            {
                if (opType != "Add" || inputs.Count != 2) continue;
                int biasSide = onnx.HasInitializer(inputs[0]) ? 0 : onnx.HasInitializer(inputs[1]) ? 1 : -1;
                if (biasSide < 0 || !LinearBias().IsMatch(Strip(inputs[biasSide]))) continue;
                var matmul = onnx.Producer(inputs[1 - biasSide]);
                if (matmul is not { OpType: "MatMul" } m || m.Inputs.Count != 2 || !onnx.HasInitializer(m.Inputs[1]))
                    throw new OnnxFormatException($"BertOnnxImporter: the Add of bias '{inputs[biasSide]}' in {onnx.Source} is not fed by a MatMul with a weight initializer.");
                string weight = Strip(inputs[biasSide])[..^"bias".Length] + "weight";
                if (!tensors.TryAdd(weight, Load(onnx, m.Inputs[1], backend, transpose: true)))
                    throw new OnnxFormatException($"BertOnnxImporter: {onnx.Source} feeds bias '{inputs[biasSide]}' from two MatMuls.");
            }
            var config = Config(onnx, tensors, heads, pooling);
            return (config, tensors);
        }
        catch
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw;
        }
    }

    private static EncoderConfig Config(OnnxModelFile onnx, Dictionary<string, Tensor> t, int heads, EncoderPooling pooling)
    {
        Tensor Need(string name) => t.TryGetValue(name, out var v) ? v
            : throw new OnnxFormatException($"BertOnnxImporter: {onnx.Source} yields no '{name}'.");
        var word = Need("embeddings.word_embeddings.weight");
        int layers = 0;
        while (t.ContainsKey($"encoder.layer.{layers}.attention.self.query.weight")) layers++;
        if (word.Rank != 2 || layers == 0)
            throw new OnnxFormatException($"BertOnnxImporter: {onnx.Source} has no BERT layers (found {layers}) or a word embedding of rank {word.Rank}.");
        var config = new EncoderConfig(word.Shape[1], layers, heads, Need("encoder.layer.0.intermediate.dense.weight").Shape[0], word.Shape[0],
            Need("embeddings.position_embeddings.weight").Shape[0], Need("embeddings.token_type_embeddings.weight").Shape[0],
            Pooling: pooling);
        config.Validate($"BertOnnxImporter ({onnx.Source})");
        return config;
    }

    private static Tensor Load(OnnxModelFile onnx, string name, IBackend backend, bool transpose)
    {
        var dims = onnx.Dims(name);
        if (dims.Length > Shape.MaxRank)
            throw new OnnxFormatException($"BertOnnxImporter: initializer '{name}' of {onnx.Source} has rank {dims.Length}; at most {Shape.MaxRank} is supported.");
        var values = onnx.Floats(name);
        var shape = new Shape(Array.ConvertAll(dims, d => (int)d));
        if (!transpose) return Tensor.From<float>(values, shape, backend);
        if (dims.Length != 2)
            throw new OnnxFormatException($"BertOnnxImporter: MatMul weight '{name}' of {onnx.Source} has rank {dims.Length}; [in, out] is needed.");
        using var stored = Tensor.From<float>(values, shape, backend);
        using var view = stored.Transpose(0, 1);
        return view.Contiguous();
    }

    // Some exports keep BertModel's own prefix ("bert.") on every name; HF folders of BertModel have none.
    private static string Strip(string name) => name.StartsWith("bert.", StringComparison.Ordinal) ? name["bert.".Length..] : name;

    [GeneratedRegex(@"^(embeddings\.(word_embeddings|position_embeddings|token_type_embeddings)\.weight|embeddings\.LayerNorm\.(weight|bias)|encoder\.layer\.\d+\.(attention\.self\.(query|key|value)|attention\.output\.dense|intermediate\.dense|output\.dense)\.bias|encoder\.layer\.\d+\.(attention\.output|output)\.LayerNorm\.(weight|bias))$")]
    private static partial Regex Named();

    [GeneratedRegex(@"^encoder\.layer\.\d+\.(attention\.self\.(query|key|value)|attention\.output\.dense|intermediate\.dense|output\.dense)\.bias$")]
    private static partial Regex LinearBias();
}
