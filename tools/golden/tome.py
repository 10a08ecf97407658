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
import sys

import torch

import golden_writer
from tome_match import match, merge

torch.manual_seed(20261129)
tensors = {}


def put(name, t):
    tensors[name] = t.detach().contiguous()


def case(name, bsz, n, d, c, r, class_token=False, distill_token=False, integer_sizes=True):
    metric = torch.randn(bsz, n, d).float()
    x = torch.randn(bsz, n, c).float()
    size = torch.randint(1, 5, (bsz, n)).float() if integer_sizes else torch.ones(bsz, n)
    r_eff, unm, src, dst = match(metric, r, class_token, distill_token)
    xs = x.double() * size.double()[..., None]
    x_out = merge(xs, unm, src, dst, distill_token, "sum")
    size_out = merge(size.double()[..., None], unm, src, dst, distill_token, "sum")
    x_out = x_out / size_out
    # Source tracking: merge the identity with amax; each input token's output is the row holding its 1.
    eye = torch.eye(n, dtype=torch.float64)[None].expand(bsz, n, n)
    source = merge(eye, unm, src, dst, distill_token, "amax")       # [B, N - r, N]
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

golden_writer.write(sys.argv[1], tensors, "tools/golden/tome.py")
