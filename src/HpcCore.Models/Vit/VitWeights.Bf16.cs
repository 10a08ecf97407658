// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// BF16 linear weights for a ViT (issue #18 item 3), as for the LMs (LmWeights.Bf16.cs): the blocks' qkv, proj, fc1 and
// fc2 weights and the head are rounded to BF16; the patch embedding (a convolution), positions, tokens, norms and
// biases stay F32. The encoder multiplies packed weights, which the CPU packs into F32 panels, so this halves the
// stored weights (the packed copy stays F32) and measures what BF16 storage costs in accuracy.
namespace HpcCore.Models.Vit;

using HpcCore.Ops;
using HpcCore.Tensors;

public sealed partial class VitWeights
{
    /// <summary>
    /// A copy whose linear weights (every block's qkv, proj, fc1 and fc2, and the head) are BF16, rounded to nearest
    /// even; every other tensor is shared with this object through views holding their own references. The two are
    /// independent: dispose both.
    /// </summary>
    public VitWeights ToBf16Linear()
    {
        var made = new List<Tensor>();
        Tensor Share(Tensor t)
        {
            var v = t.Narrow(0, 0, t.Shape[0]);
            made.Add(v);
            return v;
        }
        Tensor Narrow(Tensor t)
        {
            var v = t.DType == DType.BF16 ? t.Narrow(0, 0, t.Shape[0]) : Cast.To(t, DType.BF16);
            made.Add(v);
            return v;
        }
        try
        {
            var blocks = Blocks.Select(b => new VitBlockWeights(
                Share(b.Norm1Weight), Share(b.Norm1Bias), Narrow(b.QkvWeight), Share(b.QkvBias), Narrow(b.ProjWeight), Share(b.ProjBias),
                Share(b.Norm2Weight), Share(b.Norm2Bias), Narrow(b.Fc1Weight), Share(b.Fc1Bias), Narrow(b.Fc2Weight), Share(b.Fc2Bias))).ToArray();
            return new VitWeights(Config, Share(PatchWeight), Share(PatchBias), Share(ClassToken), Share(Positions), blocks,
                Share(NormWeight), Share(NormBias), Narrow(HeadWeight), Share(HeadBias));
        }
        catch
        {
            foreach (var t in made) t.Dispose();
            throw;
        }
    }
}
