"""ToMe inside the ViT's forward pass, as HpcCore's C# pipeline runs it (src/HpcCore.Models/Vit/Reducers/ToMeReducer.cs):
in each block, after attention, bipartite soft matching on the keys averaged over heads merges r tokens (size-weighted
mean, [CLS] protected) before the MLP; later blocks add log(size) to the attention logits (proportional attention).

ToMe's paper (Bolya et al., ICLR 2023, sec. 4 and Table 10) fine-tunes with merging in the loop to recover the
accuracy that off-the-shelf merging loses; train.py --tome-r does that with this forward.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "golden"))
from tome_match import match, merge  # noqa: E402


def schedule(text, depth):
    """r per block from the command line: one r for every block ("26"), or one per block joined by ':' ("72:48:0:0")."""
    return [int(v) for v in text.split(":")] if ":" in text else [int(text)] * depth


def forward(model, x, r):
    """Logits of `model` (tools/train/vit/model.py) on images x [B, 1, 28, 28] with ToMe r in every block, or r[i]
    in block i when r is a sequence (a schedule)."""
    rs = [r] * len(model.blocks) if isinstance(r, int) else list(r)
    h = model.patch_embed(x)
    h = torch.cat([model.cls_token.expand(h.shape[0], -1, -1), h], dim=1) + model.pos_embed
    size = None  # [B, T, 1]; None while every token has size 1
    for blk, r in zip(model.blocks, rs):
        y, key_means = blk.attn(blk.norm1(h), None if size is None else size[..., 0].log(), keys=True)
        h = h + y
        if r > 0:
            _, unm, src, dst = match(key_means.detach(), r, class_token=True)
            s = torch.ones_like(h[..., :1]) if size is None else size
            h = merge(h * s, unm, src, dst)
            size = merge(s, unm, src, dst)
            h = h / size
        h = h + blk.mlp(blk.norm2(h))
    return model.head(model.norm(h)[:, 0])
