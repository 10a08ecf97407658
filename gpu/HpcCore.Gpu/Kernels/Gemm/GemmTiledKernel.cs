// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Batched SGEMM, shared-memory tiled (the classic CUDA C Programming Guide / ILGPU Samples/MatrixMultiply scheme):
// C[b] = alpha * op(A[b]) @ op(B[b]) + beta * C[b] + bias (per column), row-major, BLAS transposes and leading dims.
// Algorithm: a group owns one T x T tile of C. For each K step of T it stages op(A)[T x T] and op(B)[T x T] in dynamic
// shared memory (zero-filled past the edges), then each thread accumulates up to 4 outputs (tid, tid + G, ...).
// T and G are launch parameters (LaunchPolicy: 32 x 32 tile with 256 threads on a GPU, 11 x 11 with 32 threads on the
// emulator, which also exercises ragged edges). Tiles and batches are grid-stride loops (grid y/z stay under 65535).
// Beta == 0 never reads C (NaN-safe); a batch stride of 0 broadcasts a matrix. No tensor cores (mma.sync) yet.
// B may be BF16 (weights): one kernel body, specialised per B codec (AttentionElements.cs), widens it while staging
// op(B) into shared memory, so the tile arithmetic is the F32 path's.
// Limits: T * T <= 4 * G; 2 * T * T floats of shared memory (8 KB at T = 32, under ILGPU's 48 KB cap).
using ILGPU;
using ILGPU.Runtime;

namespace HpcCore.Gpu.Kernels;

using HpcCore.Kernels;

/// <summary>Dims, strides (elements, relative to each storage start) and scalars of <see cref="GemmTiledKernel"/>.</summary>
internal readonly struct GemmParams
{
    public readonly int Batch, M, N, K, Tile;
    public readonly int TransA, TransB, HasBias, Activation;
    public readonly float Alpha, Beta;
    public readonly long OffsetA, OffsetB, OffsetC, OffsetBias;
    public readonly long BatchStrideA, BatchStrideB, BatchStrideC;
    public readonly long Lda, Ldb, Ldc;

    public GemmParams(in GemmArgs a, int tile)
    {
        Batch = a.Batch; M = a.M; N = a.N; K = a.K; Tile = tile;
        TransA = a.TransA ? 1 : 0; TransB = a.TransB ? 1 : 0; HasBias = a.Bias is null ? 0 : 1;
        Activation = (int)a.Activation;
        Alpha = a.Alpha; Beta = a.Beta;
        OffsetA = a.A.Offset; OffsetB = a.B.Offset; OffsetC = a.C.Offset; OffsetBias = a.Bias?.Offset ?? 0;
        BatchStrideA = a.BatchStrideA; BatchStrideB = a.BatchStrideB; BatchStrideC = a.BatchStrideC;
        Lda = a.Lda; Ldb = a.Ldb; Ldc = a.Ldc;
    }
}

/// <summary>Shared-memory tiled batched GEMM.</summary>
internal sealed class GemmTiledKernel(Accelerator accelerator, LaunchPolicy policy)
{
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmParams> _launch =
        accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmParams>(
            Kernel<float, F32Element>);

    // BF16 weights, compiled on first use.
    private readonly Lazy<Action<KernelConfig, ArrayView<float>, ArrayView<ushort>, ArrayView<float>, ArrayView<float>, GemmParams>> _launchBf16 =
        new(() => accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<ushort>, ArrayView<float>, ArrayView<float>, GemmParams>(
            Kernel<ushort, BF16Element>));

    public void Launch(in GemmArgs a)
    {
        if (a.Batch == 0 || a.M == 0 || a.N == 0) return;
        int t = policy.GemmTile, g = policy.GemmGroupSize;
        int tilesN = (a.N + t - 1) / t, tilesM = (a.M + t - 1) / t;
        var grid = new Index3D(Math.Min(tilesN, 65535), Math.Min(tilesM, 65535), Math.Min(a.Batch, 65535));
        var config = new KernelConfig(grid, new Index3D(g, 1, 1), SharedMemoryConfig.RequestDynamic<float>(2 * t * t));
        var c = DeviceViews.Whole<float>(a.C);
        // Without a bias, C stands in as a never-read placeholder view.
        var bias = a.Bias is null ? c : DeviceViews.Whole<float>(a.Bias);
        var p = new GemmParams(a, t);
        if (a.B.DType == HpcCore.Tensors.DType.BF16) _launchBf16.Value(config, DeviceViews.Whole<float>(a.A), DeviceViews.Whole<ushort>(a.B), c, bias, p);
        else _launch(config, DeviceViews.Whole<float>(a.A), DeviceViews.Whole<float>(a.B), c, bias, p);
    }

    /// <param name="a">Storage of A: op(A[b]) is [M, K].</param>
    /// <param name="b">Storage of B: op(B[b]) is [K, N], elements widened to F32 by <typeparamref name="TElem"/>.</param>
    /// <param name="c">Storage of C: C[b] is [M, N], row stride Ldc.</param>
    /// <param name="bias">Storage of the bias [N] (read only when HasBias).</param>
    /// <param name="p">Dims, strides, offsets, scalars and the tile edge.</param>
    internal static void Kernel<TB, TElem>(ArrayView<float> a, ArrayView<TB> b, ArrayView<float> c, ArrayView<float> bias, GemmParams p)
        where TB : unmanaged
        where TElem : struct, IAttentionElement<TB>
    {
        var shared = SharedMemory.GetDynamic<float>();
        int t = p.Tile, tt = t * t;
        var sa = shared.SubView(0, tt);   // [T(m), T(k)]
        var sb = shared.SubView(tt, tt);  // [T(k), T(n)]
        int tid = Group.IdxX, g = Group.DimX;
        int tilesN = (p.N + t - 1) / t, tilesM = (p.M + t - 1) / t;
        // Outputs of this thread inside the tile: e = tid + q * G, q < 4.
        int e0 = tid, e1 = tid + g, e2 = tid + 2 * g, e3 = tid + 3 * g;
        // Row offsets into sa and columns into sb of those outputs, hoisted out of the inner loop.
        int ra0 = e0 / t * t, ra1 = e1 / t * t, ra2 = e2 / t * t, ra3 = e3 / t * t;
        int cb0 = e0 % t, cb1 = e1 % t, cb2 = e2 % t, cb3 = e3 % t;
        for (int batch = Grid.IdxZ; batch < p.Batch; batch += Grid.DimZ)
        {
            long baseA = p.OffsetA + batch * p.BatchStrideA;
            long baseB = p.OffsetB + batch * p.BatchStrideB;
            long baseC = p.OffsetC + batch * p.BatchStrideC;
            for (int tm = Grid.IdxY; tm < tilesM; tm += Grid.DimY)
            {
                for (int tn = Grid.IdxX; tn < tilesN; tn += Grid.DimX)
                {
                    int row0 = tm * t, col0 = tn * t;
                    float acc0 = 0f, acc1 = 0f, acc2 = 0f, acc3 = 0f;
                    for (int k0 = 0; k0 < p.K; k0 += t)
                    {
                        for (int e = tid; e < tt; e += g)
                        {
                            int r = e / t, q = e - r * t;
                            // sa[r, q] = op(A)[row0 + r, k0 + q]; sb[r, q] = op(B)[k0 + r, col0 + q]
                            int i = row0 + r, k = k0 + q;
                            sa[e] = i < p.M && k < p.K ? a[baseA + (p.TransA != 0 ? k * p.Lda + i : i * p.Lda + k)] : 0f;
                            int kb = k0 + r, j = col0 + q;
                            sb[e] = kb < p.K && j < p.N ? default(TElem).Load(b[baseB + (p.TransB != 0 ? j * p.Ldb + kb : kb * p.Ldb + j)]) : 0f;
                        }
                        Group.Barrier();
                        for (int kk = 0; kk < t; kk++)
                        {
                            int kt = kk * t;
                            if (e0 < tt) acc0 += sa[ra0 + kk] * sb[kt + cb0];
                            if (e1 < tt) acc1 += sa[ra1 + kk] * sb[kt + cb1];
                            if (e2 < tt) acc2 += sa[ra2 + kk] * sb[kt + cb2];
                            if (e3 < tt) acc3 += sa[ra3 + kk] * sb[kt + cb3];
                        }
                        Group.Barrier();
                    }
                    Store(c, bias, p, baseC, row0, col0, e0, acc0);
                    Store(c, bias, p, baseC, row0, col0, e1, acc1);
                    Store(c, bias, p, baseC, row0, col0, e2, acc2);
                    Store(c, bias, p, baseC, row0, col0, e3, acc3);
                }
            }
        }
    }

    /// <summary>
    /// Epilogue for tile element <paramref name="e"/>: alpha * acc (+ beta * C, read only when beta != 0) + bias, then
    /// the fused activation (GemmActivation).
    /// </summary>
    private static void Store(ArrayView<float> c, ArrayView<float> bias, GemmParams p, long baseC, int row0, int col0, int e, float acc)
    {
        int t = p.Tile;
        if (e >= t * t) return;
        int i = row0 + e / t, j = col0 + e % t;
        if (i >= p.M || j >= p.N) return;
        long at = baseC + i * p.Ldc + j;
        float prev = p.Beta == 0f ? 0f : p.Beta * c[at];
        float v = p.Alpha * acc + prev + (p.HasBias != 0 ? bias[p.OffsetBias + j] : 0f);
        c[at] = p.Activation == 0 ? v : UnaryKernel.Activation(p.Activation, v);
    }
}
