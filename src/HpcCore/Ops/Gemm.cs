// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The GEMM front door: resolves shapes, batch broadcasting and strides, then calls the backend's kernel.
namespace HpcCore.Ops;

using HpcCore.Diagnostics;
using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>
/// Matrix multiplication, batched over leading axes: <c>C = Alpha * op(A) @ op(B) + Beta * C + Bias</c>.
/// A is [..., M, K] and B is [..., K, N] (or [K, N] shared by the whole batch); C is [..., M, N].
/// Any view whose last or second-to-last axis has stride 1 is accepted without copying (a transposed view is
/// folded into the transpose flag); leading axes must collapse to one batch stride.
/// A and C are F32; B is F32 or BF16 (weights stored at half the bytes, widened exactly to F32 in the kernel, which
/// accumulates in F32 like the F32 path).
/// </summary>
public static class Gemm
{
    private const string Op = "Gemm.Multiply";

    /// <summary>Allocates and returns <c>op(A) @ op(B)</c> (+ bias) on A's device.</summary>
    public static Tensor Multiply(Tensor a, Tensor b, in GemmOptions options = default)
    {
        var plan = Plan(a, b, null, options);
        var c = Tensor.Empty(plan.OutShape, DType.F32, a.Backend);
        Run(a, b, c, options, plan);
        return c;
    }

    /// <summary>Writes <c>Alpha * op(A) @ op(B) + Beta * C + Bias</c> into <paramref name="destination"/>.</summary>
    public static void Multiply(Tensor a, Tensor b, Tensor destination, in GemmOptions options = default)
    {
        var plan = Plan(a, b, destination, options);
        Run(a, b, destination, options, plan);
    }

    /// <summary>
    /// Packs a GEMM right operand once for reuse by many products (a model's weights): op(B) is <paramref name="b"/>
    /// [K, N], or its transpose when <paramref name="transposeB"/> (nn.Linear weights [N, K]). Any backend accepts
    /// the result; those whose GEMM gains nothing from it keep only a reference to <paramref name="b"/>. A BF16
    /// <paramref name="b"/> is packed into F32 panels on the CPU (prefill then runs the F32 kernels), while
    /// matrix-vector products keep reading the BF16 source in place.
    /// </summary>
    public static PackedMatrix Pack(Tensor b, bool transposeB = false)
    {
        const string op = "Gemm.Pack";
        Check.Live(op, "b", b);
        CheckB(op, b);
        if (b.Rank != 2) ThrowHelper.Argument(op, "b", $"has shape {b.Shape}; a packed operand is one matrix [rows, cols]");
        var bm = MatrixView.Resolve(b, op, "b");
        bool trans = bm.ColumnMajor ^ transposeB;
        int k = transposeB ? b.Shape[1] : b.Shape[0], n = transposeB ? b.Shape[0] : b.Shape[1];
        var source = b.Narrow(0, 0, b.Shape[0]);
        try
        {
            var panels = b.Backend.Kernels.PackGemmB(new GemmPackArgs(b, trans, k, n, bm.Ld));
            return new PackedMatrix(source, panels, transposeB, k, n);
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes <c>Alpha * op(A) @ op(B) + Beta * C + Bias</c> into <paramref name="destination"/> with op(B) packed by
    /// <see cref="Pack"/> (its transpose was fixed there: <paramref name="options"/>' TransposeB must be false).
    /// </summary>
    public static void Multiply(Tensor a, PackedMatrix b, Tensor destination, in GemmOptions options = default)
    {
        ArgumentNullException.ThrowIfNull(b);
        if (b.IsDisposed) ThrowHelper.Argument(Op, "b", "is a disposed PackedMatrix");
        if (options.TransposeB)
            ThrowHelper.Argument(Op, "options", "sets TransposeB with a PackedMatrix, whose transpose is fixed by Gemm.Pack");
        var o = options with { TransposeB = b.Transposed };
        var plan = Plan(a, b.Source, destination, o);
        Run(a, b.Source, destination, o, plan, b.Panels);
    }

    private static void Run(Tensor a, Tensor b, Tensor c, in GemmOptions o, in GemmPlan p, Tensor? packedB = null)
    {
        var cm = MatrixView.Resolve(c, Op, "destination");
        if (cm.ColumnMajor)
            ThrowHelper.Argument(Op, "destination", $"is a transposed view of shape {c.Shape}; its last axis must have stride 1");
        var args = new GemmArgs(a, b, c, o.Bias,
            p.A.ColumnMajor ^ o.TransposeA, p.B.ColumnMajor ^ o.TransposeB, o.Alpha ?? 1f, o.Beta,
            p.Batch, p.M, p.N, p.K,
            p.A.BatchStride, p.B.Batch == 1 ? 0 : p.B.BatchStride, cm.BatchStride,
            p.A.Ld, p.B.Ld, cm.Ld, packedB, o.Activation);
        a.Backend.Kernels.Gemm(args);
    }

    private readonly record struct GemmPlan(MatrixView A, MatrixView B, int Batch, int M, int N, int K, Shape OutShape);

    private static GemmPlan Plan(Tensor a, Tensor b, Tensor? c, in GemmOptions o)
    {
        Check.Live(Op, "a", a);
        Check.Live(Op, "b", b);
        Check.SameDevice(Op, "b", b, a, "a");
        Check.DType(Op, "a", a, DType.F32);
        CheckB(Op, b);
        Check.MinRank(Op, "a", a, 2);
        Check.MinRank(Op, "b", b, 2);
        int m = o.TransposeA ? a.Shape[-1] : a.Shape[-2];
        int ka = o.TransposeA ? a.Shape[-2] : a.Shape[-1];
        int kb = o.TransposeB ? b.Shape[-1] : b.Shape[-2];
        int n = o.TransposeB ? b.Shape[-2] : b.Shape[-1];
        if (ka != kb)
            ThrowHelper.Argument(Op, "b", $"has shape {b.Shape} but a has shape {a.Shape}: inner dimensions {ka} and {kb} differ" +
                $" (transposeA={o.TransposeA}, transposeB={o.TransposeB})");
        var am = MatrixView.Resolve(a, Op, "a");
        var bm = MatrixView.Resolve(b, Op, "b");
        if (bm.Batch != 1 && (b.Rank != a.Rank || !SameLeading(a.Shape, b.Shape)))
            ThrowHelper.Argument(Op, "b", $"has shape {b.Shape}; its batch axes must match a's {a.Shape} or be absent");
        var outShape = OutShape(a.Shape, m, n);
        if (c is not null)
        {
            Check.Live(Op, "destination", c);
            Check.SameDevice(Op, "destination", c, a, "a");
            Check.DType(Op, "destination", c, DType.F32);
            Check.Shape(Op, "destination", c, outShape, "a times b", b, "b");
            Check.NoOverlap(Op, "destination", c, "a", a);
            Check.NoOverlap(Op, "destination", c, "b", b);
            Check.NoOverlap(Op, "destination", c, "Bias", o.Bias);
        }
        else if (o.Beta != 0)
        {
            ThrowHelper.OutOfRange(Op, "Beta", o.Beta, "a non-zero Beta needs a destination to accumulate into");
        }
        if (!Enum.IsDefined(o.Activation))
            ThrowHelper.OutOfRange(Op, "Activation", (int)o.Activation, "one of the GemmActivation values");
        if (o.Bias is { } bias)
        {
            Check.Live(Op, "Bias", bias);
            Check.SameDevice(Op, "Bias", bias, a, "a");
            Check.DType(Op, "Bias", bias, DType.F32);
            Check.Shape(Op, "Bias", bias, new Shape(n), "one value per output column");
            Check.Contiguous(Op, "Bias", bias);
        }
        return new GemmPlan(am, bm, am.Batch, m, n, ka, outShape);
    }

    // The one dtype rule for B, shared by Multiply and Pack: F32, or BF16 weights.
    private static void CheckB(string op, Tensor b)
    {
        if (b.DType is not (DType.F32 or DType.BF16))
            ThrowHelper.Argument(op, "b", $"has dtype {b.DType} (shape {b.Shape}); expected F32 or BF16");
    }

    // a's shape with its last two axes replaced by [m, n].
    private static Shape OutShape(in Shape a, int m, int n)
    {
        if (a.Rank == 2) return new Shape(m, n);
        Span<int> dims = stackalloc int[a.Rank];
        a.CopyTo(dims);
        dims[^2] = m;
        dims[^1] = n;
        return new Shape(dims);
    }

    private static bool SameLeading(Shape x, Shape y)
    {
        for (int i = 0; i < x.Rank - 2; i++)
            if (x[i] != y[i]) return false;
        return true;
    }
}
