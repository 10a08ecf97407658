// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Commands.Vit;

using System.Diagnostics;
using HpcCore.Cli.Timing;
using HpcCore.Diagnostics;
using HpcCore.Models.Images;
using HpcCore.Models;
using HpcCore.Models.Vit;

/// <summary>
/// Accuracy and throughput of one method over a labelled image set. Throughput is measured in rounds that alternate
/// the method's session with the plain model's (same batch size, same input), so that the speed-up of a method is the
/// median of ratios taken under the same machine load, not two numbers taken minutes apart.
/// </summary>
internal sealed class VitEvaluator(VitWeights weights, ImageSet images, int limit, int largeBatch, int rounds) : IDisposable
{
    private const double RoundSeconds = 0.25;
    private readonly float[] _inputs = Prepare(weights.Config, images, limit);
    private VitSession? _plainOne, _plainBig;

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
            reducerOne = VitReducers.Create(spec, config);
            one = new VitSession(weights, 1, reducerOne);
            _plainBig ??= new VitSession(weights, largeBatch);
            _plainOne ??= new VitSession(weights, 1);
            var (bigRate, bigGain) = Interleaved(big, _plainBig, batch, largeBatch);
            var (oneRate, oneGain) = Interleaved(one, _plainOne, _inputs.AsSpan(0, px).ToArray(), 1);
            return new VitEvalResult(spec.Text, Count, (double)correct / Count, oneRate, bigRate, largeBatch,
                big.FlopsPerImage / 1e9, big.TokensAfterReduction, ModelDevice.Describe(weights.PatchWeight.Backend),
                rounds, oneGain, bigGain);
        }
        finally
        {
            big?.Dispose();
            one?.Dispose();
            reducerBig?.Dispose();
            reducerOne?.Dispose();
        }
    }

    // Median images/s of the method and the per-round ratios to the plain model: rounds of about RoundSeconds per
    // side, the order flipped every round, after two warm-up calls of each.
    private (double Rate, GainSpread Gain) Interleaved(VitSession method, VitSession plain, float[] input, int batch)
    {
        for (int i = 0; i < 2; i++)
        {
            method.Forward(input);
            plain.Forward(input);
        }
        var rates = new double[rounds];
        var gains = new double[rounds];
        for (int r = 0; r < rounds; r++)
        {
            double m, p;
            if ((r & 1) == 0)
            {
                m = Rate(method, input, batch);
                p = Rate(plain, input, batch);
            }
            else
            {
                p = Rate(plain, input, batch);
                m = Rate(method, input, batch);
            }
            rates[r] = m;
            gains[r] = m / p;
        }
        return (Quantiles.Median(rates), GainSpread.Of(gains));
    }

    // Images per second over at least RoundSeconds and 2 calls.
    private static double Rate(VitSession session, float[] input, int batch)
    {
        var sw = Stopwatch.StartNew();
        int calls = 0;
        while (calls < 2 || sw.Elapsed.TotalSeconds < RoundSeconds)
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

    /// <summary>Releases the plain model's sessions.</summary>
    public void Dispose()
    {
        _plainOne?.Dispose();
        _plainBig?.Dispose();
    }
}
