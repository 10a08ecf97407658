"""The VLM: the Fashion-MNIST ViT (tools/train/vit) as its vision tower, a LLaVA-1.5 projector (Linear-GELU-Linear)
and the project's Llama-style decoder (tools/train/lm/model.py: RMSNorm, interleaved RoPE, GQA, SwiGLU, tied
classifier).

The tower's first blocks stay frozen; its last `tune_blocks` blocks and final LayerNorm train with the VLM (as
LLaVA-NeXT / LLaVA-OneVision unfreeze their vision towers), so the training bank holds the frozen part's output
(`frozen_states`, [CLS] included) and the model runs the rest (`encode`). Visual features are the last block's output
after the final LayerNorm, [CLS] dropped; a lone view (base mode) keeps all 196 patch tokens (`base_pool` 1, as LLaVA-1.5
keeps its 576), the views of a high-resolution scene are 2 x 2 average-pooled to 49 each (`pool_tokens`, as
LLaVA-OneVision pools when it sees many views).

Sequence: <s>, the projected visual tokens, then the text. Every token carries an explicit RoPE position, so a pruned
visual token keeps its original position (the C# pipeline does the same).
"""
import copy
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(__file__)
import importlib.util  # noqa: E402


def _module(name, path):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, "..", path))
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


VisionTransformer = _module("vit_model", "vit/model.py").VisionTransformer
lm_model = _module("lm_model", "lm/model.py")


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, h in header.items():
        if name == "__metadata__":
            continue
        a, b = h["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype="<f4").copy().reshape(h["shape"]))
    return out, header.get("__metadata__", {})


def write_safetensors(path, tensors, metadata):
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        raw = tensors[name].detach().contiguous().to(torch.float32).numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(path + ".tmp", path)


def load_vit(path):
    t, _ = read_safetensors(path)
    depth = 1 + max(int(k.split(".")[1]) for k in t if k.startswith("blocks."))
    dim = t["cls_token"].shape[-1]
    vit = VisionTransformer(img=28, patch=2, chans=1, classes=t["head.weight"].shape[0], dim=dim, depth=depth,
                            heads=4, mlp_ratio=t["blocks.0.mlp.fc1.weight"].shape[0] / dim)
    vit.load_state_dict(t)
    vit.eval()
    for p in vit.parameters():
        p.requires_grad_(False)
    return vit


GRID = 14  # ViT patches per side of a 28 x 28 view (patch 2)
CROP_POOL = 2  # with crops, each view's patch features are average-pooled 2 x 2 (14 x 14 patches -> 7 x 7 tokens)


def view_pool(views, base_pool):
    """Patches per side pooled into one visual token: base_pool for a lone view (base mode), CROP_POOL with crops."""
    return base_pool if views == 1 else CROP_POOL


def pool_tokens(feats, pool):
    """[N, V * 196, D] ViT patch features -> [N, V * (14 / pool)^2, D] visual tokens: pool 1 keeps them; pool 2 averages
    2 x 2 within each view's grid (as LLaVA-OneVision / Qwen2-VL merge neighbouring patches), summed in the C# order
    ((a + b) + c) + d, then / 4."""
    if pool == 1:
        return feats
    assert pool == 2, pool
    n, t, d = feats.shape
    g = GRID
    x = feats.reshape(n, t // (g * g), g // 2, 2, g // 2, 2, d)
    s = ((x[:, :, :, 0, :, 0] + x[:, :, :, 0, :, 1]) + x[:, :, :, 1, :, 0]) + x[:, :, :, 1, :, 1]
    return (s / 4).reshape(n, -1, d)


@torch.no_grad()
def frozen_states(vit, x, tune_blocks):
    """x [N, 28, 28] normalised -> [N, 197, D]: the token states ([CLS] first) entering the first tuned block."""
    h = vit.patch_embed(x[:, None])
    h = torch.cat([vit.cls_token.expand(h.shape[0], -1, -1), h], 1) + vit.pos_embed
    for blk in vit.blocks[:len(vit.blocks) - tune_blocks]:
        h = blk(h)
    return h


LM = dict(dim=64, hidden=128, layers=3, heads=4, kv_heads=2, vocab=32, ctx=1200)


class Vlm(nn.Module):
    def __init__(s, vit, tune_blocks, base_pool):
        """vit: the loaded (frozen) ViT; its last tune_blocks blocks and final norm are copied and train here;
        base_pool: patches per side pooled into one token when a scene is one view (1 or 2)."""
        super().__init__()
        c = lm_model.Config(**LM)
        s.c = c
        s.tune_blocks = tune_blocks
        s.base_pool = base_pool
        s.tower = nn.ModuleList(copy.deepcopy(b) for b in vit.blocks[len(vit.blocks) - tune_blocks:])
        s.tower_norm = copy.deepcopy(vit.norm)
        for p in list(s.tower.parameters()) + list(s.tower_norm.parameters()):
            p.requires_grad_(tune_blocks > 0)
        vis_dim = vit.norm.weight.shape[0]
        s.proj1 = nn.Linear(vis_dim, c.dim)
        s.proj2 = nn.Linear(c.dim, c.dim)
        s.lm = lm_model.Model(c)

    def encode(s, states):
        """states [B, V, 197, D] (frozen_states of each view) -> visual features [B, visual_tokens(V), D]."""
        B, V = states.shape[:2]
        h = states.reshape(B * V, *states.shape[2:])
        for blk in s.tower:
            h = blk(h)
        return pool_tokens(s.tower_norm(h)[:, 1:].reshape(B, -1, h.shape[-1]), view_pool(V, s.base_pool))

    def visual_tokens(s, views):
        """Visual tokens of a scene of `views` views: views * (14 / pool)^2."""
        return views * (GRID // view_pool(views, s.base_pool)) ** 2

    def project(s, feats):
        return s.proj2(F.gelu(s.proj1(feats)))

    def forward_embeds(s, h, pos):
        """h [B, T, C] input embeddings, pos [T] RoPE positions (int, ascending) -> logits [B, T, vocab], causal."""
        c, m = s.c, s.lm
        B, T, _ = h.shape
        hd, g = c.dim // c.heads, c.heads // c.kv_heads
        cos, sin = m.cos[pos][None, :, None], m.sin[pos][None, :, None]
        mask = torch.full((T, T), float("-inf")).triu(1)
        for b in m.blocks:
            y = lm_model.rms(h, b.an)
            q = lm_model.rope(b.wq(y).view(B, T, c.heads, hd), cos, sin).transpose(1, 2)
            k = lm_model.rope(b.wk(y).view(B, T, c.kv_heads, hd), cos, sin).transpose(1, 2).repeat_interleave(g, 1)
            v = b.wv(y).view(B, T, c.kv_heads, hd).transpose(1, 2).repeat_interleave(g, 1)
            att = (q @ k.transpose(-1, -2)) / math.sqrt(hd) + mask
            o = (att.softmax(-1) @ v).transpose(1, 2).reshape(B, T, c.dim)
            h = h + b.wo(o)
            y = lm_model.rms(h, b.fn)
            h = h + b.w2(F.silu(b.w1(y)) * b.w3(y))
        return lm_model.rms(h, m.norm) @ m.emb.weight.T

    def forward(s, states, text, keep=None):
        """states [B, views, 197, D] (frozen_states), text [B, T] ids -> logits [B, 1 + K + T, vocab]; keep [K]
        (ascending visual token indices, None = all V) drops the others after the encoder, the kept ones keeping their
        positions (as pruning does)."""
        feats = s.encode(states)
        B, V = feats.shape[0], feats.shape[1]
        bos = s.lm.emb(torch.full((B, 1), 1, dtype=torch.long))
        vis = torch.arange(V) if keep is None else keep
        h = torch.cat([bos, s.project(feats[:, vis]), s.lm.emb(text)], 1)
        pos = torch.cat([torch.zeros(1, dtype=torch.long), 1 + vis, 1 + V + torch.arange(text.shape[1])])
        return s.forward_embeds(h, pos)

    def vision_tensors(s, vit):
        """The whole tower as a ViT safetensors set: vit's tensors with the tuned blocks and final norm replaced."""
        out = vit.state_dict()
        first = len(vit.blocks) - s.tune_blocks
        for i, blk in enumerate(s.tower):
            for k, v in blk.state_dict().items():
                out[f"blocks.{first + i}.{k}"] = v
        for k, v in s.tower_norm.state_dict().items():
            out[f"norm.{k}"] = v
        return out

    def load_tensors(s, t):
        """The inverse of tensors(): loads an exported vlm-grid.safetensors (the tower is left as constructed)."""
        with torch.no_grad():
            for name, p in s.tensors().items():
                p.copy_(t[name])

    def tensors(s):
        """Export names: projector.{fc1,fc2}.{weight,bias}; lm.* as the llama2.c tensors with layer indices."""
        out = {"projector.fc1.weight": s.proj1.weight, "projector.fc1.bias": s.proj1.bias,
               "projector.fc2.weight": s.proj2.weight, "projector.fc2.bias": s.proj2.bias,
               "lm.embed": s.lm.emb.weight, "lm.norm": s.lm.norm}
        for i, b in enumerate(s.lm.blocks):
            for n in ["an", "fn"]:
                out[f"lm.layers.{i}.{n}"] = getattr(b, n)
            for n in ["wq", "wk", "wv", "wo", "w1", "w2", "w3"]:
                out[f"lm.layers.{i}.{n}"] = getattr(b, n).weight
        return out
