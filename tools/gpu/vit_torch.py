# Copyright (c) HpcCore contributors. Licensed under the MIT license.
"""ViT-B/16 (Dosovitskiy et al. 2021) in plain PyTorch with timm's parameter names, optional ToMe (Bolya et al.,
ICLR 2023: bipartite soft matching on the keys averaged over heads, size-weighted merge, proportional attention), and
a dependency-free safetensors reader/writer, so the C# side can load the very same random weights (seeded).
No timm or safetensors package is needed (neither is promised on the GPU machine)."""
import json
import math
import struct

import torch
import torch.nn.functional as F

BASE = dict(img=224, patch=16, dim=768, depth=12, heads=12, mlp=3072, classes=1000)
SMOKE = dict(img=64, patch=16, dim=32, depth=2, heads=4, mlp=64, classes=10)


def random_weights(cfg, seed=0):
    """timm vit_base_patch16_224 names and shapes; truncated-normal-like init, seeded, float32."""
    g = torch.Generator().manual_seed(seed)
    d, m, p = cfg["dim"], cfg["mlp"], cfg["patch"]
    tokens = (cfg["img"] // p) ** 2 + 1

    def w(*shape, std=0.02):
        return (torch.randn(*shape, generator=g) * std).clamp_(-2 * std, 2 * std)

    sd = {"cls_token": w(1, 1, d), "pos_embed": w(1, tokens, d),
          "patch_embed.proj.weight": w(d, 3, p, p), "patch_embed.proj.bias": w(d),
          "norm.weight": 1 + w(d), "norm.bias": w(d), "head.weight": w(cfg["classes"], d), "head.bias": w(cfg["classes"])}
    for i in range(cfg["depth"]):
        b = f"blocks.{i}."
        sd.update({b + "norm1.weight": 1 + w(d), b + "norm1.bias": w(d),
                   b + "attn.qkv.weight": w(3 * d, d), b + "attn.qkv.bias": w(3 * d),
                   b + "attn.proj.weight": w(d, d), b + "attn.proj.bias": w(d),
                   b + "norm2.weight": 1 + w(d), b + "norm2.bias": w(d),
                   b + "mlp.fc1.weight": w(m, d), b + "mlp.fc1.bias": w(m),
                   b + "mlp.fc2.weight": w(d, m), b + "mlp.fc2.bias": w(d)})
    return sd


def save_safetensors(sd, path):
    """The safetensors format: u64 little-endian header size, JSON header (dtype, shape, data_offsets), raw bytes."""
    header, offset, blobs = {}, 0, []
    for name in sorted(sd):
        t = sd[name].detach().to(torch.float32).contiguous().cpu()
        raw = t.numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for raw in blobs:
            f.write(raw)


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        assert meta["dtype"] == "F32", meta
        a, b = meta["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[a:b]), dtype=torch.float32).reshape(meta["shape"])
    return out


def attention(q, k, v, bias=None):
    """q, k, v [B, H, T, D]; bias [B, 1, 1, T] added to the logits (ToMe's log size)."""
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
    s = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    if bias is not None:
        s = s + bias
    return torch.softmax(s.float(), dim=-1).to(q.dtype) @ v


def tome_match(metric, r):
    """ToMe bipartite soft matching with a protected class token (tome/merge.py); returns merge(x, mode)."""
    t = metric.shape[1]
    r = min(r, (t - 1) // 2)
    metric = metric / metric.norm(dim=-1, keepdim=True)
    a, b = metric[..., ::2, :], metric[..., 1::2, :]
    scores = a @ b.transpose(-1, -2)
    scores[..., 0, :] = -math.inf
    node_max, node_idx = scores.max(dim=-1)
    edge_idx = node_max.argsort(dim=-1, descending=True)[..., None]
    unm_idx, src_idx = edge_idx[..., r:, :], edge_idx[..., :r, :]
    dst_idx = node_idx[..., None].gather(dim=-2, index=src_idx)

    def merge(x, mode="sum"):
        src, dst = x[..., ::2, :], x[..., 1::2, :]
        n, t1, c = src.shape
        unm = src.gather(dim=-2, index=unm_idx.expand(n, t1 - r, c))
        src = src.gather(dim=-2, index=src_idx.expand(n, r, c))
        dst = dst.scatter_reduce(-2, dst_idx.expand(n, r, c), src, reduce=mode)
        return torch.cat([unm, dst], dim=1)

    return merge


def block(x, sd, i, heads, size=None, r=0):
    """timm Block (pre-norm), with ToMe after attention when r > 0. x [B, T, C]; size [B, T, 1] or None."""
    p = f"blocks.{i}."
    bsz, t, c = x.shape
    h = F.layer_norm(x, (c,), sd[p + "norm1.weight"], sd[p + "norm1.bias"], 1e-6)
    qkv = F.linear(h, sd[p + "attn.qkv.weight"], sd[p + "attn.qkv.bias"]).reshape(bsz, t, 3, heads, c // heads).permute(2, 0, 3, 1, 4)
    q, k, v = qkv[0], qkv[1], qkv[2]
    bias = None if size is None else size.log()[:, None, None, :, 0].to(x.dtype)
    a = attention(q, k, v, bias).transpose(1, 2).reshape(bsz, t, c)
    x = x + F.linear(a, sd[p + "attn.proj.weight"], sd[p + "attn.proj.bias"])
    if r > 0:
        merge = tome_match(k.mean(1), r)
        size = torch.ones_like(x[..., :1]) if size is None else size
        x = merge(x * size, "sum")
        size = merge(size, "sum")
        x = x / size
    h = F.layer_norm(x, (c,), sd[p + "norm2.weight"], sd[p + "norm2.bias"], 1e-6)
    h = F.linear(F.gelu(F.linear(h, sd[p + "mlp.fc1.weight"], sd[p + "mlp.fc1.bias"])), sd[p + "mlp.fc2.weight"], sd[p + "mlp.fc2.bias"])
    return x + h, size


def forward(images, sd, cfg, r=0):
    """images [B, 3, H, W] -> logits [B, classes]; ToMe r per block when r > 0 (class token protected)."""
    x = F.conv2d(images, sd["patch_embed.proj.weight"], sd["patch_embed.proj.bias"], stride=cfg["patch"])
    x = x.flatten(2).transpose(1, 2)
    x = torch.cat([sd["cls_token"].expand(x.shape[0], -1, -1), x], dim=1) + sd["pos_embed"]
    size = None
    for i in range(cfg["depth"]):
        x, size = block(x, sd, i, cfg["heads"], size, r)
    x = F.layer_norm(x, (cfg["dim"],), sd["norm.weight"], sd["norm.bias"], 1e-6)
    return F.linear(x[:, 0], sd["head.weight"], sd["head.bias"])
