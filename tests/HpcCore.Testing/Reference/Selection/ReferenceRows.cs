// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Row movement references in double: gather, scatter-reduce (torch scatter_reduce semantics, include_self=True
// for mean), adaptive average pooling (torch cell bounds) and axis reductions.
namespace HpcCore.Testing.Reference;

/// <summary>Reference gather/scatter/pooling/reduction ops.</summary>
public static class ReferenceRows
{
    /// <summary>out[b, i, :] = x[b, idx[b, i], :].</summary>
    public static double[] Gather(float[] x, int[] idx, int batch, int n, int k, int c)
    {
        var r = new double[batch * k * c];
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < k; i++)
                for (int j = 0; j < c; j++) r[(b * k + i) * c + j] = x[(b * n + idx[b * k + i]) * c + j];
        return r;
    }

    /// <summary>Scatter-reduce: mode 0 sum, 1 mean (include_self), 2 amax; index -1 skips.</summary>
    public static double[] Scatter(float[] dst, int[] index, float[] src, float[]? w, int mode, int batch, int m, int n, int c)
    {
        var r = new double[dst.Length];
        for (int i = 0; i < dst.Length; i++) r[i] = dst[i];
        var counts = new int[batch * m];
        for (int b = 0; b < batch; b++)
            for (int s = 0; s < n; s++)
            {
                int t = index[b * n + s];
                if (t < 0) continue;
                counts[b * m + t]++;
                double weight = w is null ? 1 : w[b * n + s];
                for (int j = 0; j < c; j++)
                {
                    double v = src[(b * n + s) * c + j];
                    ref double d = ref r[(b * m + t) * c + j];
                    d = mode == 2 ? Math.Max(d, v) : d + weight * v;
                }
            }
        if (mode == 1)
            for (int i = 0; i < batch * m; i++)
                if (counts[i] > 0)
                    for (int j = 0; j < c; j++) r[i * c + j] /= 1 + counts[i];
        return r;
    }

    /// <summary>torch.nn.AdaptiveAvgPool2d over channels-last [B, H, W, C].</summary>
    public static double[] AdaptiveAvg2D(float[] x, int batch, int h, int w, int c, int oh, int ow)
    {
        var r = new double[batch * oh * ow * c];
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    int h0 = (int)Math.Floor((double)i * h / oh), h1 = (int)Math.Ceiling((double)(i + 1) * h / oh);
                    int w0 = (int)Math.Floor((double)j * w / ow), w1 = (int)Math.Ceiling((double)(j + 1) * w / ow);
                    for (int q = 0; q < c; q++)
                    {
                        double s = 0;
                        for (int y = h0; y < h1; y++)
                            for (int z = w0; z < w1; z++) s += x[((b * h + y) * w + z) * c + q];
                        r[((b * oh + i) * ow + j) * c + q] = s / ((h1 - h0) * (w1 - w0));
                    }
                }
        return r;
    }

    /// <summary>x viewed as [outer, length, inner] reduced over the middle axis: kind 0 sum, 1 mean, 2 rms.</summary>
    public static double[] AxisReduce(float[] x, int outer, int length, int inner, int kind)
    {
        var r = new double[outer * inner];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                double s = 0;
                for (int l = 0; l < length; l++)
                {
                    double v = x[(o * length + l) * inner + i];
                    s += kind == 2 ? v * v : v;
                }
                r[o * inner + i] = kind == 0 ? s : kind == 1 ? s / length : Math.Sqrt(s / length);
            }
        return r;
    }
}
