// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm.Loading.Gguf;

/// <summary>
/// The GGUF names of the llama architecture (llama.cpp's LLM_ARCH_LLAMA): metadata keys, tensor names and the
/// embedded tokenizer's keys (SentencePiece "llama" or byte-level BPE "gpt2") and token types.
/// </summary>
public static class GgufLlamaKeys
{
#pragma warning disable CS1591 // Names whose meaning is their value.
    public const string Architecture = "general.architecture", Name = "general.name", FileType = "general.file_type";
    public const string ContextLength = "llama.context_length", EmbeddingLength = "llama.embedding_length",
        BlockCount = "llama.block_count", FeedForwardLength = "llama.feed_forward_length",
        HeadCount = "llama.attention.head_count", HeadCountKv = "llama.attention.head_count_kv",
        RmsEpsilon = "llama.attention.layer_norm_rms_epsilon", RopeFreqBase = "llama.rope.freq_base",
        RopeDimensionCount = "llama.rope.dimension_count", RopeScalingType = "llama.rope.scaling.type", VocabSize = "llama.vocab_size";
    public const string TokenizerModel = "tokenizer.ggml.model", Tokens = "tokenizer.ggml.tokens", Scores = "tokenizer.ggml.scores",
        TokenType = "tokenizer.ggml.token_type", BosId = "tokenizer.ggml.bos_token_id", EosId = "tokenizer.ggml.eos_token_id",
        UnknownId = "tokenizer.ggml.unknown_token_id", AddBos = "tokenizer.ggml.add_bos_token", AddEos = "tokenizer.ggml.add_eos_token",
        Merges = "tokenizer.ggml.merges", PreTokenizer = "tokenizer.ggml.pre";
    public const string TokenEmbedding = "token_embd.weight", OutputNorm = "output_norm.weight", Output = "output.weight",
        RopeFreqs = "rope_freqs.weight";

    /// <summary>Token types of tokenizer.ggml.token_type (llama.cpp's llama_token_type).</summary>
    public const int TypeNormal = 1, TypeUnknown = 2, TypeControl = 3, TypeUserDefined = 4, TypeUnused = 5, TypeByte = 6;
#pragma warning restore CS1591

    /// <summary>Name of a block tensor, for example <c>blk.3.attn_q.weight</c>.</summary>
    public static string Block(int layer, string part) => $"blk.{layer}.{part}.weight";

    /// <summary>general.file_type for a file whose matrices are <paramref name="type"/> (llama_ftype: ALL_F32, MOSTLY_F16, MOSTLY_Q8_0, MOSTLY_BF16).</summary>
    public static uint FileTypeOf(GgufTensorType type) => type switch
    {
        GgufTensorType.F32 => 0,
        GgufTensorType.F16 => 1,
        GgufTensorType.Q8_0 => 7,
        GgufTensorType.BF16 => 32,
        _ => throw new ArgumentException($"GgufLlamaKeys.FileTypeOf: {type} is not a written type.", nameof(type)),
    };
}
