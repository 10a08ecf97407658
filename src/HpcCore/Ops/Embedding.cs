// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Ops;

using HpcCore.Cpu;
using HpcCore.Diagnostics;
using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>Embedding lookup: rows of a table [V, C] picked by I32 ids [...], giving [..., C].</summary>
public static class Embedding
{
    private const string Op = "Embedding.Gather";

    /// <summary>Gathers table rows for every id; allocated.</summary>
    public static Tensor Gather(Tensor table, Tensor ids)
    {
        Check.Live(Op, "table", table);
        Check.Live(Op, "ids", ids);
        Check.Rank(Op, "table", table, 2, "[V, C]");
        Span<int> dims = stackalloc int[ids.Rank + 1];
        ids.Shape.CopyTo(dims);
        dims[^1] = table.Shape[1];
        return OutputTensor.Fill(Tensor.Empty(new Shape(dims), DType.F32, table.Backend), (table, ids),
            static (d, s) => Gather(s.table, s.ids, d));
    }

    /// <summary>
    /// Gathers table rows into <paramref name="destination"/> [..., C]. Ids are range-checked when they live on
    /// the CPU; on a GPU an out-of-range id yields a zero row.
    /// </summary>
    public static void Gather(Tensor table, Tensor ids, Tensor destination)
    {
        Check.Live(Op, "table", table);
        Check.Operand(Op, "table", table, table, "table", DType.F32);
        Check.Rank(Op, "table", table, 2, "[V, C]");
        Check.Operand(Op, "ids", ids, table, "table", DType.I32);
        Check.Operand(Op, "destination", destination, table, "table", DType.F32);
        int v = table.Shape[0], c = table.Shape[1];
        Span<int> dims = stackalloc int[ids.Rank + 1];
        ids.Shape.CopyTo(dims);
        dims[^1] = c;
        Check.Shape(Op, "destination", destination, new Shape(dims), "ids by table width", ids, "ids");
        if (ids.Storage is CpuStorage)
        {
            var span = ids.AsSpan<int>();
            for (int i = 0; i < span.Length; i++)
                if ((uint)span[i] >= (uint)v)
                    ThrowHelper.Argument(Op, "ids", $"holds {span[i]} at flat index {i}, outside the table's {v} rows (table {table.Shape})");
        }
        table.Backend.Kernels.Embedding(new EmbeddingArgs(table, ids, destination, ids.ElementCount, c, v));
    }
}
