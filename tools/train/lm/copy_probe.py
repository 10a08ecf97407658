"""Does a checkpoint copy? The induction probe used while training the evaluation decoder (README, "Retrieval").

    /usr/bin/python3 tools/train/lm/copy_probe.py austen.bin

Reads a llama2.c checkpoint written by train.py and prints the mean negative log-likelihood of a random 30-character
string the first time it appears and the second time (after some text): a model with an induction head predicts the
second copy (NLL near 0); one without stays at chance (ln 36 = 3.58 nats) on both. Greedy pass-key retrieval needs
the same circuit, so a checkpoint that fails this probe fails the pass-key test too.
"""
import math, random, struct, sys, torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(1)
path = sys.argv[1]
f = open(path, "rb"); dim, hidden, layers, heads, kvh, V, ctx = struct.unpack("7i", f.read(28))
def get(*shape):
    n = 1
    for s in shape: n *= s
    return torch.frombuffer(bytearray(f.read(4 * n)), dtype=torch.float32).view(*shape)
hd = dim // heads
emb = get(V, dim)
W = {}
for name, shp in [("an", (dim,)), ("wq", (dim, dim)), ("wk", (kvh * hd, dim)), ("wv", (kvh * hd, dim)), ("wo", (dim, dim)), ("fn", (dim,)), ("w1", (hidden, dim)), ("w2", (dim, hidden)), ("w3", (hidden, dim))]:
    W[name] = [get(*shp) for _ in range(layers)]
norm = get(dim)
inv = 10000.0 ** (-torch.arange(0, hd, 2).float() / hd)
ang = torch.arange(ctx).float()[:, None] * inv[None]
COS, SIN = ang.cos(), ang.sin()
def rms(x, w): return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w
def rope(x, cos, sin):
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack([x0 * cos - x1 * sin, x0 * sin + x1 * cos], -1).flatten(-2)
@torch.no_grad()
def fwd(x):
    B, T = x.shape; g = heads // kvh
    h = emb[x]; cos, sin = COS[:T][None, :, None], SIN[:T][None, :, None]
    mask = torch.full((T, T), float("-inf")).triu(1)
    for l in range(layers):
        y = rms(h, W["an"][l])
        q = rope((y @ W["wq"][l].T).view(B, T, heads, hd), cos, sin).transpose(1, 2)
        k = rope((y @ W["wk"][l].T).view(B, T, kvh, hd), cos, sin).transpose(1, 2).repeat_interleave(g, 1)
        v = (y @ W["wv"][l].T).view(B, T, kvh, hd).transpose(1, 2).repeat_interleave(g, 1)
        o = ((q @ k.transpose(-1, -2)) / math.sqrt(hd) + mask).softmax(-1) @ v
        h = h + o.transpose(1, 2).reshape(B, T, dim) @ W["wo"][l].T
        y = rms(h, W["fn"][l])
        h = h + (F.silu(y @ W["w1"][l].T) * (y @ W["w3"][l].T)) @ W["w2"][l].T
    return rms(h, norm) @ emb.T
enc = lambda s: [b + 3 for b in s.encode()]
random.seed(5)
first, second = [], []
for t in range(20):
    word = "".join(random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(30))
    seq = [1] + enc(" It was a fine day in the country. [" + word + "] and so they walked on. [" + word + "]")
    x = torch.tensor([seq])
    lp = F.log_softmax(fwd(x)[0, :-1], -1)
    tgt = x[0, 1:]
    nll = -lp[torch.arange(len(tgt)), tgt]
    s = seq
    i1 = len(enc(" It was a fine day in the country. [")) + 1
    i2 = len(seq) - 31
    first.append(nll[i1:i1 + 29].mean().item()); second.append(nll[i2 + 1:i2 + 30].mean().item())
print(f"{path}: NLL first copy {sum(first)/len(first):.3f}, second copy {sum(second)/len(second):.3f} nats (chance {math.log(36):.3f})")
