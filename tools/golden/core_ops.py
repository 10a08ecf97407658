#!/usr/bin/env python3
"""Golden outputs for HpcCore's core ops, computed by Debian's PyTorch (an implementation nobody here wrote).

Run with Debian's interpreter (`apt-get install python3-torch`; the `python3` first on PATH may lack torch):

    /usr/bin/python3 tools/golden/core_ops.py tests/HpcCore.Tests/Golden/core_ops.safetensors

The file is written in the safetensors format by hand (a JSON header and raw little-endian bytes), so reading
it also cross-checks HpcCore's safetensors reader against an independent writer. Expected values are computed in
float64 from the float32 inputs and stored as float32.
"""
import sys

import torch
import torch.nn.functional as F

import golden_writer

torch.manual_seed(20261123)
tensors = {}


def put(name, t):
    tensors[name] = t.detach().contiguous()


def f32(*shape, scale=1.0):
    return (torch.randn(*shape, dtype=torch.float64) * scale).float()


# Softmax over odd widths, with one row of huge logits (naive exp overflows).
x = f32(7, 33, scale=3.0)
x[3] += 1000.0
put("softmax.x", x)
put("softmax.y", torch.softmax(x.double(), dim=-1).float())

# LayerNorm with a row whose mean dwarfs its spread.
x = f32(5, 129)
x[0] += 100.0
w, b = f32(129), f32(129)
put("layernorm.x", x); put("layernorm.w", w); put("layernorm.b", b)
put("layernorm.y", F.layer_norm(x.double(), (129,), w.double(), b.double(), eps=1e-5).float())

# Activations over a wide range.
x = torch.linspace(-8, 8, 197, dtype=torch.float64).float().reshape(1, 197)
put("act.x", x)
put("act.gelu", F.gelu(x.double()).float())
put("act.gelu_tanh", F.gelu(x.double(), approximate="tanh").float())
put("act.silu", F.silu(x.double()).float())

# nn.Linear: y = x W^T + b (GEMM with transposed B and fused bias), and a plain batched matmul.
x, w, b = f32(31, 65), f32(17, 65), f32(17)
put("linear.x", x); put("linear.w", w); put("linear.b", b)
put("linear.y", F.linear(x.double(), w.double(), b.double()).float())
a, m = f32(3, 7, 33), f32(3, 33, 127)
put("bmm.a", a); put("bmm.b", m)
put("bmm.y", torch.bmm(a.double(), m.double()).float())

# Embedding lookup.
table = f32(11, 7)
ids = torch.tensor([[0, 10, 3], [3, 7, 1]], dtype=torch.int32)
put("embedding.table", table); put("embedding.ids", ids)
put("embedding.y", F.embedding(ids.long(), table))

# Argmax with ties (PyTorch returns the first maximal index).
x = torch.randint(0, 4, (9, 31)).float()
put("argmax.x", x)
put("argmax.y", torch.argmax(x, dim=-1).to(torch.int32))

# Rounding to F16 and BF16 (round to nearest even), including halfway cases and overflow.
x = torch.cat([f32(250, scale=100.0), torch.tensor([65520.0, 1e-8, -0.0, 1.00390625, 1.01171875, 3e38])]).float()
put("convert.x", x)
put("convert.f16", x.half())
put("convert.bf16", x.bfloat16())

golden_writer.write(sys.argv[1], tensors, "tools/golden/core_ops.py")
