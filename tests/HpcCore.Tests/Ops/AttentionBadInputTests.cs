// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Attention.Forward rejects bad input at the front door with messages naming the op, the argument and the shapes.
namespace HpcCore.Tests.Ops;

using HpcCore.Ops;
using HpcCore.Tensors;
using Xunit;

public sealed class AttentionBadInputTests : BadInputTestBase
{
    private const string Op = "Attention.Forward";

    [Fact]
    public void RejectsBadShapesAndLayouts()
    {
        var q = F(2, 5, 4, 8);
        Rejects<ArgumentException>(() => Attention.Forward(F(2, 5, 32), F(2, 5, 4, 8), F(2, 5, 4, 8)), Op, "q", "[2, 5, 32]", "[B, Tq, H, D]");
        Rejects<ArgumentException>(() => Attention.Forward(q, F(2, 6, 4, 16), F(2, 6, 4, 16)), Op, "k", "[2, 6, 4, 16]", "D = 8");
        Rejects<ArgumentException>(() => Attention.Forward(q, F(2, 6, 3, 8), F(2, 6, 3, 8)), Op, "k", "3 kv heads", "multiple");
        Rejects<ArgumentException>(() => Attention.Forward(q, F(2, 6, 2, 8), F(2, 7, 2, 8)), Op, "v", "[2, 7, 2, 8]");
        Rejects<ArgumentException>(() => Attention.Forward(q, F(2, 6, 2, 8), F(2, 6, 2, 8), F(2, 5, 4, 9)), Op, "destination");
        Rejects<ArgumentException>(() => Attention.Forward(F(2, 8, 4, 5).Transpose(1, 3), q, q), Op, "q", "head-dim stride");
        Rejects<ArgumentException>(() => Attention.Forward(T(DType.F16, 2, 5, 4, 8), q, q), Op, "k", "F32", "q's dtype F16");
        Rejects<ArgumentException>(() => Attention.Forward(T(DType.I32, 2, 5, 4, 8), q, q), Op, "q", "I32", "F32, F16 or BF16");
        Rejects<ArgumentException>(() => Attention.Forward(q, q, q, new AttentionOptions(BlockMask: T(DType.Bool, 2, 4, 1, 2))), Op, "BlockMask", "[2, 4, 1, 2]", "[2 or 1, 4 or 1, 1, 1]");
        Rejects<ArgumentException>(() => Attention.Forward(q, q, q, new AttentionOptions(BlockMask: T(DType.F32, 1, 1, 1, 1))), Op, "BlockMask", "F32");
        Rejects<ArgumentOutOfRangeException>(() => Attention.Forward(q, q, q, new AttentionOptions(BlockSize: -1)), Op, "BlockSize");
        Rejects<ArgumentException>(() => Attention.Forward(q, q, q, new AttentionOptions(KeyMeans: F(2, 5, 4))), Op, "KeyMeans", "[2, 5, 4]", "[B, Tk, D]");
    }

    [Fact]
    public void RejectsBadOptions()
    {
        var q = F(2, 5, 4, 8);
        var kv = F(2, 6, 2, 8);
        void Run(AttentionOptions o) => Attention.Forward(q, kv, kv, o);
        Rejects<ArgumentException>(() => Run(new(KeyPaddingMask: T(DType.Bool, 2, 5))), Op, "KeyPaddingMask", "[2, 6]");
        Rejects<ArgumentException>(() => Run(new(KeyPaddingMask: F(2, 6))), Op, "KeyPaddingMask", "Bool or U8");
        Rejects<ArgumentException>(() => Run(new(KeyLengths: F(2))), Op, "KeyLengths", "I32");
        Rejects<ArgumentException>(() => Run(new(KeyBias: F(2, 4, 6))), Op, "KeyBias", "[B, Hkv, Tk]");
        Rejects<ArgumentException>(() => Run(new(PositionBias: F(4, 6, 5))), Op, "PositionBias", "[4, 5, 6]");
        Rejects<ArgumentException>(() => Run(new(KeyTotals: F(2, 4, 5))), Op, "KeyTotals", "[2, 4, 6]");
        Rejects<ArgumentException>(() => Run(new(RowIndices: T(DType.I32, 1))), Op, "RowProbabilities", "go together");
        Rejects<ArgumentException>(() => Run(new(RowIndices: T(DType.I32, 1), RowProbabilities: F(2, 4, 1, 5))), Op, "RowProbabilities", "[2, 4, 1, 6]");
        Rejects<ArgumentOutOfRangeException>(() => Run(new(WindowLeft: -2)), Op, "WindowLeft");
        Rejects<ArgumentOutOfRangeException>(() => Run(new(SoftCap: -1f)), Op, "SoftCap");
        Rejects<ArgumentOutOfRangeException>(() => Run(new(Scale: float.NaN)), Op, "Scale");
    }

    [Fact]
    public void RejectsOutOfRangeIndices()
    {
        var q = F(1, 5, 2, 8);
        var kv = F(1, 6, 2, 8);
        using var lengths = Tensor.From<int>([7], new Shape(1), Cpu);
        using var selected = Tensor.From<int>([0, 6, 1, 2], new Shape(1, 2, 2), Cpu);
        using var rows = Tensor.From<int>([5], new Shape(1), Cpu);
        Rejects<ArgumentException>(() => Attention.Forward(q, kv, kv, new AttentionOptions(KeyLengths: lengths)), Op, "KeyLengths", "holds 7");
        Rejects<ArgumentException>(() => Attention.Forward(q, kv, kv, new AttentionOptions(SelectedKeys: selected)), Op, "SelectedKeys", "holds 6");
        Rejects<ArgumentException>(() => Attention.Forward(q, kv, kv, new AttentionOptions(RowIndices: rows, RowProbabilities: F(1, 2, 1, 6))), Op, "RowIndices", "holds 5");
    }
}
