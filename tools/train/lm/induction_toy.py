"""The control for the retrieval experiments in README: train.py's architecture from scratch on a pure copy task.

    /usr/bin/python3 tools/train/lm/induction_toy.py 128 2 1e-3 800     # width, layers, learning rate, steps
    /usr/bin/python3 tools/train/lm/induction_toy.py 0 0 1e-3 1100 tools/train/lm/austen.bin   # from a checkpoint

Rows are BOS, random filler, [a random 12-letter word], more filler, and the word again (filler and word from
disjoint byte ranges, offsets varying so that a fixed-offset head cannot solve it); the loss on the second copy drops
from chance (ln 26 = 3.26 nats) once an induction head forms: after a plateau of ~300 steps at width 128, 2 layers,
lr 1e-3 (2.9 at step 300, 1.9 at step 500 on this machine). Started from the committed austen.bin (a fifth
argument; its shape then comes from the checkpoint header), the plateau ends at ~450 steps: 2.30 at 500, 0.03 at 950,
0.01 at 1,000 (6 minutes on one thread). So the architecture and our model can copy; the mixed Austen data of
train.py did not make them do so in the time we had.
"""
import math, random, sys, time, torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(1); torch.manual_seed(0); random.seed(0)
import struct
V, dim, heads, kvh, layers, hidden, ctx = 259, int(sys.argv[1]), 4, 2, int(sys.argv[2]), 352, 64
init = open(sys.argv[5], "rb") if len(sys.argv) > 5 else None
if init:  # llama2.c header as train.py writes it: dim, hidden, layers, heads, kv heads, vocab, context
    dim, hidden, layers, heads, kvh, V, ctx = struct.unpack("7i", init.read(28))
hd = dim // heads
class Block(nn.Module):
    def __init__(s):
        super().__init__(); d = dim
        s.an = nn.Parameter(torch.ones(d)); s.fn = nn.Parameter(torch.ones(d))
        s.wq = nn.Linear(d, d, bias=False); s.wk = nn.Linear(d, kvh * hd, bias=False)
        s.wv = nn.Linear(d, kvh * hd, bias=False); s.wo = nn.Linear(d, d, bias=False)
        s.w1 = nn.Linear(d, hidden, bias=False); s.w2 = nn.Linear(hidden, d, bias=False); s.w3 = nn.Linear(d, hidden, bias=False)
def rms(x, w): return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w
def rope(x, cos, sin):
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack([x0 * cos - x1 * sin, x0 * sin + x1 * cos], -1).flatten(-2)
class Model(nn.Module):
    def __init__(s):
        super().__init__()
        s.emb = nn.Embedding(V, dim); s.blocks = nn.ModuleList([Block() for _ in range(layers)]); s.norm = nn.Parameter(torch.ones(dim))
        inv = 10000.0 ** (-torch.arange(0, hd, 2).float() / hd); ang = torch.arange(ctx).float()[:, None] * inv[None]
        s.register_buffer("cos", ang.cos()); s.register_buffer("sin", ang.sin())
        for n, p in s.named_parameters():
            if p.dim() == 2: nn.init.normal_(p, std=0.02)
    def forward(s, x):
        B, T = x.shape; g = heads // kvh; h = s.emb(x)
        cos, sin = s.cos[:T][None, :, None], s.sin[:T][None, :, None]
        mask = torch.full((T, T), float("-inf")).triu(1)
        for b in s.blocks:
            y = rms(h, b.an)
            q = rope(b.wq(y).view(B, T, heads, hd), cos, sin).transpose(1, 2)
            k = rope(b.wk(y).view(B, T, kvh, hd), cos, sin).transpose(1, 2).repeat_interleave(g, 1)
            v = b.wv(y).view(B, T, kvh, hd).transpose(1, 2).repeat_interleave(g, 1)
            o = ((q @ k.transpose(-1, -2)) / math.sqrt(hd) + mask).softmax(-1) @ v
            h = h + b.wo(o.transpose(1, 2).reshape(B, T, dim))
            y = rms(h, b.fn); h = h + b.w2(F.silu(b.w1(y)) * b.w3(y))
        return rms(h, s.norm) @ s.emb.weight.T
m = Model()
if init:  # the tensors in train.py's export order (the RoPE tables after them are not needed)
    def get(t): t.data.copy_(torch.frombuffer(bytearray(init.read(4 * t.numel())), dtype=torch.float32).view_as(t))
    get(m.emb.weight)
    for name in ["an", "wq", "wk", "wv", "wo", "fn", "w1", "w2", "w3"]:
        for b in m.blocks:
            x = getattr(b, name); get(x if isinstance(x, nn.Parameter) else x.weight)
    get(m.norm)
opt = torch.optim.AdamW(m.parameters(), lr=float(sys.argv[3]), weight_decay=0.1, betas=(0.9, 0.95))
t0 = time.time()
for step in range(int(sys.argv[4])):
    rows, masks = [], []
    for _ in range(64):
        a = random.randint(0, 12); b = random.randint(0, 12)
        w = [random.randint(100, 125) for _ in range(12)]
        f1 = [random.randint(51, 60) for _ in range(a)]; f2 = [random.randint(51, 60) for _ in range(b)]
        r = [1] + f1 + [94] + w + [96] + f2 + [94] + w + [96]
        mk = [0.0] * (len(r) - 13) + [1.0] * 13
        pad = 64 - len(r); rows.append(r + [0] * pad); masks.append(mk + [0.0] * pad)
    seq = torch.tensor(rows); mk = torch.tensor(masks)[:, 1:]
    logits = m(seq[:, :-1]); nll = F.cross_entropy(logits.reshape(-1, V), seq[:, 1:].reshape(-1), reduction="none").view(64, -1)
    loss2 = (nll * mk).sum() / mk.sum()
    valid = (seq[:, 1:] != 0).float(); loss = (nll * valid).sum() / valid.sum()
    opt.zero_grad(); loss.backward(); torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0); opt.step()
    if step % 50 == 0: print(step, f"second-half loss {loss2.item():.3f} (chance {math.log(26):.3f}) {time.time()-t0:.0f}s", flush=True)
