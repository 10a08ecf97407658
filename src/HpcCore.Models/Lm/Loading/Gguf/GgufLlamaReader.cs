// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm.Loading.Gguf;

using System.Text;
using HpcCore.Devices;
using HpcCore.Kernels;
using HpcCore.Models.Lm.Positional;
using HpcCore.Models.Lm.Tokenization;
using HpcCore.Tensors;

/// <summary>
/// Loads a llama-architecture GGUF file as an <see cref="LmConfig"/>, <see cref="LmWeights"/> (every tensor
/// dequantised to F32 at load, whatever its stored type) and its embedded tokenizer (SentencePiece "llama" as a
/// <see cref="LlamaCTokenizer"/>, Llama 3's byte-level BPE "gpt2" as an <see cref="MlTextTokenizer"/>), so one .gguf
/// file is a whole model. GGUF stores llama's Q and K rows in Meta's layout (llama.cpp's converter permutes Hugging
/// Face weights back), so RoPE pairs adjacent dims: <see cref="RopeLayout.Interleaved"/>. Llama 3.1's rope scaling
/// arrives as the <c>rope_freqs.weight</c> tensor of per-pair frequency divisors (<see cref="RopeFrequencyFactors"/>).
/// Missing required keys, shape mismatches and unsupported features (another architecture, another rope scaling
/// type, another tokenizer model or pre-tokenizer) are <see cref="LmFormatException"/>s naming the key or tensor.
/// </summary>
public static class GgufLlamaReader
{
    private const int MaxDim = 1 << 16, MaxHidden = 1 << 18, MaxLayers = 1024, MaxVocab = 1 << 22, MaxSeq = 1 << 24;

    /// <summary>Loads <paramref name="path"/> onto <paramref name="backend"/>.</summary>
    public static (LmConfig Config, LmWeights Weights, ITextTokenizer Tokenizer) Load(string path, IBackend backend)
    {
        using var file = GgufFile.Open(path);
        return Load(file, backend);
    }

    /// <summary>Loads an opened file onto <paramref name="backend"/>.</summary>
    public static (LmConfig Config, LmWeights Weights, ITextTokenizer Tokenizer) Load(GgufFile file, IBackend backend)
    {
        ArgumentNullException.ThrowIfNull(file);
        var config = ReadConfig(file);
        var tokenizer = ReadTokenizer(file, config.VocabSize);
        return (config, ReadWeights(file, config, backend), tokenizer);
    }

    /// <summary>The model shape from the llama.* keys (and the embedding's rows when llama.vocab_size is absent).</summary>
    public static LmConfig ReadConfig(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        string arch = String(file, GgufLlamaKeys.Architecture);
        if (arch != "llama")
            throw new LmFormatException($"GGUF {file.Name}: {GgufLlamaKeys.Architecture} is '{arch}'; only 'llama' is supported.");
        int dim = Int(file, GgufLlamaKeys.EmbeddingLength, MaxDim);
        int hidden = Int(file, GgufLlamaKeys.FeedForwardLength, MaxHidden);
        int layers = Int(file, GgufLlamaKeys.BlockCount, MaxLayers);
        int heads = Int(file, GgufLlamaKeys.HeadCount, dim);
        int kvHeads = file.Get(GgufLlamaKeys.HeadCountKv) is null ? heads : Int(file, GgufLlamaKeys.HeadCountKv, heads);
        int context = Int(file, GgufLlamaKeys.ContextLength, MaxSeq);
        var embedding = file.Find(GgufLlamaKeys.TokenEmbedding)
                        ?? throw new LmFormatException($"GGUF {file.Name}: tensor '{GgufLlamaKeys.TokenEmbedding}' is missing.");
        int vocab = file.Get(GgufLlamaKeys.VocabSize) is null
            ? embedding.Dims.Length == 2 && embedding.Dims[1] <= MaxVocab ? (int)embedding.Dims[1] : throw new LmFormatException(
                $"GGUF {file.Name}: '{GgufLlamaKeys.TokenEmbedding}' dims [{string.Join(", ", embedding.Dims)}] give no vocabulary size.")
            : Int(file, GgufLlamaKeys.VocabSize, MaxVocab);
        if (dim % heads != 0 || heads % kvHeads != 0 || dim / heads % 2 != 0)
            throw new LmFormatException($"GGUF {file.Name}: {GgufLlamaKeys.EmbeddingLength} {dim}, {GgufLlamaKeys.HeadCount} {heads} and " +
                                        $"{GgufLlamaKeys.HeadCountKv} {kvHeads} do not form whole, even heads.");
        if (file.Get(GgufLlamaKeys.RopeDimensionCount) is not null && Int(file, GgufLlamaKeys.RopeDimensionCount, MaxDim) != dim / heads)
            throw new LmFormatException($"GGUF {file.Name}: {GgufLlamaKeys.RopeDimensionCount} differs from the head dim {dim / heads}; partial rotary is not supported.");
        if (file.Get(GgufLlamaKeys.RopeScalingType) is { } scaling && scaling.Value as string != "none")
            throw new LmFormatException($"GGUF {file.Name}: {GgufLlamaKeys.RopeScalingType} = {scaling}; rope scaling is not supported.");
        float eps = Float(file, GgufLlamaKeys.RmsEpsilon, null);
        // llama.cpp itself falls back to 10000 when the key is absent; doing the same keeps both readers in step.
        float theta = Float(file, GgufLlamaKeys.RopeFreqBase, 10000f);
        if (!(eps > 0 && eps < 1) || !(theta > 1 && float.IsFinite(theta)))
            throw new LmFormatException($"GGUF {file.Name}: {GgufLlamaKeys.RmsEpsilon} = {eps} or {GgufLlamaKeys.RopeFreqBase} = {theta} is out of range.");
        return new LmConfig(LmArchitecture.Llama, dim, hidden, layers, heads, kvHeads, vocab, context, eps, theta, RopeLayout.Interleaved,
            RopeFactors(file, dim / heads));
    }

    // rope_freqs.weight (llama.cpp's LLM_TENSOR_ROPE_FREQS): F32 [D/2], pair i rotating at theta^(-2i/D) / factor i.
    private static RopeFrequencyFactors? RopeFactors(GgufFile file, int headDim)
    {
        if (file.Find(GgufLlamaKeys.RopeFreqs) is not { } info) return null;
        if (info.RowMajorShape is not [var n] || n != headDim / 2)
            throw new LmFormatException($"GGUF {file.Name}: tensor '{GgufLlamaKeys.RopeFreqs}' is [{string.Join(", ", info.RowMajorShape)}], expected [{headDim / 2}] (one factor per pair of the {headDim}-dim head).");
        var factors = new RopeFrequencyFactors(file.ReadF32(info));
        try
        {
            factors.Validate(headDim);
        }
        catch (ArgumentException e)
        {
            throw new LmFormatException($"GGUF {file.Name}: tensor '{GgufLlamaKeys.RopeFreqs}': {e.Message}", e);
        }
        return factors;
    }

    /// <summary>
    /// The embedded tokenizer: tokenizer.ggml.model "llama" (SentencePiece pieces with U+2581 for spaces, scores and
    /// token types; byte tokens "&lt;0xAB&gt;" must sit at id AB + 3, where <see cref="LlamaCTokenizer"/>'s byte
    /// fallback looks) or "gpt2" (byte-level BPE with Llama 3's pre-tokenizer, <see cref="GgufBpeTokenizer"/>).
    /// </summary>
    public static ITextTokenizer ReadTokenizer(GgufFile file, int vocabSize)
    {
        ArgumentNullException.ThrowIfNull(file);
        string model = String(file, GgufLlamaKeys.TokenizerModel);
        if (model == "gpt2") return GgufBpeTokenizer.Read(file, vocabSize);
        if (model != "llama")
            throw new LmFormatException($"GGUF {file.Name}: {GgufLlamaKeys.TokenizerModel} is '{model}'; only 'llama' (SentencePiece) and 'gpt2' (byte-level BPE) are supported.");
        var tokens = Array(file, GgufLlamaKeys.Tokens, GgufValueType.String, vocabSize, required: true)!;
        var scores = Array(file, GgufLlamaKeys.Scores, GgufValueType.Float32, vocabSize, required: false);
        var types = file.Get(GgufLlamaKeys.TokenType) is null ? null : Array(file, GgufLlamaKeys.TokenType, null, vocabSize, required: true);
        var pieces = new byte[vocabSize][];
        var scoreValues = new float[vocabSize];
        for (int i = 0; i < vocabSize; i++)
        {
            string text = (string)tokens[i].Value;
            long type = types?[i].AsInt64() ?? GgufLlamaKeys.TypeNormal;
            if (type == GgufLlamaKeys.TypeByte && !(text.Length == 6 && text.StartsWith("<0x", StringComparison.Ordinal) && text[5] == '>'
                                                     && int.TryParse(text.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out int b) && b + 3 == i))
                throw new LmFormatException($"GGUF {file.Name}: byte token {i} '{text}' is not '<0xAB>' at id AB + 3.");
            pieces[i] = Encoding.UTF8.GetBytes(text.Replace('\u2581', ' '));
            scoreValues[i] = scores is null ? 0f : (float)(double)scores[i].Value;
        }
        int bos = TokenId(file, GgufLlamaKeys.BosId, 1, vocabSize), eos = TokenId(file, GgufLlamaKeys.EosId, 2, vocabSize);
        return LlamaCTokenizer.FromPieces(pieces, scoreValues, bos, eos);
    }

    private static LmWeights ReadWeights(GgufFile file, LmConfig c, IBackend backend)
    {
        var owned = new List<Tensor>();
        Tensor Load(string name, params long[] shape)
        {
            var info = file.Find(name) ?? throw new LmFormatException($"GGUF {file.Name}: tensor '{name}' is missing.");
            if (!info.RowMajorShape.SequenceEqual(shape))
                throw new LmFormatException($"GGUF {file.Name}: tensor '{name}' is [{string.Join(", ", info.RowMajorShape)}], expected [{string.Join(", ", shape)}].");
            var t = Tensor.From<float>(file.ReadF32(info), new Shape(shape.Select(d => (int)d).ToArray()), backend);
            owned.Add(t);
            return t;
        }
        try
        {
            int C = c.Dim, kv = c.KvDim, hid = c.HiddenDim, V = c.VocabSize;
            var embedding = Load(GgufLlamaKeys.TokenEmbedding, V, C);
            var layers = new LmLayerWeights[c.Layers];
            for (int l = 0; l < c.Layers; l++)
            {
                layers[l] = new LmLayerWeights
                {
                    AttnNorm = Load(GgufLlamaKeys.Block(l, "attn_norm"), C),
                    Wq = Load(GgufLlamaKeys.Block(l, "attn_q"), C, C),
                    Wk = Load(GgufLlamaKeys.Block(l, "attn_k"), kv, C),
                    Wv = Load(GgufLlamaKeys.Block(l, "attn_v"), kv, C),
                    Wo = Load(GgufLlamaKeys.Block(l, "attn_output"), C, C),
                    FfnNorm = Load(GgufLlamaKeys.Block(l, "ffn_norm"), C),
                    Gate = Load(GgufLlamaKeys.Block(l, "ffn_gate"), hid, C),
                    Up = Load(GgufLlamaKeys.Block(l, "ffn_up"), hid, C),
                    Down = Load(GgufLlamaKeys.Block(l, "ffn_down"), C, hid),
                };
            }
            var finalNorm = Load(GgufLlamaKeys.OutputNorm, C);
            // No output.weight: the classifier is tied to the embedding (as llama.cpp does).
            var classifier = file.Find(GgufLlamaKeys.Output) is null ? embedding : Load(GgufLlamaKeys.Output, V, C);
            return new LmWeights { TokenEmbedding = embedding, Layers = layers, FinalNorm = finalNorm, Classifier = classifier };
        }
        catch
        {
            foreach (var t in owned) t.Dispose();
            throw;
        }
    }

    internal static GgufValue Required(GgufFile file, string key) =>
        file.Get(key) ?? throw new LmFormatException($"GGUF {file.Name}: metadata key '{key}' is missing.");

    internal static string String(GgufFile file, string key) =>
        Required(file, key).Value as string ?? throw new LmFormatException($"GGUF {file.Name}: '{key}' is {Required(file, key)}, not a string.");

    private static int Int(GgufFile file, string key, int max)
    {
        var v = Required(file, key);
        long? x = v.AsInt64();
        if (x is not { } n || n <= 0 || n > max)
            throw new LmFormatException($"GGUF {file.Name}: '{key}' = {v} is not an integer in 1..{max}.");
        return (int)n;
    }

    internal static int TokenId(GgufFile file, string key, int fallback, int vocab)
    {
        var v = file.Get(key);
        if (v is null) return fallback;
        long? x = v.AsInt64();
        if (x is not { } n || n < 0 || n >= vocab)
            throw new LmFormatException($"GGUF {file.Name}: '{key}' = {v} is not a token id in 0..{vocab - 1}.");
        return (int)n;
    }

    private static float Float(GgufFile file, string key, float? fallback)
    {
        var v = fallback is null ? Required(file, key) : file.Get(key);
        if (v is null) return fallback!.Value;
        return v.AsDouble() is { } d ? (float)d : throw new LmFormatException($"GGUF {file.Name}: '{key}' = {v} is not a number.");
    }

    internal static IReadOnlyList<GgufValue>? Array(GgufFile file, string key, GgufValueType? element, int count, bool required)
    {
        var v = required ? Required(file, key) : file.Get(key);
        if (v is null) return null;
        if (v.Type != GgufValueType.Array || (element is { } e ? v.ElementType != e : !v.ArrayItems.All(i => i.IsInteger)) || v.ArrayItems.Count != count)
            throw new LmFormatException($"GGUF {file.Name}: '{key}' is {v}; expected {count} {(element?.ToString() ?? "integer")} values (the vocabulary size).");
        return v.ArrayItems;
    }
}
