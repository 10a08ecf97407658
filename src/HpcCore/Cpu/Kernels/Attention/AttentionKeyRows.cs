// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Where the score and value micro-kernels find a key block's K and V rows. Gathered blocks (masks, selected keys, key
// terms) list them in a pointer table; a block of consecutive positions (the dense case) is one first row and a
// stride, so the tile builds no table and the kernels load no pointer per key (about 3% of a B1 H12 T1024 call for
// V, and for K the table fill was half of the tile's own time). The kernels are generic over the struct, so the JIT
// compiles one copy per kind with the row address inlined.
namespace HpcCore.Cpu;

/// <summary>Row j of a key block.</summary>
internal unsafe interface IKeyRows
{
    float* Row(int j);
}

/// <summary>Rows listed in a pointer table.</summary>
internal readonly unsafe struct TableRows(float** rows) : IKeyRows
{
    public float* Row(int j) => rows[j];
}

/// <summary>Consecutive rows <paramref name="stride"/> floats apart from <paramref name="first"/>.</summary>
internal readonly unsafe struct StridedRows(float* first, long stride) : IKeyRows
{
    public float* Row(int j) => first + j * stride;
}
