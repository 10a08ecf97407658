#!/usr/bin/python3
# Trains the evaluation decoder for `hpccore lm eval`: a small Llama-style model (RMSNorm, interleaved RoPE, GQA,
# SwiGLU, tied classifier) over bytes, on five Jane Austen novels plus synthetic pass-key / key-value recall
# sequences (so long-context retrieval is a learned skill that KV policies can break), holding out Persuasion.
# Writes llama2.c's legacy checkpoint (run.c format) and a byte-level llama2.c tokenizer, which HpcCore loads
# with LlamaCCheckpoint / LlamaCTokenizer. Run with Debian's PyTorch: /usr/bin/python3 train.py --data DIR.
# The text comes from R's janeaustenr (apt-get install r-cran-janeaustenr), see README.md here.
#
# Recipe for retrieval within minutes of CPU (README.md): a length curriculum (short sequences first, constant
# tokens per step, so each early step holds many recall problems and induction heads form early, as in Olsson et
# al. 2022 "In-context learning and induction heads"), half of the sequences synthetic recall in exactly the
# prompt format of LmEvaluator.PasskeyPrompt, the key digits of the answer up-weighted in the loss, and a
# time-based schedule (curriculum and learning rate follow wall-clock, so a run ends on time on a shared machine).
import argparse, math, os, random, struct, time
import torch
import torch.nn as nn
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument("--data", required=True, help="folder with ss.txt pp.txt mp.txt emma.txt na.txt persuasion.txt")
p.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
p.add_argument("--minutes", type=float, default=30)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--threads-later", type=int, default=0, help="switch to this many threads at --later-at (a shared machine frees up)")
p.add_argument("--later-at", default="", help="UTC time HH:MM of the switch")
p.add_argument("--layers", type=int, default=4)
p.add_argument("--dim", type=int, default=128)
p.add_argument("--heads", type=int, default=4)
p.add_argument("--kv-heads", type=int, default=2)
p.add_argument("--hidden", type=int, default=352)
p.add_argument("--ctx", type=int, default=512)
p.add_argument("--step-tokens", type=int, default=4096, help="tokens per optimiser step at every curriculum length")
p.add_argument("--lengths", default="128:0,256:0.2,512:0.45", help="length:start-fraction-of-time curriculum")
p.add_argument("--lr", type=float, default=3e-3)
p.add_argument("--recall-share", type=float, default=0.5)
p.add_argument("--answer-weight", type=float, default=4.0, help="loss weight of the answer's key digits")
p.add_argument("--eval-trials", type=int, default=40)
p.add_argument("--eval-every", type=int, default=200, help="steps between checkpoints with a quick pass-key check")
p.add_argument("--seed", type=int, default=1)
p.add_argument("--init", default="", help="start from this checkpoint (written by this script with the same shape)")
p.add_argument("--repeat-share", type=float, default=0.25, help="share of the recall sequences that repeat a random string")
p.add_argument("--dense-minutes", type=float, default=0.0,
               help="first phase: rows packed with short induction and recall sequences (little filler), so that "
                    "copying is a large share of the loss and the induction circuit forms (see the README)")
a = p.parse_args()
os.makedirs(a.out, exist_ok=True)
torch.manual_seed(a.seed)
random.seed(a.seed)
torch.set_num_threads(a.threads)
VOCAB = 259  # <unk>, <s>, </s>, then bytes 0..255 as ids 3..258 (llama2.c's byte fallback numbering)
CURRICULUM = [(int(l), float(f)) for l, f in (x.split(":") for x in a.lengths.split(","))]

def load(name):
    return open(os.path.join(a.data, name), encoding="utf-8").read()

def enc(s):
    return [b + 3 for b in s.encode("utf-8")]

train = torch.tensor(enc("\n".join(load(n) for n in ["ss.txt", "pp.txt", "mp.txt", "emma.txt", "na.txt"])), dtype=torch.long)
heldout = torch.tensor(enc(load("persuasion.txt")), dtype=torch.long)

def recall_sequence(n, text):
    """BOS, filler with a pass key, key-value pairs or a repeated random string planted at random depths, then the
    question and answer (or the string's second copy). Pieces carry the leading space that a llama2.c tokenizer's
    dummy prefix gives them in LmEvaluator. Returns tokens and per-target loss weights."""
    kind = random.random()
    passkey = 0.5 * (1 - a.repeat_share) / 0.75
    if kind < passkey:
        key = str(random.randint(10000, 99999))
        needles = [enc(f" The pass key is {key}. Remember it. {key} is the pass key.")]
        question, answer = enc(" What is the pass key? The pass key is"), enc(f" {key}.")
    elif kind < 1 - a.repeat_share:
        pairs = [(f"{random.randint(100, 999)}", f"{random.randint(10000, 99999)}") for _ in range(random.randint(2, 4 if n > 256 else 2))]
        needles = [enc(f" Key {k} holds value {v}.") for k, v in pairs]
        k, v = random.choice(pairs)
        question, answer = enc(f" What value does key {k} hold? Key {k} holds value"), enc(f" {v}.")
    else:
        # A random string seen once and repeated later: every byte of the repeat is predictable only by looking
        # back (the induction-head pattern), which gives retrieval many more training targets than a 5-digit answer.
        word = "".join(random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(random.randint(12, 40 if n <= 256 else 100)))
        needles = [enc(f" [{word}]")]
        question, answer = enc(" ["), enc(f"{word}]")
    body = max(0, n - 1 - len(question) - len(answer) - sum(len(x) for x in needles))
    start = random.randint(0, len(text) - body - 1)
    filler = text[start:start + body].tolist()
    for x in needles:
        at = random.randint(0, len(filler))
        filler[at:at] = x
    seq = ([1] + filler + question + answer)[:n]
    w = [1.0] * n
    for i in range(max(1, n - len(answer) + 1), n - 1):  # the answer's characters after its first (targets shift by one)
        w[i - 1] = a.answer_weight
    return seq, w

def induction_chunk():
    """A random string in brackets, random filler, and the string again: the second copy is predictable only by
    finding the first (an induction head). The filler is random on purpose: with Austen text there, learning the
    text's statistics dominated the loss and no copying appeared in 30 minutes (README)."""
    word = enc("".join(random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(random.randint(8, 24))))
    def filler(most):
        return enc("".join(random.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(random.randint(0, most))))
    first, second = enc(" [") + word + enc("]"), enc(" [") + word + enc("]")
    seq = [1] + filler(24) + first + filler(40) + second
    w = [1.0] * len(seq)
    for i in range(len(seq) - len(word) - 1, len(seq) - 1):  # targets i + 1: the copy after its first character
        w[i] = a.answer_weight
    return seq, w

def dense_row(length):
    """One row of the dense phase: induction chunks (70%) and short recall sequences (110-170 bytes, little filler)
    back to back, each from BOS, up to length + 1 tokens."""
    seq, w = [], []
    while len(seq) < length + 1:
        s_, w_ = induction_chunk() if random.random() < 0.7 else recall_sequence(random.randint(110, 170), train)
        seq += s_; w += w_
    return seq[:length + 1], w[:length + 1]

def batch(length, count, share, dense=False):
    if dense:
        rows = [dense_row(length) for _ in range(count)]
        x = torch.tensor([r for r, _ in rows], dtype=torch.long)
        return x[:, :-1], x[:, 1:], torch.tensor([w[:length] for _, w in rows])
    xs, ws = [], []
    for _ in range(count):
        if random.random() < share:
            s, w = recall_sequence(length + 1, train)
        else:
            i = random.randint(0, len(train) - length - 1)
            s, w = [1] + train[i:i + length].tolist(), [1.0] * (length + 1)
        xs.append(s); ws.append(w[:length])
    x = torch.tensor(xs, dtype=torch.long)
    return x[:, :-1], x[:, 1:], torch.tensor(ws)

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
            q = rope(b.wq(y).view(B, T, a.heads, hd), cos, sin).transpose(1, 2)
            k = rope(b.wk(y).view(B, T, a.kv_heads, hd), cos, sin).transpose(1, 2).repeat_interleave(g, 1)
            v = b.wv(y).view(B, T, a.kv_heads, hd).transpose(1, 2).repeat_interleave(g, 1)
            att = (q @ k.transpose(-1, -2)) / math.sqrt(hd) + mask
            o = (att.softmax(-1) @ v).transpose(1, 2).reshape(B, T, a.dim)
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

def load_checkpoint(m, path):
    """Reads a checkpoint written by export() back into the model (same shape), to continue training."""
    with open(path, "rb") as f:
        header = struct.unpack("7i", f.read(28))
        if header != (a.dim, a.hidden, a.layers, a.heads, a.kv_heads, VOCAB, a.ctx):
            raise SystemExit(f"--init {path}: shape {header} is not this run's")
        for t in checkpoint_tensors(m):
            t.data.copy_(torch.frombuffer(bytearray(f.read(4 * t.numel())), dtype=torch.float32).view_as(t))

def export(m, path):
    hd = a.dim // a.heads
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("7i", a.dim, a.hidden, a.layers, a.heads, a.kv_heads, VOCAB, a.ctx))
        for t in [*checkpoint_tensors(m), m.cos[:, :hd // 2], m.sin[:, :hd // 2]]:
            f.write(t.detach().float().contiguous().numpy().tobytes())
    os.replace(path + ".tmp", path)

def export_tokenizer(path):
    pieces = [b"<unk>", b"<s>", b"</s>"] + [bytes([i]) for i in range(256)]
    with open(path, "wb") as f:
        f.write(struct.pack("i", max(len(x) for x in pieces)))
        for x in pieces:
            f.write(struct.pack("fi", 0.0, len(x))); f.write(x)

@torch.no_grad()
def evaluate(m, length, trials):
    """Held-out perplexity per byte and greedy pass-key accuracy (full attention) at one length, Persuasion filler,
    depths 0.1..0.9 in turn (the prompt of LmEvaluator.PasskeyPrompt)."""
    m.eval()
    state = random.getstate(); random.seed(1234)
    xs = [heldout[i:i + length + 1] for i in random.sample(range(len(heldout) - length - 1), 8)]
    x = torch.stack(xs)
    ppl = math.exp(F.cross_entropy(m(x[:, :-1]).reshape(-1, VOCAB), x[:, 1:].reshape(-1)).item())
    keys, seqs = [], []
    for t in range(trials):
        key = str(random.randint(10000, 99999))
        needle = enc(f" The pass key is {key}. Remember it. {key} is the pass key.")
        question = enc(" What is the pass key? The pass key is")
        body = length - 1 - len(needle) - len(question)
        start = random.randint(0, len(heldout) - body - 1)
        filler = heldout[start:start + body].tolist()
        split = int(body * ((t % 5) * 0.2 + 0.1))
        keys.append(key); seqs.append([1] + filler[:split] + needle + filler[split:] + question)
    s = torch.tensor(seqs)
    for _ in range(6):
        s = torch.cat([s, m(s[:, -a.ctx:])[:, -1].argmax(-1, keepdim=True)], 1)
    hits = sum(bytes(c - 3 for c in row[-6:].tolist() if c >= 3).decode("utf-8", "replace").strip().startswith(k) for row, k in zip(s, keys))
    random.setstate(state); m.train()
    return ppl, hits

m = Model()
if a.init:
    load_checkpoint(m, a.init)
    print(f"init: {a.init}", flush=True)
opt = torch.optim.AdamW(m.parameters(), lr=a.lr, weight_decay=0.1, betas=(0.9, 0.95))
print(f"params {sum(x.numel() for x in m.parameters())} args {vars(a)}", flush=True)
start, step, seen, last_length = time.time(), 0, 0, None
budget = a.minutes * 60
later = None
if a.threads_later and a.later_at:
    hh, mm = (int(x) for x in a.later_at.split(":"))
    now = time.gmtime()
    later = time.time() + ((hh * 60 + mm) - (now.tm_hour * 60 + now.tm_min)) * 60 - now.tm_sec
while time.time() - start < budget:
    if later is not None and time.time() >= later:
        torch.set_num_threads(a.threads_later); later = None
        print(f"threads: {a.threads_later} from {time.time() - start:.0f}s", flush=True)
    frac = (time.time() - start) / budget
    length = max(l for l, f in CURRICULUM if f <= frac)
    if length != last_length:
        print(f"curriculum: length {length} from {time.time() - start:.0f}s", flush=True); last_length = length
    lr = a.lr * min(1.0, (step + 1) / 30) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
    for gr in opt.param_groups: gr["lr"] = lr
    # More recall while sequences are short, so the retrieval circuit forms before the long, expensive steps.
    share = a.recall_share if length == a.ctx else min(0.9, a.recall_share + 0.25)
    dense = time.time() - start < a.dense_minutes * 60
    x, y, w = batch(length, max(1, a.step_tokens // length), share, dense)
    loss = (F.cross_entropy(m(x).reshape(-1, VOCAB), y.reshape(-1), reduction="none") * w.reshape(-1)).sum() / w.sum()
    opt.zero_grad(); loss.backward(); torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0); opt.step()
    seen += x.numel()
    if step % 25 == 0:
        print(f"step {step} t {time.time() - start:.0f}s len {length} lr {lr:.2e} loss {loss.item():.3f} tokens {seen}", flush=True)
    if step % a.eval_every == 0 and step > 0:
        export(m, os.path.join(a.out, "austen.bin"))
        ppl, hits = evaluate(m, length, 10)
        print(f"  eval at length {length}: held-out perplexity {ppl:.3f}/byte, pass key {hits}/10", flush=True)
    step += 1
export(m, os.path.join(a.out, "austen.bin"))
export_tokenizer(os.path.join(a.out, "bytes259.bin"))
print(f"done: {step} steps, {seen} tokens in {time.time() - start:.0f}s", flush=True)
for length in sorted({min(256, a.ctx), a.ctx}):
    ppl, hits = evaluate(m, length, a.eval_trials)
    print(f"eval length {length}: held-out perplexity {ppl:.3f}/byte, pass key {hits}/{a.eval_trials} (full attention, greedy)", flush=True)
