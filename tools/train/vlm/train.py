"""Train the VLM's projector, decoder and the vision tower's last --tune-blocks blocks (the ViT's earlier blocks stay
frozen) on synthetic grid scenes, on a wall-clock budget.

Training scenes take their items from the Fashion-MNIST training set (Debian's dataset-fashion-mnist package,
/usr/share/datasets/fashion-mnist); held-out scenes from the committed test subset (assets/data/fashion-mnist, the
first 1,000 test images, which neither the ViT nor this training ever saw), the set the C# evaluation uses.

The frozen part of the ViT runs once (phase 1): its output token states for the thumbnails of --bank-scenes scenes,
and for every training item's full-resolution crop. A high-resolution scene is its thumbnail's states followed by its
four cells' crop states (an empty cell's crop is one constant view), so every bank scene serves both layouts. Training (phase 2)
draws scenes from the bank with fresh questions at every step.

Speed on this machine: Debian's PyTorch links the reference BLAS and frees its large buffers back to the kernel, so
every step page-faults its activations in again. Install libopenblas0-pthread (apt) and run with a large glibc mmap
threshold (this script re-executes itself with one): the ViT went from ~85 to ~6 ms a view. Each sequence is LLaVA's multi-turn format, <s> image q1 a1 q2 a2 ..., 1..--max-turns turns, loss on the
answers only; a share of the bank is in the high-resolution layout (thumbnail + 4 crops). The learning rate follows
wall-clock time (--minutes); the checkpoint goes to --out/ckpt.pt at every evaluation.
"""
import argparse
import gzip
import json
import math
import os
import struct
import sys
import time

# Keep freed activations in the heap (see the docstring); must be set before the process starts.
if "MALLOC_MMAP_THRESHOLD_" not in os.environ:
    os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, MALLOC_MMAP_THRESHOLD_="4000000000",
                                                                 MALLOC_TRIM_THRESHOLD_="100000000000",
                                                                 MALLOC_TOP_PAD_="1000000000"))

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import scenes as S  # noqa: E402
from model import Vlm, frozen_states, load_vit, read_safetensors  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..")
DEBIAN = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    _, _, ndim = struct.unpack(">HBB", data[:4])
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_items(split):
    if split == "train":
        return read_idx(f"{DEBIAN}/train-images-idx3-ubyte.gz"), read_idx(f"{DEBIAN}/train-labels-idx1-ubyte.gz")
    d = os.path.join(ROOT, "assets", "data", "fashion-mnist")
    return read_idx(f"{d}/t10k-images-idx3-ubyte.gz"), read_idx(f"{d}/t10k-labels-idx1-ubyte.gz")


def by_class(labels):
    return [np.nonzero(labels == k)[0] for k in range(10)]


def encode_scenes(vit, tune, images, all_cells, high_res, chunk=64):
    """Frozen token states [n, V, 197, 64] (float32) of the scenes whose cells are all_cells."""
    out = []
    for s in range(0, len(all_cells), chunk):
        views = [S.views(S.render(c, images), high_res) for c in all_cells[s:s + chunk]]
        x = torch.from_numpy(np.concatenate(views)).float()
        f = frozen_states(vit, x, tune)
        out.append(f.reshape(len(views), -1, *f.shape[1:]))
    return torch.cat(out)


def encode_views(vit, tune, views, chunk=256):
    """views [n, 28, 28] normalised -> frozen token states [n, 197, 64], float16 (the training bank)."""
    return torch.cat([frozen_states(vit, torch.from_numpy(views[s:s + chunk]), tune).half() for s in range(0, len(views), chunk)])


def build_bank(vit, tune, images, labels, pool, rng, scenes, cache):
    """(cells [N][4], thumbnail states [N, 197, 64], crop states [items + 1, 197, 64]; the last row is the empty cell)."""
    if cache and os.path.exists(cache):
        b = torch.load(cache)
        # Cells index the items the bank was built from; the states depend on where the tower is cut.
        if len(b["cells"]) >= scenes and b.get("tune_blocks") == tune and b.get("items") == len(images):
            return b["cells"][:scenes], b["thumbs"][:scenes], b["crops"]
    t = time.time()
    cells = [S.make_scene(rng, labels, pool) for _ in range(scenes)]
    thumbs = encode_views(vit, tune, np.concatenate([S.views(S.render(c, images), False) for c in cells]))
    print(f"{scenes} thumbnails in {time.time() - t:.0f}s", flush=True)
    items = ((images.astype(np.float32) / 255 - np.float32(S.MEAN)) / np.float32(S.STD)).astype(np.float32)
    empty = np.full((1, S.CELL, S.CELL), -S.MEAN / S.STD, np.float32)
    crops = encode_views(vit, tune, np.concatenate([items, empty]))
    print(f"{len(items)} item crops in {time.time() - t:.0f}s", flush=True)
    if cache:
        torch.save({"cells": cells, "thumbs": thumbs, "crops": crops, "tune_blocks": tune, "items": len(images)}, cache)
    return cells, thumbs, crops


def questions_for(rng, classes, turns):
    text, target = [], []
    for _ in range(turns):
        q, a = S.make_question(rng, classes)
        text += q + [a]
    return text


def make_batch(rng, bank, labels, n, max_turns, high_res):
    """bank: build_bank's triple. Returns (states [n, views, 197, 64], text [n, T], targets [n, T]); 1 or 5 views."""
    cells, thumbs, crops = bank
    pick = rng.integers(len(cells), size=n)
    feats = thumbs[torch.from_numpy(pick)][:, None]
    if high_res:
        idx = torch.tensor([[c if c >= 0 else len(crops) - 1 for c in cells[i]] for i in pick])
        feats = torch.cat([feats, crops[idx]], 1)
    texts = [questions_for(rng, S.cell_classes(cells[i], labels), int(rng.integers(1, max_turns + 1))) for i in pick]
    return pack(feats.float(), texts)


def pack(feats, texts):
    t = max(len(s) for s in texts)
    text = torch.full((len(texts), t), S.PAD, dtype=torch.long)
    target = torch.full((len(texts), t), -100, dtype=torch.long)
    for i, s in enumerate(texts):
        text[i, :len(s)] = torch.tensor(s)
        for j in range(len(s) - 1):
            if s[j] == S.QMARK:
                target[i, j] = s[j + 1]
    return feats, text, target


def loss_of(model, feats, text, target, keep=None):
    k = model.visual_tokens(feats.shape[1]) if keep is None else len(keep)
    logits = model(feats, text, keep)[:, 1 + k:]
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=-100)


def held_out_set(rng, labels, pool, scenes, per_scene):
    """[(cells, question ids, answer id)] with per_scene single questions per scene."""
    out = []
    for _ in range(scenes):
        cells = S.make_scene(rng, labels, pool)
        classes = S.cell_classes(cells, labels)
        for _ in range(per_scene):
            q, a = S.make_question(rng, classes)
            out.append((cells, q, a))
    return out


@torch.no_grad()
def accuracy(model, feats, items, per_scene, keep_share=1.0):
    """Single-question accuracy; feats [scenes, views, 197, 64] in the order of items' scenes. keep_share < 1 keeps that
    share of each scene's visual tokens, drawn at random (seeded): the random-selection baseline, as a redundancy probe."""
    model.eval()
    right, rng = 0, np.random.default_rng(5)
    v = model.visual_tokens(feats.shape[1])
    for i, (_, q, a) in enumerate(items):
        keep = None if keep_share >= 1 else torch.from_numpy(np.sort(rng.choice(v, size=round(v * keep_share), replace=False)))
        logits = model(feats[i // per_scene:i // per_scene + 1].float(), torch.tensor([q]), keep)
        right += int(logits[0, -1].argmax()) == a
    model.train()
    return right / len(items)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--minutes", type=float, default=30, help="total wall clock, bank included")
    p.add_argument("--bank-scenes", type=int, default=40000)
    p.add_argument("--hr-share", type=float, default=0.3, help="share of steps in the high-resolution layout")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--hr-batch", type=int, default=6)
    p.add_argument("--max-turns", type=int, default=12)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--warmup", type=int, default=30)
    p.add_argument("--eval-every", type=float, default=5.0, help="minutes")
    p.add_argument("--eval-scenes", type=int, default=500)
    p.add_argument("--eval-hr-scenes", type=int, default=250)
    p.add_argument("--per-scene", type=int, default=4)
    p.add_argument("--threads", type=int, default=1, help="1: on the loaded shared machine two threads ran at half the speed")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="/tmp/vlm-train")
    p.add_argument("--token-drop", type=float, default=0.0,
                   help="share of steps whose batch keeps only a random share (--drop-keep) of its visual tokens (at their positions)")
    p.add_argument("--drop-keep", default="0.1,1.0", help="the range the kept share is drawn from, uniformly")
    p.add_argument("--init", default="", help="continue from this checkpoint (a run written by this script) or from an "
                   "exported vlm-grid.safetensors (projector and decoder; the tower starts as the ViT)")
    p.add_argument("--items", type=int, default=60000, help="the first N Fashion-MNIST training items build the scenes")
    p.add_argument("--tune-blocks", type=int, default=0, help="the vision tower's last blocks (and final norm) that train")
    p.add_argument("--base-pool", type=int, default=1, choices=[1, 2],
                   help="patches per side pooled into one visual token in base mode (1: all 196; runs 1-8 used 2: 49)")
    p.add_argument("--bank-cache", default="", help="feature bank file: loaded if present and large enough, else built and saved")
    a = p.parse_args()
    drop_keep = [float(x) for x in a.drop_keep.split(",")]
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    start = time.time()
    images, labels = load_items("train")
    images, labels = images[:a.items], labels[:a.items]
    held_images, held_labels = load_items("test")
    train_pool, held_pool = by_class(labels), by_class(held_labels)
    vit = load_vit(os.path.join(ROOT, "assets", "vit", "vit-fmnist.safetensors"))

    # The held-out questions (export.py rebuilds them from the same seed and writes them for the C# evaluation).
    erng = np.random.default_rng(1000 + a.seed)
    held = held_out_set(erng, held_labels, held_pool, a.eval_scenes, a.per_scene)
    held_hr = held_out_set(erng, held_labels, held_pool, a.eval_hr_scenes, a.per_scene)
    held_feats = encode_scenes(vit, a.tune_blocks, held_images, [c for c, _, _ in held[::a.per_scene]], False)
    held_hr_feats = encode_scenes(vit, a.tune_blocks, held_images, [c for c, _, _ in held_hr[::a.per_scene]], True)
    print(f"held-out features in {time.time() - start:.0f}s", flush=True)

    rng = np.random.default_rng(a.seed)
    bank = build_bank(vit, a.tune_blocks, images, labels, train_pool, rng, a.bank_scenes, a.bank_cache)
    print(f"bank: {len(bank[0])} scenes after {time.time() - start:.0f}s", flush=True)
    torch.save({"held": held_feats, "held_hr": held_hr_feats}, os.path.join(a.out, "held-features.pt"))

    model = Vlm(vit, a.tune_blocks, a.base_pool)
    if a.init.endswith(".safetensors"):
        model.load_tensors(read_safetensors(a.init)[0])
    elif a.init:
        model.load_state_dict(torch.load(a.init)["state"])
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=a.lr, weight_decay=0.01, betas=(0.9, 0.98))
    log = open(os.path.join(a.out, "log.jsonl"), "a")
    train_start = time.time()
    train_seconds = a.minutes * 60 - (train_start - start)
    next_eval, step, ema = a.eval_every * 60, 0, None

    def record(final):
        rec = {"step": step, "minutes": (time.time() - start) / 60, "loss": ema,
               "bank_scenes": len(bank[0]),
               "held_out_acc": accuracy(model, held_feats, held, a.per_scene),
               "held_out_acc_hr": accuracy(model, held_hr_feats, held_hr, a.per_scene),
               "held_out_acc_random25": accuracy(model, held_feats, held, a.per_scene, 0.25),
               "held_out_acc_hr_random25": accuracy(model, held_hr_feats, held_hr, a.per_scene, 0.25), "final": final}
        print(json.dumps(rec), flush=True)
        log.write(json.dumps(rec) + "\n")
        log.flush()
        torch.save({"state": model.state_dict(), "record": rec, "args": vars(a)}, os.path.join(a.out, "ckpt.pt"))

    while True:
        elapsed = time.time() - train_start
        frac = elapsed / train_seconds
        if frac >= 1:
            break
        lr = a.lr * min(1, (step + 1) / a.warmup) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
        for g in opt.param_groups:
            g["lr"] = lr
        hr = rng.random() < a.hr_share
        batch = make_batch(rng, bank, labels, a.hr_batch if hr else a.batch, a.max_turns, hr)
        keep = None
        if rng.random() < a.token_drop:
            # Visual-token dropout after the encoder: the batch keeps a random share of its visual tokens at their
            # positions (the tower still sees the whole image, as it does when a method prunes its output).
            v = model.visual_tokens(batch[0].shape[1])
            k = max(1, int(round(rng.uniform(*drop_keep) * v)))
            keep = torch.from_numpy(np.sort(rng.choice(v, size=k, replace=False)))
        loss = loss_of(model, *batch, keep)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()
        step += 1
        if step % 10 == 0:
            print(f"step {step} t={elapsed / 60:.1f}m lr={lr:.2e} loss={ema:.3f}", flush=True)
        if elapsed >= next_eval:
            next_eval += a.eval_every * 60
            record(False)
    record(True)


if __name__ == "__main__":
    main()
