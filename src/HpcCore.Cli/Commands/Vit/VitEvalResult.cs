// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Commands.Vit;

using HpcCore.Cli.Timing;

/// <summary>One method's row of `hpccore vit eval`.</summary>
/// <param name="Method">The method spec as written.</param>
/// <param name="Images">Images scored.</param>
/// <param name="Top1">Top-1 accuracy in [0, 1].</param>
/// <param name="ImagesPerSecondBatch1">Throughput at batch 1 (median over the rounds).</param>
/// <param name="ImagesPerSecondBatchN">Throughput at the large batch (median over the rounds).</param>
/// <param name="LargeBatch">The large batch size.</param>
/// <param name="GflopsPerImage">Model GFLOPs per image under the method's token schedule.</param>
/// <param name="TokensPerLayer">Tokens in each block's MLP (after that block's reduction).</param>
/// <param name="Device">The device it ran on and what chose it (<see cref="HpcCore.Models.ModelDevice.Describe"/>).</param>
/// <param name="Rounds">Interleaved throughput rounds per batch size.</param>
/// <param name="SpreadBatch1">The per-round speed-ups at batch 1: quartiles and range. For the plain model itself
/// (measured against a second session of itself) this is the noise floor, not a gain.</param>
/// <param name="SpreadBatchN">The same at the large batch.</param>
internal sealed record VitEvalResult(
    string Method, int Images, double Top1, double ImagesPerSecondBatch1, double ImagesPerSecondBatchN, int LargeBatch,
    double GflopsPerImage, int[] TokensPerLayer, string Device, int Rounds,
    GainSpread SpreadBatch1, GainSpread SpreadBatchN)
{
    /// <summary>Median ratio of its images/s to the plain model's at batch 1, rounds interleaved.</summary>
    public double SpeedupBatch1 => SpreadBatch1.Median;

    /// <summary>The same at the large batch.</summary>
    public double SpeedupBatchN => SpreadBatchN.Median;
}
