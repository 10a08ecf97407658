"""Deepen a trained ViT without changing its function: after each trained block a new block whose attention and MLP
output projections are zero, so the residual stream passes through it unchanged until training moves them (the
zero-initialised residual branch of Goyal et al. 2017 and of ReZero). Its other weights copy the block before it.

ToMe merges a few tokens in every block (Bolya et al., ICLR 2023): in a deeper model the same FLOP reduction comes
from smaller merges per block, which cost less accuracy than the 4-block model's r = 64-72 per block.
"""
import copy

import torch

from model import VisionTransformer


def grow(model, cfg, depth):
    """A model of configuration `cfg` (model.py's arguments) deepened to `depth` blocks (a multiple of cfg's depth)
    that computes the same function as `model`; it shares model's trained modules."""
    old = cfg["depth"]
    if depth % old or depth < old:
        raise ValueError(f"grow: depth {depth} must be a multiple of the model's {old} blocks")
    grown = VisionTransformer(**{**cfg, "depth": depth})
    grown.patch_embed, grown.cls_token, grown.pos_embed = model.patch_embed, model.cls_token, model.pos_embed
    grown.norm, grown.head = model.norm, model.head
    blocks = []
    for blk in model.blocks:
        blocks.append(blk)
        for _ in range(depth // old - 1):
            new = copy.deepcopy(blk)
            with torch.no_grad():
                for lin in (new.attn.proj, new.mlp.fc2):
                    lin.weight.zero_()
                    lin.bias.zero_()
            blocks.append(new)
    grown.blocks = torch.nn.ModuleList(blocks)
    return grown
