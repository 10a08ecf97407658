// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Encoder;

/// <summary>How a sentence encoder turns its last hidden state [B, T, D] into one vector per text.</summary>
public enum EncoderPooling
{
    /// <summary>Mean over the text's tokens, padding excluded (all-MiniLM-L6-v2; sentence-transformers' default).</summary>
    Mean,

    /// <summary>The [CLS] token's row (snowflake-arctic-embed).</summary>
    Cls,
}
