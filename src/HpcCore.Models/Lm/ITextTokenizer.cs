// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm;

/// <summary>What generation and evaluation need from a tokenizer: ids for a prompt and bytes for each generated id.</summary>
public interface ITextTokenizer
{
    /// <summary>Vocabulary size.</summary>
    int VocabSize { get; }

    /// <summary>Id that starts a sequence, or -1 if the model has none.</summary>
    int BosId { get; }

    /// <summary>Id that ends a sequence, or -1 if the model has none.</summary>
    int EosId { get; }

    /// <summary>Token ids of <paramref name="text"/>, with the BOS id first when <paramref name="addBos"/>.</summary>
    int[] Encode(string text, bool addBos);

    /// <summary>
    /// Appends the UTF-8 bytes of <paramref name="token"/> following <paramref name="previous"/> to
    /// <paramref name="output"/> and returns how many were written (pieces may be partial UTF-8 sequences).
    /// </summary>
    int DecodeBytes(int previous, int token, Span<byte> output);

    /// <summary>Longest byte count one token can decode to.</summary>
    int MaxTokenBytes { get; }
}
