#!/usr/bin/python3
# Trains the evaluation decoder for `hpccore lm eval`: a small Llama-style model (RMSNorm, interleaved RoPE, GQA,
# SwiGLU, tied classifier) over bytes, on five Jane Austen novels plus synthetic pass-key / key-value recall
# sequences (so long-context retrieval is a learned skill that KV policies can break), holding out Persuasion.
# Writes llama2.c's legacy checkpoint (run.c format) and a byte-level llama2.c tokenizer, which HpcCore loads
# with LlamaCCheckpoint / LlamaCTokenizer. Run with Debian's PyTorch: /usr/bin/python3 train.py --data DIR.
# The text comes from R's janeaustenr (apt-get install r-cran-janeaustenr), see README.md here.
import argparse, math, os, random, struct, time
import torch
import torch.nn as nn
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument("--data", required=True, help="folder with ss.txt pp.txt mp.txt emma.txt na.txt persuasion.txt")
p.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
p.add_argument("--minutes", type=float, default=30)
p.add_argument("--layers", type=int, default=4)
p.add_argument("--dim", type=int, default=128)
p.add_argument("--heads", type=int, default=8)
p.add_argument("--kv-heads", type=int, default=2)
p.add_argument("--hidden", type=int, default=344)
p.add_argument("--ctx", type=int, default=512)
p.add_argument("--batch", type=int, default=8)
p.add_argument("--lr", type=float, default=2e-3)
p.add_argument("--recall-share", type=float, default=0.3)
p.add_argument("--seed", type=int, default=1)
a = p.parse_args()
os.makedirs(a.out, exist_ok=True)
torch.manual_seed(a.seed)
random.seed(a.seed)
torch.set_num_threads(2)
VOCAB = 259  # <unk>, <s>, </s>, then bytes 0..255 as ids 3..258 (llama2.c's byte fallback numbering)

def load(name):
    return open(os.path.join(a.data, name), encoding="utf-8").read()

train_text = "\n".join(load(n) for n in ["ss.txt", "pp.txt", "mp.txt", "emma.txt", "na.txt"])
train = torch.tensor([b + 3 for b in train_text.encode("utf-8")], dtype=torch.long)

def enc(s):
    return [b + 3 for b in s.encode("utf-8")]

def recall_sequence(n):
    """Filler prose with a pass key (or key-value pairs) planted at a random depth and asked for at the end."""
    if random.random() < 0.5:
        key = str(random.randint(10000, 99999))
        needle = enc(f" The pass key is {key}. Remember it. {key} is the pass key. ")
        question = enc(f" What is the pass key? The pass key is {key}.")
        needles = [needle]
    else:
        pairs = [(f"{random.randint(100, 999)}", f"{random.randint(10000, 99999)}") for _ in range(3)]
        needles = [enc(f" Key {k} holds value {v}. ") for k, v in pairs]
        k, v = random.choice(pairs)
        question = enc(f" What value does key {k} hold? Key {k} holds value {v}.")
    body = n - 1 - len(question) - sum(len(x) for x in needles)
    start = random.randint(0, len(train) - body - 1)
    filler = train[start:start + body].tolist()
    for x in needles:
        at = random.randint(0, len(filler))
        filler[at:at] = x
    seq = [1] + filler + question
    return torch.tensor(seq[:n], dtype=torch.long)

def batch():
    xs = []
    for _ in range(a.batch):
        if random.random() < a.recall_share:
            xs.append(recall_sequence(a.ctx + 1))
        else:
            i = random.randint(0, len(train) - a.ctx - 1)
            xs.append(torch.cat([torch.tensor([1]), train[i:i + a.ctx]]))
    x = torch.stack(xs)
    return x[:, :-1], x[:, 1:]

class Block(nn.Module):
    def __init__(s):
        super().__init__()
        d, hd = a.dim, a.dim // a.heads
        s.an = nn.Parameter(torch.ones(d)); s.fn = nn.Parameter(torch.ones(d))
        s.wq = nn.Linear(d, d, bias=False); s.wk = nn.Linear(d, a.kv_heads * hd, bias=False)
        s.wv = nn.Linear(d, a.kv_heads * hd, bias=False); s.wo = nn.Linear(d, d, bias=False)
        s.w1 = nn.Linear(d, a.hidden, bias=False); s.w2 = nn.Linear(a.hidden, d, bias=False); s.w3 = nn.Linear(d, a.hidden, bias=False)

def rms(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w

def rope(x, cos, sin):  # interleaved pairs (2i, 2i+1), as llama2.c
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack([x0 * cos - x1 * sin, x0 * sin + x1 * cos], -1).flatten(-2)

class Model(nn.Module):
    def __init__(s):
        super().__init__()
        s.emb = nn.Embedding(VOCAB, a.dim)
        s.blocks = nn.ModuleList([Block() for _ in range(a.layers)])
        s.norm = nn.Parameter(torch.ones(a.dim))
        hd = a.dim // a.heads
        inv = 10000.0 ** (-torch.arange(0, hd, 2).float() / hd)
        ang = torch.arange(a.ctx).float()[:, None] * inv[None]
        s.register_buffer("cos", ang.cos()); s.register_buffer("sin", ang.sin())
        for n, prm in s.named_parameters():
            if prm.dim() == 2: nn.init.normal_(prm, std=0.02 if "wo" not in n and "w2" not in n else 0.02 / math.sqrt(2 * a.layers))

    def forward(s, x):
        B, T = x.shape
        hd, g = a.dim // a.heads, a.heads // a.kv_heads
        h = s.emb(x)
        cos, sin = s.cos[:T][None, :, None], s.sin[:T][None, :, None]
        mask = torch.full((T, T), float("-inf")).triu(1)
        for b in s.blocks:
            y = rms(h, b.an)
            q = rope(b.wq(y).view(B, T, a.heads, hd), cos, sin)
            k = rope(b.wk(y).view(B, T, a.kv_heads, hd), cos, sin)
            v = b.wv(y).view(B, T, a.kv_heads, hd)
            k = k.repeat_interleave(g, 2); v = v.repeat_interleave(g, 2)
            att = (q.transpose(1, 2) @ k.transpose(1, 2).transpose(-1, -2)) / math.sqrt(hd) + mask
            o = (att.softmax(-1) @ v.transpose(1, 2)).transpose(1, 2).reshape(B, T, a.dim)
            h = h + b.wo(o)
            y = rms(h, b.fn)
            h = h + b.w2(F.silu(b.w1(y)) * b.w3(y))
        return rms(h, s.norm) @ s.emb.weight.T

def export(m, path):
    hd = a.dim // a.heads
    with open(path, "wb") as f:
        f.write(struct.pack("7i", a.dim, a.hidden, a.layers, a.heads, a.kv_heads, VOCAB, a.ctx))
        def put(t): f.write(t.detach().float().contiguous().numpy().tobytes())
        put(m.emb.weight)
        for name in ["an", "wq", "wk", "wv", "wo", "fn", "w1", "w2", "w3"]:
            for b in m.blocks:
                x = getattr(b, name)
                put(x if isinstance(x, nn.Parameter) else x.weight)
        put(m.norm)
        put(m.cos[:, :hd // 2]); put(m.sin[:, :hd // 2])

def export_tokenizer(path):
    pieces = [b"<unk>", b"<s>", b"</s>"] + [bytes([i]) for i in range(256)]
    with open(path, "wb") as f:
        f.write(struct.pack("i", max(len(x) for x in pieces)))
        for x in pieces:
            f.write(struct.pack("fi", 0.0, len(x))); f.write(x)

m = Model()
opt = torch.optim.AdamW(m.parameters(), lr=a.lr, weight_decay=0.1, betas=(0.9, 0.95))
print(f"params {sum(x.numel() for x in m.parameters())}", flush=True)
start, step = time.time(), 0
budget = a.minutes * 60
while time.time() - start < budget:
    frac = (time.time() - start) / budget
    lr = a.lr * min(1.0, (step + 1) / 50) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
    for gr in opt.param_groups: gr["lr"] = lr
    x, y = batch()
    loss = F.cross_entropy(m(x).reshape(-1, VOCAB), y.reshape(-1))
    opt.zero_grad(); loss.backward(); torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0); opt.step()
    if step % 20 == 0:
        print(f"step {step} t {time.time() - start:.0f}s lr {lr:.2e} loss {loss.item():.3f}", flush=True)
    if step % 200 == 0:
        export(m, os.path.join(a.out, "austen.bin"))
    step += 1
export(m, os.path.join(a.out, "austen.bin"))
export_tokenizer(os.path.join(a.out, "bytes259.bin"))
print(f"done: {step} steps in {time.time() - start:.0f}s", flush=True)
