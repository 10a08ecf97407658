// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Commands.Vit;

using System.Diagnostics;
using HpcCore.Models.Images;
using HpcCore.Models.Vit;

/// <summary>Accuracy and throughput of one method over a labelled image set.</summary>
internal sealed class VitEvaluator(VitWeights weights, ImageSet images, int limit, int largeBatch)
{
    private readonly float[] _inputs = Prepare(weights.Config, images, limit);

    public int Count { get; } = Math.Min(limit, images.Count);

    private static float[] Prepare(VitConfig config, ImageSet images, int limit)
    {
        int n = Math.Min(limit, images.Count), px = config.Channels * config.ImageSize * config.ImageSize;
        var all = new float[(long)n * px];
        for (int i = 0; i < n; i++)
            ImageTensor.Write(images.Image(i), images.Height, images.Width, config, all.AsSpan(i * px, px));
        return all;
    }

    /// <summary>Scores <paramref name="spec"/>; <paramref name="progress"/> gets the images done so far.</summary>
    public VitEvalResult Run(VitMethodSpec spec, Action<int> progress)
    {
        var config = weights.Config;
        int px = config.Channels * config.ImageSize * config.ImageSize;
        int correct = 0;
        VitSession? big = null, one = null;
        IVitTokenReducer? reducerBig = null, reducerOne = null;
        try
        {
            reducerBig = VitReducers.Create(spec, config);
            big = new VitSession(weights, largeBatch, reducerBig);
            var batch = new float[largeBatch * px];
            for (int start = 0; start < Count; start += largeBatch)
            {
                int n = Math.Min(largeBatch, Count - start);
                batch.AsSpan().Clear();
                _inputs.AsSpan(start * px, n * px).CopyTo(batch);
                var logits = big.Forward(batch).ToArray<float>();
                for (int i = 0; i < n; i++)
                    if (Argmax(logits.AsSpan(i * config.Classes, config.Classes)) == images.Label(start + i)) correct++;
                progress(start + n);
            }
            double bigRate = Throughput(big, batch, largeBatch);
            reducerOne = VitReducers.Create(spec, config);
            one = new VitSession(weights, 1, reducerOne);
            double oneRate = Throughput(one, _inputs.AsSpan(0, px).ToArray(), 1);
            return new VitEvalResult(spec.Text, Count, (double)correct / Count, oneRate, bigRate, largeBatch,
                big.FlopsPerImage / 1e9, big.TokensAfterReduction, VitDevice.Describe(weights.PatchWeight.Backend));
        }
        finally
        {
            big?.Dispose();
            one?.Dispose();
            (reducerBig as IDisposable)?.Dispose();
            (reducerOne as IDisposable)?.Dispose();
        }
    }

    // Images per second over at least 1 s and 3 calls, after two warm-up calls.
    private static double Throughput(VitSession session, float[] input, int batch)
    {
        session.Forward(input);
        session.Forward(input);
        var sw = Stopwatch.StartNew();
        int calls = 0;
        while (calls < 3 || sw.Elapsed.TotalSeconds < 1)
        {
            session.Forward(input);
            calls++;
        }
        return calls * batch / sw.Elapsed.TotalSeconds;
    }

    private static int Argmax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int i = 1; i < row.Length; i++)
            if (row[i] > row[best]) best = i;
        return best;
    }
}
