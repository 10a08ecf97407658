// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Ops;

using HpcCore.Diagnostics;
using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>
/// Cosine similarity and best-partner search (methods.md K4): ToMe's bipartite soft matching (Bolya et al.,
/// ICLR 2023), AIM's merge, Zero-TPrune's similarity stage.
/// </summary>
public static class Similarity
{
    private const string CosineOp = "Similarity.Cosine";
    private const string BestMatchOp = "Similarity.BestMatch";
    private const string RowMaxOp = "Similarity.RowMax";

    /// <summary>out[b, i, j] = a_i . b_j / (|a_i| |b_j|), 0 where a norm is 0, for a [B, N, C] and b [B, M, C]; gives [B, N, M].</summary>
    public static Tensor Cosine(Tensor a, Tensor b)
    {
        Check.Live(CosineOp, "a", a);
        Check.Live(CosineOp, "b", b);
        SelectionValidation.Rank3(CosineOp, "a", a, "[B, N, C]");
        SelectionValidation.Rank3(CosineOp, "b", b, "[B, M, C]");
        var shape = new Shape(a.Shape[0], a.Shape[1], b.Shape[1]);
        return OutputTensor.Fill(Tensor.Empty(shape, DType.F32, a.Backend), (a, b), static (d, s) => Cosine(s.a, s.b, d));
    }

    /// <summary>Cosine similarity of the rows of a and b into <paramref name="destination"/> [B, N, M].</summary>
    public static void Cosine(Tensor a, Tensor b, Tensor destination)
    {
        var (batch, n, m, c) = Pair(CosineOp, a, b);
        Check.Operand(CosineOp, "destination", destination, a, "a", DType.F32);
        Check.Shape(CosineOp, "destination", destination, new Shape(batch, n, m), "[B, N, M]", b, "b");
        SelectionValidation.Kernels(CosineOp, a).Cosine(new CosineArgs(a, b, destination, batch, n, m, c));
    }

    /// <summary>
    /// Best cosine partner of every row of a [B, N, C] among the rows j &gt;= <paramref name="excludeLeadingColumns"/>
    /// of b [B, M, C], without materialising [N, M]: Max F32 [B, N] and Argmax I32 [B, N] (ties: lower j; NaN
    /// similarities skipped); Max = -inf and Argmax = -1 when no column remains.
    /// </summary>
    public static (Tensor Max, Tensor Argmax) BestMatch(Tensor a, Tensor b, int excludeLeadingColumns = 0)
    {
        Check.Live(BestMatchOp, "a", a);
        SelectionValidation.Rank3(BestMatchOp, "a", a, "[B, N, C]");
        var shape = new Shape(a.Shape[0], a.Shape[1]);
        var max = Tensor.Empty(shape, DType.F32, a.Backend);
        try
        {
            var argmax = OutputTensor.Fill(Tensor.Empty(shape, DType.I32, a.Backend), (a, b, excludeLeadingColumns, max),
                static (d, s) => BestMatch(s.a, s.b, s.max, d, s.excludeLeadingColumns));
            return (max, argmax);
        }
        catch
        {
            max.Dispose();
            throw;
        }
    }

    /// <summary>Best cosine partner of every row of a into F32 <paramref name="max"/> [B, N] and I32 <paramref name="argmax"/> [B, N].</summary>
    public static void BestMatch(Tensor a, Tensor b, Tensor max, Tensor argmax, int excludeLeadingColumns = 0)
    {
        var (batch, n, m, c) = Pair(BestMatchOp, a, b);
        Check.Operand(BestMatchOp, "max", max, a, "a", DType.F32);
        Check.Shape(BestMatchOp, "max", max, new Shape(batch, n), "[B, N]", a, "a");
        Check.Operand(BestMatchOp, "argmax", argmax, a, "a", DType.I32);
        Check.Shape(BestMatchOp, "argmax", argmax, new Shape(batch, n), "[B, N]", a, "a");
        SelectionValidation.Count(BestMatchOp, "excludeLeadingColumns", excludeLeadingColumns, m, b, "b");
        SelectionValidation.Kernels(BestMatchOp, a)
            .BestMatch(new BestMatchArgs(a, b, max, argmax, batch, n, m, c, excludeLeadingColumns));
    }

    /// <summary>
    /// Row max F32 [...] and its argmax I32 [...] along the last axis of x [..., M] (ties: lower index; NaN skipped;
    /// -inf and -1 for a row without a number).
    /// </summary>
    public static (Tensor Max, Tensor Argmax) RowMax(Tensor x)
    {
        Check.Live(RowMaxOp, "x", x);
        Check.MinRank(RowMaxOp, "x", x, 1);
        var shape = SelectionValidation.WithoutLast(x.Shape);
        var max = Tensor.Empty(shape, DType.F32, x.Backend);
        try
        {
            var argmax = OutputTensor.Fill(Tensor.Empty(shape, DType.I32, x.Backend), (x, max), static (d, s) => RowMax(s.x, s.max, d));
            return (max, argmax);
        }
        catch
        {
            max.Dispose();
            throw;
        }
    }

    /// <summary>Row max and argmax of x [..., M] into F32 <paramref name="max"/> [...] and I32 <paramref name="argmax"/> [...].</summary>
    public static void RowMax(Tensor x, Tensor max, Tensor argmax)
    {
        Check.Operand(RowMaxOp, "x", x, x, "x", DType.F32);
        Check.MinRank(RowMaxOp, "x", x, 1);
        var shape = SelectionValidation.WithoutLast(x.Shape);
        Check.Operand(RowMaxOp, "max", max, x, "x", DType.F32);
        Check.Shape(RowMaxOp, "max", max, shape, "x without its last axis", x, "x");
        Check.Operand(RowMaxOp, "argmax", argmax, x, "x", DType.I32);
        Check.Shape(RowMaxOp, "argmax", argmax, shape, "x without its last axis", x, "x");
        SelectionValidation.Kernels(RowMaxOp, x).RowMax(new RowMaxArgs(x, max, argmax, x.Shape.RowCount, x.Shape.Last));
    }

    private static (int Batch, int N, int M, int C) Pair(string op, Tensor a, Tensor b)
    {
        Check.Operand(op, "a", a, a, "a", DType.F32);
        Check.Operand(op, "b", b, a, "a", DType.F32);
        SelectionValidation.Rank3(op, "a", a, "[B, N, C]");
        SelectionValidation.Rank3(op, "b", b, "[B, M, C]");
        if (b.Shape[0] != a.Shape[0] || b.Shape[2] != a.Shape[2])
            ThrowHelper.Argument(op, "b", $"has shape {b.Shape}; expected [{a.Shape[0]}, M, {a.Shape[2]}] (batch and channels of a {a.Shape})");
        return (a.Shape[0], a.Shape[1], b.Shape[1], a.Shape[2]);
    }
}
