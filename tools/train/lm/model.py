"""The evaluation decoder's PyTorch model, its llama2.c checkpoint I/O and the pass-key prompt, shared by train.py,
copy_probe.py, induction_toy.py and passkey_probe.py.

A Llama-style decoder over bytes: RMSNorm, interleaved RoPE (llama2.c's pairs 2i, 2i+1), grouped-query attention,
SwiGLU, classifier tied to the embedding. The checkpoint is llama2.c's legacy run.c format, which HpcCore reads with
LlamaCCheckpoint: a header of seven int32 (dim, hidden, layers, heads, kv heads, vocab, context), the tensors in
`checkpoint_tensors` order, then the RoPE cos/sin tables.
"""
import math
import os
import random
import struct
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB = 259  # <unk>, <s>, </s>, then bytes 0..255 as ids 3..258 (llama2.c's byte fallback numbering)


@dataclass(frozen=True)
class Config:
    dim: int = 128
    hidden: int = 352
    layers: int = 4
    heads: int = 4
    kv_heads: int = 2
    vocab: int = VOCAB
    ctx: int = 512

    def header(self):
        return (self.dim, self.hidden, self.layers, self.heads, self.kv_heads, self.vocab, self.ctx)


def encode(text):
    """Token ids of text's UTF-8 bytes (byte b is id b + 3)."""
    return [b + 3 for b in text.encode("utf-8")]


def decode(ids):
    return bytes(i - 3 for i in ids if i >= 3).decode("utf-8", "replace")


# LmEvaluator.PasskeyPrompt's needle and question, with the leading space a llama2.c tokenizer's dummy prefix gives them.
PASSKEY_QUESTION = " What is the pass key? The pass key is"


def passkey_needle(key):
    return f" The pass key is {key}. Remember it. {key} is the pass key."


def passkey_prompt(filler, key, length, depth):
    """BOS, a window of filler token ids (its offset drawn with `random`) with the needle at fraction depth of it,
    then the question: `length` tokens, as LmEvaluator.PasskeyPrompt builds them."""
    needle, question = encode(passkey_needle(key)), encode(PASSKEY_QUESTION)
    body = max(0, length - 1 - len(needle) - len(question))
    start = random.randint(0, len(filler) - body - 1)
    window = [int(t) for t in filler[start:start + body]]
    split = int(body * depth)
    return [1] + window[:split] + needle + window[split:] + question


class Block(nn.Module):
    def __init__(s, c):
        super().__init__()
        d, hd = c.dim, c.dim // c.heads
        s.an = nn.Parameter(torch.ones(d)); s.fn = nn.Parameter(torch.ones(d))
        s.wq = nn.Linear(d, d, bias=False); s.wk = nn.Linear(d, c.kv_heads * hd, bias=False)
        s.wv = nn.Linear(d, c.kv_heads * hd, bias=False); s.wo = nn.Linear(d, d, bias=False)
        s.w1 = nn.Linear(d, c.hidden, bias=False); s.w2 = nn.Linear(c.hidden, d, bias=False)
        s.w3 = nn.Linear(d, c.hidden, bias=False)


def rms(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w


def rope(x, cos, sin):  # interleaved pairs (2i, 2i+1), as llama2.c
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack([x0 * cos - x1 * sin, x0 * sin + x1 * cos], -1).flatten(-2)


class Model(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.c = c
        s.emb = nn.Embedding(c.vocab, c.dim)
        s.blocks = nn.ModuleList([Block(c) for _ in range(c.layers)])
        s.norm = nn.Parameter(torch.ones(c.dim))
        hd = c.dim // c.heads
        inv = 10000.0 ** (-torch.arange(0, hd, 2).float() / hd)
        ang = torch.arange(c.ctx).float()[:, None] * inv[None]
        s.register_buffer("cos", ang.cos()); s.register_buffer("sin", ang.sin())
        # GPT-2's init: residual projections scaled by 1/sqrt(2 * layers).
        for n, prm in s.named_parameters():
            if prm.dim() == 2:
                nn.init.normal_(prm, std=0.02 if "wo" not in n and "w2" not in n else 0.02 / math.sqrt(2 * c.layers))

    def forward(s, x):
        """Logits [B, T, vocab] of token ids x [B, T] (causal)."""
        c = s.c
        B, T = x.shape
        hd, g = c.dim // c.heads, c.heads // c.kv_heads
        h = s.emb(x)
        cos, sin = s.cos[:T][None, :, None], s.sin[:T][None, :, None]
        mask = torch.full((T, T), float("-inf")).triu(1)
        for b in s.blocks:
            y = rms(h, b.an)
            q = rope(b.wq(y).view(B, T, c.heads, hd), cos, sin).transpose(1, 2)
            k = rope(b.wk(y).view(B, T, c.kv_heads, hd), cos, sin).transpose(1, 2).repeat_interleave(g, 1)
            v = b.wv(y).view(B, T, c.kv_heads, hd).transpose(1, 2).repeat_interleave(g, 1)
            att = (q @ k.transpose(-1, -2)) / math.sqrt(hd) + mask
            o = (att.softmax(-1) @ v).transpose(1, 2).reshape(B, T, c.dim)
            h = h + b.wo(o)
            y = rms(h, b.fn)
            h = h + b.w2(F.silu(b.w1(y)) * b.w3(y))
        return rms(h, s.norm) @ s.emb.weight.T


def checkpoint_tensors(m):
    """The model's tensors in llama2.c's checkpoint order (embedding, each kind over all layers, final norm)."""
    yield m.emb.weight
    for name in ["an", "wq", "wk", "wv", "wo", "fn", "w1", "w2", "w3"]:
        for b in m.blocks:
            x = getattr(b, name)
            yield x if isinstance(x, nn.Parameter) else x.weight
    yield m.norm


def read_config(path):
    with open(path, "rb") as f:
        return Config(*struct.unpack("7i", f.read(28)))


def load_checkpoint(path, into=None):
    """The model in a checkpoint written by export(); into: an existing model of the same shape to overwrite."""
    c = read_config(path)
    m = into if into is not None else Model(c)
    if c != m.c:
        raise SystemExit(f"{path}: shape {c.header()} is not the model's {m.c.header()}")
    with open(path, "rb") as f:
        f.seek(28)
        for t in checkpoint_tensors(m):
            t.data.copy_(torch.frombuffer(bytearray(f.read(4 * t.numel())), dtype=torch.float32).view_as(t))
    return m


def export(m, path):
    """Writes the llama2.c checkpoint atomically (a temporary file renamed over path)."""
    hd = m.c.dim // m.c.heads
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("7i", *m.c.header()))
        for t in [*checkpoint_tensors(m), m.cos[:, :hd // 2], m.sin[:, :hd // 2]]:
            f.write(t.detach().float().contiguous().numpy().tobytes())
    os.replace(path + ".tmp", path)


def export_tokenizer(path):
    """llama2.c's tokenizer.bin for the byte vocabulary: max piece length, then (score, length, bytes) per piece."""
    pieces = [b"<unk>", b"<s>", b"</s>"] + [bytes([i]) for i in range(256)]
    with open(path, "wb") as f:
        f.write(struct.pack("i", max(len(x) for x in pieces)))
        for x in pieces:
            f.write(struct.pack("fi", 0.0, len(x))); f.write(x)
