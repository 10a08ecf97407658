"""A plain NumPy ViT forward (float64) over a timm-named safetensors file: the reference the ctypes example compares
hpc_vit_forward with. Written from the timm definition, not from HpcCore's code."""
import json
import math
import struct

import numpy as np


def read_safetensors(path):
    """{name: float32 array} and the metadata dict of a safetensors file (F32 tensors only)."""
    with open(path, "rb") as f:
        blob = f.read()
    (size,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + size])
    meta = header.pop("__metadata__", {})
    base = 8 + size
    tensors = {}
    for name, entry in header.items():
        if entry["dtype"] != "F32":
            raise ValueError(f"{path}: {name} is {entry['dtype']}, F32 expected")
        start, end = entry["data_offsets"]
        tensors[name] = np.frombuffer(blob, np.float32, (end - start) // 4, base + start).reshape(entry["shape"])
    return tensors, meta


def _layer_norm(x, w, b, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


_erf = np.frompyfunc(math.erf, 1, 1)


def _gelu(x):
    """Exact (erf) GELU, as timm's nn.GELU."""
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)).astype(np.float64))


def forward(tensors, meta, pixels):
    """Logits [B, classes] of normalised pixels [B, C, S, S]."""
    w = {k: v.astype(np.float64) for k, v in tensors.items()}
    heads = int(meta.get("heads", 1))
    eps = float(meta.get("layer_norm_eps", 1e-6))
    pw = w["patch_embed.proj.weight"]
    dim, chans, p = pw.shape[0], pw.shape[1], pw.shape[2]
    b, _, s, _ = pixels.shape
    g = s // p
    # Patch embedding = a stride-p convolution: cut [B, C, g, p, g, p] into patches [B, g*g, C*p*p].
    patches = pixels.astype(np.float64).reshape(b, chans, g, p, g, p).transpose(0, 2, 4, 1, 3, 5).reshape(b, g * g, -1)
    x = patches @ pw.reshape(dim, -1).T + w["patch_embed.proj.bias"]
    x = np.concatenate([np.broadcast_to(w["cls_token"], (b, 1, dim)), x], axis=1) + w["pos_embed"]
    depth = sum(1 for k in w if k.endswith(".norm1.weight"))
    hd = dim // heads
    for i in range(depth):
        pre = f"blocks.{i}."
        y = _layer_norm(x, w[pre + "norm1.weight"], w[pre + "norm1.bias"], eps)
        qkv = (y @ w[pre + "attn.qkv.weight"].T + w[pre + "attn.qkv.bias"]).reshape(b, -1, 3, heads, hd)
        q, k, v = qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]
        scores = np.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(hd)
        att = np.exp(scores - scores.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        o = np.einsum("bhqk,bkhd->bqhd", att, v).reshape(b, -1, dim)
        x = x + o @ w[pre + "attn.proj.weight"].T + w[pre + "attn.proj.bias"]
        y = _layer_norm(x, w[pre + "norm2.weight"], w[pre + "norm2.bias"], eps)
        y = _gelu(y @ w[pre + "mlp.fc1.weight"].T + w[pre + "mlp.fc1.bias"])
        x = x + y @ w[pre + "mlp.fc2.weight"].T + w[pre + "mlp.fc2.bias"]
    cls = _layer_norm(x[:, 0], w["norm.weight"], w["norm.bias"], eps)
    return cls @ w["head.weight"].T + w["head.bias"]
