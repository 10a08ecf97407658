// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vit.Reducers;

using HpcCore.Tensors;

// Shared tail of the pruning reducers: kept token positions gathered into the step's output, and the token map written
// for source tracking. Either [CLS] plus patch indices (I32 [B, k], patch j = token j + 1) or token positions that
// already include [CLS] at 0.
internal static class KeptRows
{
    public static void Gather(in VitReductionStep step, Tensor patchIndices, int batch, int tokens, int k, bool tokenPositions = false) =>
        Gather(step, patchIndices.ToArray<int>(), batch, tokens, k, tokenPositions);

    public static void Gather(in VitReductionStep step, ReadOnlySpan<int> idx, int batch, int tokens, int k, bool tokenPositions = false)
    {
        int width = tokenPositions ? k : k + 1;
        var rows = new int[batch * width];
        var map = new int[batch * tokens];
        Array.Fill(map, -1);
        for (int b = 0; b < batch; b++)
        {
            int o = 0;
            if (!tokenPositions) rows[b * width + o++] = 0;
            for (int i = 0; i < k; i++) rows[b * width + o++] = idx[b * k + i] + (tokenPositions ? 0 : 1);
            for (int i = 0; i < width; i++) map[b * tokens + rows[b * width + i]] = i;
        }
        using var positions = Tensor.From<int>(rows, new Shape(batch, width), step.Input.Backend);
        HpcCore.Ops.Gather.Rows(step.Input, positions, step.Output);
        step.TokenMap?.CopyFrom<int>(map);
    }
}
