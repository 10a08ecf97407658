// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Optional capability: a backend's kernel set implements this when it has fused attention. Kept apart from
// IKernels so that a backend can ship without it; Attention.Forward checks for it and throws NotSupportedException.
namespace HpcCore.Kernels;

/// <summary>Fused scaled-dot-product attention kernels (see <see cref="AttentionArgs"/>).</summary>
public interface IAttentionKernels
{
    /// <summary>Attention over validated arguments; writes Dest and every requested export in full.</summary>
    void Attention(in AttentionArgs args);
}
