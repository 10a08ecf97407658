#!/usr/bin/env python3
"""Golden outputs for HpcCore's ToMe bipartite soft matching, computed with Debian's PyTorch.

Written from docs/TOKEN_REDUCTION.md / methods.md 3.1 (ToMe, Bolya et al. 2023), not copied from the ToMe code:
normalize, matmul, max, argsort, gather and scatter_reduce. Run with Debian's interpreter:

    /usr/bin/python3 tools/golden/tome.py tests/HpcCore.Tests/Golden/tome.safetensors

Expected values are computed in float64 from float32 inputs and stored as float32 (indices as int32).
The argsort is stable (ties: lower index first), which is HpcCore's tie rule.
Per case `<name>.`: metric [B, N, d], x [B, N, C], size [B, N] inputs; r_eff [1]; src/dst [B, r] (token positions
of merged A tokens and their B partners, in merge order); map [B, N] (output token of every input token, i.e.
the argmax of ToMe's source matrix); x_out [B, N - r, C], size_out [B, N - r]; unmerged [B, N, C].
"""
import json
import struct
import sys

import torch
import torch.nn.functional as F

torch.manual_seed(20261129)
tensors = {}


def put(name, t):
    tensors[name] = t.detach().contiguous()


def match(metric, r, class_token, distill_token):
    """Bipartite soft matching (methods.md 3.1 steps 1-5); returns r and the index tensors."""
    protected = int(class_token) + int(distill_token)
    n = metric.shape[1]
    r = min(r, (n - protected) // 2)
    m = F.normalize(metric.double(), dim=-1)
    a, b = m[:, 0::2], m[:, 1::2]
    scores = a @ b.transpose(-1, -2)
    if class_token:
        scores[:, 0, :] = float("-inf")
    if distill_token:
        scores[:, :, 0] = float("-inf")
    node_max, node_idx = scores.max(dim=-1)
    edge = torch.argsort(node_max, dim=-1, descending=True, stable=True)
    unm, src = edge[:, r:], edge[:, :r]
    dst = torch.gather(node_idx, 1, src)
    if class_token:
        unm = unm.sort(dim=1).values
    return r, unm, src, dst


def merge(x, r, unm, src, dst, distill_token, mode):
    """Step 6: gather the kept A tokens, scatter-reduce the merged A tokens into their B partners, concatenate."""
    xa, xb = x[:, 0::2], x[:, 1::2]
    c = x.shape[-1]
    kept = torch.gather(xa, 1, unm[..., None].expand(-1, -1, c))
    moved = torch.gather(xa, 1, src[..., None].expand(-1, -1, c))
    xb = xb.scatter_reduce(1, dst[..., None].expand(-1, -1, c), moved, reduce=mode)
    if distill_token:
        return torch.cat([kept[:, :1], xb[:, :1], kept[:, 1:], xb[:, 1:]], dim=1)
    return torch.cat([kept, xb], dim=1)


def case(name, bsz, n, d, c, r, class_token=False, distill_token=False, integer_sizes=True):
    metric = torch.randn(bsz, n, d).float()
    x = torch.randn(bsz, n, c).float()
    size = torch.randint(1, 5, (bsz, n)).float() if integer_sizes else torch.ones(bsz, n)
    r_eff, unm, src, dst = match(metric, r, class_token, distill_token)
    xs = x.double() * size.double()[..., None]
    x_out = merge(xs, r_eff, unm, src, dst, distill_token, "sum")
    size_out = merge(size.double()[..., None], r_eff, unm, src, dst, distill_token, "sum")
    x_out = x_out / size_out
    # Source tracking: merge the identity with amax; each input token's output is the row holding its 1.
    eye = torch.eye(n, dtype=torch.float64)[None].expand(bsz, n, n)
    source = merge(eye, r_eff, unm, src, dst, distill_token, "amax")       # [B, N - r, N]
    token_map = source.argmax(dim=1)                                       # [B, N]
    unmerged = torch.gather(x_out, 1, token_map[..., None].expand(-1, -1, c))
    put(f"{name}.metric", metric); put(f"{name}.x", x); put(f"{name}.size", size)
    put(f"{name}.r_eff", torch.tensor([r_eff], dtype=torch.int32))
    put(f"{name}.src", (2 * src).to(torch.int32)); put(f"{name}.dst", (2 * dst + 1).to(torch.int32))
    put(f"{name}.map", token_map.to(torch.int32))
    put(f"{name}.x_out", x_out.float()); put(f"{name}.size_out", size_out[..., 0].float())
    put(f"{name}.unmerged", unmerged.float())


case("vit_cls", 2, 197, 64, 48, 16, class_token=True)           # DeiT-like: [CLS] protected, r = 16
case("plain_odd", 3, 31, 16, 7, 7)                              # no protected token: A order is argsort order
case("distilled", 2, 198, 32, 9, 50, class_token=True, distill_token=True)
case("clamped", 1, 33, 8, 5, 100, class_token=True)             # r beyond (N - 1) / 2 -> 16
case("aim_mean", 2, 64, 24, 24, 32, integer_sizes=False)        # AIM: plain mean (sizes all 1), r = N / 2

DTYPES = {torch.float32: "F32", torch.int32: "I32"}
header, blobs, offset = {}, [], 0
for name in sorted(tensors):
    t = tensors[name]
    data = t.numpy().tobytes()
    header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
    blobs.append(data)
    offset += len(data)
header["__metadata__"] = {"generator": "tools/golden/tome.py", "torch": torch.__version__}
text = json.dumps(header, separators=(",", ":")).encode()
text += b" " * (-len(text) % 8)
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<Q", len(text)))
    f.write(text)
    for blob in blobs:
        f.write(blob)
print(f"wrote {len(tensors)} tensors, {offset} data bytes to {sys.argv[1]}")
