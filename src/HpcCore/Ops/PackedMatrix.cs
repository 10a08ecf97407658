// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// A GEMM weight packed once (GotoBLAS's packed B; ONNX Runtime calls it pre-packing): models multiply the same
// weights on every call, and re-packing them per call cost more than the multiply at small M (the last ToMe blocks,
// batch-1 encoders), issue #18.
namespace HpcCore.Ops;

using HpcCore.Tensors;

/// <summary>
/// op(B) of a GEMM kept in the backend's panel layout, built by <see cref="Gemm.Pack"/> and used through
/// <see cref="Gemm.Multiply(Tensor, PackedMatrix, Tensor, in GemmOptions)"/>. It holds a reference to the source
/// tensor too (matrix-vector products read that in place), so memory grows by at most the packed copy. Immutable
/// after packing: share it across sessions and threads. Dispose it to release the packed copy and the reference.
/// </summary>
public sealed class PackedMatrix : IDisposable
{
    internal PackedMatrix(Tensor source, Tensor? panels, bool transposed, int k, int n)
    {
        Source = source;
        Panels = panels;
        Transposed = transposed;
        K = k;
        N = n;
    }

    /// <summary>The matrix as given to <see cref="Gemm.Pack"/> (a view holding its own reference).</summary>
    public Tensor Source { get; }

    /// <summary>The backend's packed copy, or null where the backend reads <see cref="Source"/> in place.</summary>
    internal Tensor? Panels { get; }

    /// <summary>Whether op(B) is the source transposed (nn.Linear weights [N, K]).</summary>
    public bool Transposed { get; }

    /// <summary>Rows of op(B): the product's inner dimension.</summary>
    public int K { get; }

    /// <summary>Columns of op(B): the product's output columns.</summary>
    public int N { get; }

    /// <summary>Bytes of the packed copy (0 when the backend keeps none).</summary>
    public long PackedBytes => Panels is null ? 0 : Panels.ElementCount * Panels.DType.SizeInBytes();

    /// <summary>Whether <see cref="Dispose"/> has run.</summary>
    public bool IsDisposed => Source.IsDisposed;

    /// <inheritdoc/>
    public void Dispose()
    {
        Panels?.Dispose();
        Source.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() => $"PackedMatrix([K={K}, N={N}] of {Source}, {(Panels is null ? "in place" : "packed")})";
}
