// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm.Loading.Gguf;

using System.Text;
using HpcCore.Kernels;
using HpcCore.Models.Lm.Tokenization;

/// <summary>
/// Writes a Llama-family <see cref="LmConfig"/> + <see cref="LmWeights"/> + tokenizer as a self-contained llama GGUF
/// file that llama.cpp reads. The tokenizer is a <see cref="LlamaCTokenizer"/> (written as SentencePiece "llama") or a
/// byte-level BPE read from tokenizer.json (<see cref="MlTextTokenizer.ByteLevelBpe"/>, written as "gpt2" with
/// Llama 3's pre-tokenizer, <see cref="GgufBpeTokenizer"/>). Matrices are stored as the requested type; norms stay F32
/// (as llama.cpp's converter keeps them), and so does a matrix whose rows are not a whole number of the type's blocks
/// (stories260K's 172-wide FFN under Q8_0). Weights in Hugging Face's half-split RoPE layout have their Q and K rows
/// permuted to Meta's interleaved layout, which GGUF's llama expects. Rope scaling (Llama 3.1's) is written as
/// llama.cpp's converter writes it: the <c>rope_freqs.weight</c> tensor of per-pair frequency divisors, F32 [D/2].
/// </summary>
public static class GgufLlamaWriter
{
    /// <summary>Writes <paramref name="path"/>.</summary>
    public static void Write(string path, LmConfig config, LmWeights weights, ITextTokenizer tokenizer, GgufTensorType type, string name = "hpccore")
    {
        ArgumentNullException.ThrowIfNull(path);
        Build(config, weights, tokenizer, type, name).Write(path);
    }

    /// <summary>The writer holding every key and tensor of the file.</summary>
    public static GgufWriter Build(LmConfig config, LmWeights weights, ITextTokenizer tokenizer, GgufTensorType type, string name)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (config.Architecture != LmArchitecture.Llama)
            throw new ArgumentException($"GgufLlamaWriter: architecture {config.Architecture} cannot be written; only Llama.", nameof(config));
        if (!GgufQuantize.CanWrite(type))
            throw new ArgumentException($"GgufLlamaWriter: type {type} cannot be written (F32, F16, BF16, Q8_0).", nameof(type));
        if (tokenizer.VocabSize != config.VocabSize)
            throw new ArgumentException($"GgufLlamaWriter: the tokenizer has {tokenizer.VocabSize} tokens, the model {config.VocabSize}.", nameof(tokenizer));
        var w = new GgufWriter()
            .Add(GgufLlamaKeys.Architecture, GgufValue.Of("llama"))
            .Add(GgufLlamaKeys.Name, GgufValue.Of(name))
            .Add(GgufLlamaKeys.FileType, GgufValue.Of(GgufLlamaKeys.FileTypeOf(type)))
            .Add(GgufLlamaKeys.ContextLength, GgufValue.Of((uint)config.MaxSeqLen))
            .Add(GgufLlamaKeys.EmbeddingLength, GgufValue.Of((uint)config.Dim))
            .Add(GgufLlamaKeys.BlockCount, GgufValue.Of((uint)config.Layers))
            .Add(GgufLlamaKeys.FeedForwardLength, GgufValue.Of((uint)config.HiddenDim))
            .Add(GgufLlamaKeys.HeadCount, GgufValue.Of((uint)config.Heads))
            .Add(GgufLlamaKeys.HeadCountKv, GgufValue.Of((uint)config.KvHeads))
            .Add(GgufLlamaKeys.RmsEpsilon, GgufValue.Of(config.NormEpsilon))
            .Add(GgufLlamaKeys.RopeFreqBase, GgufValue.Of(config.RopeTheta))
            .Add(GgufLlamaKeys.RopeDimensionCount, GgufValue.Of((uint)config.HeadDim))
            .Add(GgufLlamaKeys.VocabSize, GgufValue.Of((uint)config.VocabSize));
        if (tokenizer is LlamaCTokenizer sentencePiece) AddTokenizer(w, sentencePiece);
        else if (tokenizer is MlTextTokenizer { ByteLevelBpe: { } bpe }) GgufBpeTokenizer.Write(w, bpe, config.VocabSize);
        else throw new ArgumentException($"GgufLlamaWriter: a {tokenizer.GetType().Name} cannot be embedded; GGUF's llama takes a llama2.c-style (SentencePiece) vocabulary or a byte-level BPE from tokenizer.json.", nameof(tokenizer));
        // llama.cpp's converter stores Llama 3.1's scaling as these per-pair divisors, which ggml's rope applies.
        if (config.RopeScaling is { } scaling)
            w.AddTensor(GgufLlamaKeys.RopeFreqs, [config.HeadDim / 2], GgufTensorType.F32, scaling.FrequencyFactors(config.RopeTheta, config.HeadDim));

        int C = config.Dim, kv = config.KvDim, hid = config.HiddenDim, V = config.VocabSize;
        void Matrix(string tensor, HpcCore.Tensors.Tensor t, int rows, int cols, bool rope = false)
        {
            var data = t.ToArray<float>();
            if (data.Length != (long)rows * cols)
                throw new ArgumentException($"GgufLlamaWriter: '{tensor}' has {data.Length} values, expected [{rows}, {cols}].", nameof(weights));
            if (rope && config.RopeLayout == RopeLayout.HalfSplit) data = HalfSplitToInterleaved(data, rows, cols, config.HeadDim);
            var stored = cols % GgufTensorTypes.Block(type).BlockValues == 0 ? type : GgufTensorType.F32;
            w.AddTensor(tensor, [rows, cols], stored, data);
        }
        void Vector(string tensor, HpcCore.Tensors.Tensor t) => w.AddTensor(tensor, [C], GgufTensorType.F32, t.ToArray<float>());

        Matrix(GgufLlamaKeys.TokenEmbedding, weights.TokenEmbedding, V, C);
        for (int l = 0; l < config.Layers; l++)
        {
            var b = weights.Layers[l];
            if (b.Gate is null || b.Bq is not null || b.Bk is not null || b.Bv is not null || b.Bo is not null || b.AttnNormBias is not null)
                throw new ArgumentException($"GgufLlamaWriter: layer {l} is not a Llama block (biases or no gate).", nameof(weights));
            Vector(GgufLlamaKeys.Block(l, "attn_norm"), b.AttnNorm);
            Matrix(GgufLlamaKeys.Block(l, "attn_q"), b.Wq, C, C, rope: true);
            Matrix(GgufLlamaKeys.Block(l, "attn_k"), b.Wk, kv, C, rope: true);
            Matrix(GgufLlamaKeys.Block(l, "attn_v"), b.Wv, kv, C);
            Matrix(GgufLlamaKeys.Block(l, "attn_output"), b.Wo, C, C);
            Vector(GgufLlamaKeys.Block(l, "ffn_norm"), b.FfnNorm);
            Matrix(GgufLlamaKeys.Block(l, "ffn_gate"), b.Gate, hid, C);
            Matrix(GgufLlamaKeys.Block(l, "ffn_up"), b.Up, hid, C);
            Matrix(GgufLlamaKeys.Block(l, "ffn_down"), b.Down, C, hid);
        }
        Vector(GgufLlamaKeys.OutputNorm, weights.FinalNorm);
        if (!ReferenceEquals(weights.Classifier, weights.TokenEmbedding)) Matrix(GgufLlamaKeys.Output, weights.Classifier, V, C);
        return w;
    }

    /// <summary>
    /// Reorders the rows of each head from pairs (i, i + D/2) to pairs (2i, 2i + 1): interleaved row 2i is half-split
    /// row i and row 2i + 1 is row i + D/2 (the inverse of Hugging Face's conversion of Meta's weights).
    /// </summary>
    public static float[] HalfSplitToInterleaved(float[] data, int rows, int cols, int headDim)
    {
        var result = new float[data.Length];
        int half = headDim / 2;
        for (int head = 0; head < rows / headDim; head++)
            for (int i = 0; i < half; i++)
            {
                int baseRow = head * headDim;
                data.AsSpan((baseRow + i) * cols, cols).CopyTo(result.AsSpan((baseRow + 2 * i) * cols, cols));
                data.AsSpan((baseRow + i + half) * cols, cols).CopyTo(result.AsSpan((baseRow + 2 * i + 1) * cols, cols));
            }
        return result;
    }

    // SentencePiece spelling: spaces as U+2581. A piece that is not valid UTF-8 (a raw byte of a byte-level vocabulary)
    // is written as its byte token "<0xAB>", which must then sit at id AB + 3 (the byte-fallback ids).
    private static void AddTokenizer(GgufWriter w, LlamaCTokenizer tokenizer)
    {
        var strict = new UTF8Encoding(false, throwOnInvalidBytes: true);
        int n = tokenizer.VocabSize;
        var tokens = new GgufValue[n];
        var scores = new GgufValue[n];
        var types = new GgufValue[n];
        for (int i = 0; i < n; i++)
        {
            var piece = tokenizer.Piece(i);
            string text;
            int type;
            try
            {
                text = strict.GetString(piece).Replace(' ', '\u2581');
                type = IsByteToken(text) ? GgufLlamaKeys.TypeByte
                    : i == tokenizer.BosId || i == tokenizer.EosId ? GgufLlamaKeys.TypeControl
                    : i == 0 && text == "<unk>" ? GgufLlamaKeys.TypeUnknown
                    : GgufLlamaKeys.TypeNormal;
            }
            catch (DecoderFallbackException)
            {
                if (piece.Length != 1 || piece[0] + 3 != i)
                    throw new ArgumentException($"GgufLlamaWriter: token {i} is not UTF-8 and not a single byte at id byte + 3; GGUF cannot hold it.", nameof(tokenizer));
                text = $"<0x{piece[0]:X2}>";
                type = GgufLlamaKeys.TypeByte;
            }
            tokens[i] = GgufValue.Of(text);
            scores[i] = GgufValue.Of(tokenizer.Score(i));
            types[i] = GgufValue.Scalar(GgufValueType.Int32, (long)type);
        }
        w.Add(GgufLlamaKeys.TokenizerModel, GgufValue.Of("llama"))
            .Add(GgufLlamaKeys.Tokens, GgufValue.Array(GgufValueType.String, tokens))
            .Add(GgufLlamaKeys.Scores, GgufValue.Array(GgufValueType.Float32, scores))
            .Add(GgufLlamaKeys.TokenType, GgufValue.Array(GgufValueType.Int32, types))
            .Add(GgufLlamaKeys.BosId, GgufValue.Of((uint)tokenizer.BosId))
            .Add(GgufLlamaKeys.EosId, GgufValue.Of((uint)tokenizer.EosId))
            .Add(GgufLlamaKeys.UnknownId, GgufValue.Of(0u))
            .Add(GgufLlamaKeys.AddBos, GgufValue.Of(true))
            .Add(GgufLlamaKeys.AddEos, GgufValue.Of(false));
    }

    private static bool IsByteToken(string t) =>
        t.Length == 6 && t.StartsWith("<0x", StringComparison.Ordinal) && t[5] == '>' && Uri.IsHexDigit(t[3]) && Uri.IsHexDigit(t[4]);
}
