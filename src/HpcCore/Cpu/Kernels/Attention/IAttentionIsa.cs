// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The vector operations the fused attention tile needs, so that one tile algorithm (AttentionTileWork) runs on
// Vector512 (32 query lanes, 8-row micro-kernels) and on Vector256 (16 query lanes, 4-row micro-kernels: AVX2 has
// 16 registers, not 32). A tile row of lanes is two vectors (x0 = lanes 0..W-1, x1 = lanes W..2W-1). The JIT
// specialises the tile per struct type argument, so every call below is inlined.
namespace HpcCore.Cpu;

/// <summary>Vector width, micro-kernels and lane operations of one ISA for <see cref="AttentionTileWork{TV, TIsa}"/>.</summary>
internal unsafe interface IAttentionIsa<TV> where TV : struct
{
    /// <summary>Floats per vector; a tile has 2 * Width query lanes.</summary>
    static abstract int Width { get; }

    /// <summary>Keys (score kernel) or head dims (value kernel) per micro-kernel call.</summary>
    static abstract int Rows { get; }

    static abstract TV Load(float* p);
    static abstract void Store(TV x, float* p);
    static abstract TV Create(float x);
    static abstract TV Add(TV a, TV b);
    static abstract TV Subtract(TV a, TV b);
    static abstract TV Multiply(TV a, TV b);

    /// <summary>a * b + c.</summary>
    static abstract TV FusedMultiplyAdd(TV a, TV b, TV c);
    static abstract TV Max(TV a, TV b);
    static abstract TV Exp(TV x);

    /// <summary>
    /// The units of the fused tile's scores per natural-log unit: the tile scales its logits (and every logit term:
    /// soft-cap, biases) by it, and <see cref="ExpScore"/> is the exponential in those units. log2(e) where a base-2
    /// exponential is cheaper (Vector512), 1 otherwise.
    /// </summary>
    static abstract float ScoreUnit { get; }

    /// <summary>e^(x / ScoreUnit) for x &lt;= 0: the tile's softmax exponential.</summary>
    static abstract TV ExpScore(TV x);
    static abstract TV SoftCap(TV x, TV cap, TV invCap);

    /// <summary>0 where x is -inf, else x (a lane with no key yet uses 0 as its softmax reference).</summary>
    static abstract TV ZeroWhereNegativeInfinity(TV x);

    /// <summary>1 / x where x &gt; 0, else 0.</summary>
    static abstract TV ReciprocalOrZero(TV x);

    /// <summary>-inf in the lanes i whose window [lo[i], hi[i]] excludes key position pos.</summary>
    static abstract TV DropOutside(TV s, int pos, int* lo, int* hi);

    /// <summary>-inf in the lanes i whose bit <c>shift + i</c> of <paramref name="lanes"/> is clear.</summary>
    static abstract TV DropLanes(TV s, uint lanes, int shift);

    /// <summary>
    /// S^T rows 0..nk-1 at st for the keys k.Row(0..nk-1) over d dims (Qt packed [d, 2W], pre-scaled), folded into
    /// the lane maxima at max (2W floats): with no logit transform, that is the block's row max without another pass.
    /// Rows nk up to the next multiple of Rows repeat key nk-1 (st has Rows rows of scratch past the block).
    /// </summary>
    static abstract void Scores<TRows>(TRows k, int nk, float* qt, int d, float* st, float* max) where TRows : struct, IKeyRows;

    /// <summary>
    /// O^T = alpha * O^T + V^T P^T over one key block (d &gt;= Rows), P^T = ExpScore(S^T - n) taken on the way and
    /// written over S^T, its lane sums to sums[0..2W-1].
    /// </summary>
    static abstract void ValuesBlock<TRows>(TRows v, int nk, int d, float* pt, float* ot, TV alpha0, TV alpha1, TV n0, TV n1, float* sums)
        where TRows : struct, IKeyRows;

    /// <summary>One O^T row, for head dims past the last multiple of Rows.</summary>
    static abstract void ValuesRow<TRows>(TRows v, int nk, int d, float* pt, float* ot, TV alpha0, TV alpha1) where TRows : struct, IKeyRows;

    /// <summary>
    /// Adds to row[0..W-1] the probabilities of W consecutive keys (P^T rows at pt, block factors f0, f1), each
    /// summed over the lanes: a transposed reduction of the W keys together, not W horizontal sums.
    /// </summary>
    static abstract void AddKeyTotals(float* row, float* pt, TV f0, TV f1);

    /// <summary>Sum over lanes of x0 * f0 + x1 * f1 for one key.</summary>
    static abstract float Dot(float* pt, TV f0, TV f1);

    // Decode kernel (AttentionDecodeWork): rows vectorised over D, keys in blocks of AttentionDecode.KeyBlock.

    /// <summary>Sum over the lanes.</summary>
    static abstract float Sum(TV x);

    /// <summary>Max over the lanes.</summary>
    static abstract float MaxAcross(TV x);

    /// <summary>-inf in the lanes i whose key position pos[i] lies outside [lo, hi].</summary>
    static abstract TV DropKeysOutside(TV s, int* pos, int lo, int hi);

    /// <summary>
    /// sc[r * KeyBlock + j] = q_r . k_j for every row and the block's keys (rounded up to a multiple of 4; the rows
    /// past nk repeat the last key), prefetching the np rows of the next unit (pk, pv) into L2 meanwhile.
    /// </summary>
    static abstract void DecodeScores(float** kRows, int nk, float** pk, float** pv, int np, float* qs, int rows, int d, float* sc);

    /// <summary>o[r, :] += sum_j p[r, j] V[j, :] (o already rescaled by alpha); d a multiple of 16.</summary>
    static abstract void DecodeValues(float** vRows, int nk, float* sc, int rows, int d, float* o);
}
