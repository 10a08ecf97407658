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
# What finally formed the retrieval circuit was none of these but a first phase of toy copy rows (--toy-minutes) and a
# share of them kept in the mixture (--toy-share); README.md, "Retrieval".
import argparse, math, os, random, sys, time
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import (VOCAB, PASSKEY_QUESTION, Config, Model, encode as enc, export, export_tokenizer,  # noqa: E402
                   load_checkpoint, passkey_needle, passkey_prompt)

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
p.add_argument("--toy-minutes", type=float, default=0.0,
               help="first phase: only toy copy rows (toy_row), where the induction circuit forms (see the README)")
p.add_argument("--toy-share", type=float, default=0.0,
               help="share of the later rows packed with toy copy rows, so that the circuit is kept")
a = p.parse_args()
os.makedirs(a.out, exist_ok=True)
torch.manual_seed(a.seed)
random.seed(a.seed)
torch.set_num_threads(a.threads)
CURRICULUM = [(int(l), float(f)) for l, f in (x.split(":") for x in a.lengths.split(","))]

def load(name):
    return open(os.path.join(a.data, name), encoding="utf-8").read()


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
        needles = [enc(passkey_needle(key))]
        question, answer = enc(PASSKEY_QUESTION), enc(f" {key}.")
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

# Toy copy rows (induction_toy.py's task, generalised): the retrieval circuit forms on these within ~1,000 steps,
# where mixed Austen data never formed it (README, "Retrieval"). The word's alphabet varies per row (digits, lower or
# upper case) and the filler is drawn from another one: a first version with letter words and digit filler taught
# the model to copy letters and never digits, so its pass-key answers stayed at chance.
ALPHABETS = ["0123456789", "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]


def toy_row():
    """BOS, filler, a word in brackets (or after " is "), filler, the same again; at most 65 tokens."""
    word_abc = random.randrange(3)
    filler_abc = ALPHABETS[random.choice([i for i in range(3) if i != word_abc])] + " "
    word = "".join(random.choice(ALPHABETS[word_abc]) for _ in range(random.randint(5, 12)))
    opening, closing = random.choice([("[", "]"), (" is ", ".")])
    def filler():
        return "".join(random.choice(filler_abc) for _ in range(random.randint(0, 13)))
    return [1] + enc(filler() + opening + word + closing + filler() + opening + word + closing)


def toy_batch(count):
    """count rows of one toy sequence each, padded to 65 tokens with weight 0."""
    xs, ws = [], []
    for _ in range(count):
        r = toy_row()
        xs.append(r + [0] * (65 - len(r))); ws.append([1.0] * (len(r) - 1) + [0.0] * (65 - len(r)))
    x = torch.tensor(xs, dtype=torch.long)
    return x[:, :-1], x[:, 1:], torch.tensor(ws)


def packed_toy_row(length):
    """length + 1 tokens of toy sequences back to back (each from its BOS), for the mixture."""
    seq = []
    while len(seq) < length + 1:
        seq += toy_row()
    return seq[:length + 1], [1.0] * length

def batch(length, count, share):
    """count rows of length + 1 tokens: toy copy rows (--toy-share), recall sequences (share) or Austen text."""
    xs, ws = [], []
    for _ in range(count):
        u = random.random()
        if u < a.toy_share:
            s, w = packed_toy_row(length)
        elif u < a.toy_share + share:
            s, w = recall_sequence(length + 1, train)
        else:
            i = random.randint(0, len(train) - length - 1)
            s, w = [1] + train[i:i + length].tolist(), [1.0] * (length + 1)
        xs.append(s); ws.append(w[:length])
    x = torch.tensor(xs, dtype=torch.long)
    return x[:, :-1], x[:, 1:], torch.tensor(ws)


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
        keys.append(key); seqs.append(passkey_prompt(heldout, key, length, (t % 5) * 0.2 + 0.1))
    s = torch.tensor(seqs)
    for _ in range(6):
        s = torch.cat([s, m(s[:, -a.ctx:])[:, -1].argmax(-1, keepdim=True)], 1)
    hits = sum(bytes(c - 3 for c in row[-6:].tolist() if c >= 3).decode("utf-8", "replace").strip().startswith(k) for row, k in zip(s, keys))
    random.setstate(state); m.train()
    return ppl, hits

m = Model(Config(a.dim, a.hidden, a.layers, a.heads, a.kv_heads, VOCAB, a.ctx))
if a.init:
    load_checkpoint(a.init, into=m)
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
    if time.time() - start < a.toy_minutes * 60:
        x, y, w = toy_batch(a.step_tokens // 64)
    else:
        x, y, w = batch(length, max(1, a.step_tokens // length), share)
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
