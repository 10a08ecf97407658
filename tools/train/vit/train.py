"""Train a small ViT (patch 2 on 28x28: 196 patch tokens + [CLS]) on Fashion-MNIST on 2 CPU cores.

The machine is small and shared, so training follows FLIP (Li et al., "Scaling Language-Image Pre-training via
Masking", CVPR 2023): most steps drop a random 75% of the patch tokens (cost falls ~5x since attention is
quadratic), then a short final phase trains on all 197 tokens to close the train/test token-count gap.
The learning-rate schedule runs on wall-clock time (--minutes) because step time depends on the machine's load.
Checkpoints go to --out/ckpt.pt after every evaluation; export.py turns one into the committed files.
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from data import load, normalise  # noqa: E402
from grow import grow  # noqa: E402
from model import VisionTransformer  # noqa: E402
import tome_forward  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--minutes", type=float, default=55)
p.add_argument("--full-fraction", type=float, default=0.3, help="share of the time trained on all tokens")
p.add_argument("--keep", type=float, default=0.25, help="patch-token keep ratio in the masked phase")
p.add_argument("--batch", type=int, default=128)
p.add_argument("--lr", type=float, default=2e-3)
p.add_argument("--dim", type=int, default=64)
p.add_argument("--depth", type=int, default=4,
               help="with --init from a shallower model: grow it to this depth (grow.py: a new block, output "
                    "projections zero, after each trained one, so training starts from the same function)")
p.add_argument("--heads", type=int, default=4)
p.add_argument("--mlp-ratio", type=float, default=2.0)
p.add_argument("--out", default="/tmp/vit-train")
p.add_argument("--seed", type=int, default=0)
p.add_argument("--threads", type=int, default=2,
               help="1 is faster on a loaded machine: a 2-thread step stalls whenever one thread is descheduled")
p.add_argument("--init", help="checkpoint whose weights start this run (a continuation with a fresh schedule)")
p.add_argument("--tome-r", default="",
               help="comma-separated ToMe r values, or schedules of r per block joined by ':' (72:48:0:0): each "
                    "all-token step merges with one of them, drawn at random (tome_forward.py; 0 = no merging), to "
                    "fine-tune the model for the C# ToMe pipeline")
p.add_argument("--distill", type=float, default=0.0,
               help="weight W of self-distillation on merging steps: loss = (1 - W) CE + W KL(teacher || student), "
                    "the teacher being the --init model on all tokens (frozen), as DynamicViT distils its pruned model")
p.add_argument("--warmup", type=int, default=150, help="linear learning-rate warm-up steps")
a = p.parse_args()
if a.distill > 0 and not a.init:
    p.error("--distill needs --init: the teacher is the model it starts from")

torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)
os.makedirs(a.out, exist_ok=True)
xtr, ytr = load("train")
xte, yte = load("test")
xtr, xte = normalise(xtr), normalise(xte)
ytr, yte = torch.from_numpy(ytr.astype("int64")), torch.from_numpy(yte.astype("int64"))
cfg = dict(img=28, patch=2, chans=1, classes=10, dim=a.dim, depth=a.depth, heads=a.heads, mlp_ratio=a.mlp_ratio)
model = VisionTransformer(**cfg)
if a.init:
    init = torch.load(a.init)
    start_model = VisionTransformer(**init["cfg"])
    start_model.load_state_dict(init["state"])
    model.load_state_dict(grow(start_model, init["cfg"], a.depth).state_dict() if init["cfg"]["depth"] != a.depth else init["state"])
decay = [p_ for n, p_ in model.named_parameters() if p_.ndim >= 2 and "pos_embed" not in n]
no_decay = [p_ for n, p_ in model.named_parameters() if not (p_.ndim >= 2 and "pos_embed" not in n)]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}],
                        lr=a.lr, betas=(0.9, 0.999))


def forward_masked(x, keep):
    """Forward on [CLS] + a random subset of patch tokens (FLIP-style random masking)."""
    t = model.patch_embed(x) + model.pos_embed[:, 1:]
    b, n, d = t.shape
    k = max(1, int(n * keep))
    idx = torch.rand(b, n).argsort(dim=1)[:, :k]
    t = t.gather(1, idx.unsqueeze(-1).expand(b, k, d))
    cls = (model.cls_token + model.pos_embed[:, :1]).expand(b, -1, -1)
    h = torch.cat([cls, t], dim=1)
    for blk in model.blocks:
        h = blk(h)
    return model.head(model.norm(h)[:, 0])


@torch.no_grad()
def evaluate(n, r=0):
    """Top-1 accuracy on the first n test images, with ToMe r in every block when r > 0."""
    model.eval()
    correct = 0
    for i in range(0, n, 500):
        logits = tome_forward.forward(model, xte[i:i + 500], r)
        correct += (logits.argmax(1) == yte[i:i + 500]).sum().item()
    model.train()
    return correct / n


tome_rs = [int(v) if ":" not in v else tuple(int(u) for u in v.split(":")) for v in a.tome_r.split(",") if v.strip()]
teacher_logp = None
if a.distill > 0:
    # No augmentation, so the frozen teacher's output per training image never changes: computed once.
    start_model.eval()
    with torch.no_grad():
        teacher_logp = torch.cat([F.log_softmax(start_model(xtr[i:i + 500]), dim=-1) for i in range(0, len(xtr), 500)])
budget = a.minutes * 60
start = time.time()
step, epoch, best = 0, 0, 0.0
log = open(os.path.join(a.out, "log.jsonl"), "a")
last_eval = start
while True:
    perm = torch.randperm(len(xtr))
    for i in range(0, len(perm) - a.batch + 1, a.batch):
        frac = (time.time() - start) / budget
        if frac >= 1:
            break
        warm = min(1.0, (step + 1) / a.warmup)
        lr = a.lr * warm * 0.5 * (1 + math.cos(math.pi * frac))
        for g in opt.param_groups:
            g["lr"] = lr
        j = perm[i:i + a.batch]
        x, y = xtr[j], ytr[j]
        full = frac >= 1 - a.full_fraction
        if not full:
            logits = forward_masked(x, a.keep)
        else:
            r = tome_rs[torch.randint(len(tome_rs), (1,)).item()] if tome_rs else 0
            logits = tome_forward.forward(model, x, r)
        loss = F.cross_entropy(logits, y, label_smoothing=0.1)
        if teacher_logp is not None and full and r:
            kl = F.kl_div(F.log_softmax(logits, dim=-1), teacher_logp[j], log_target=True, reduction="batchmean")
            loss = (1 - a.distill) * loss + a.distill * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        if step % 20 == 0:
            print(f"step {step} epoch {epoch} frac {frac:.3f} full {full} lr {lr:.2e} loss {loss.item():.4f} "
                  f"t {time.time() - start:.0f}s", flush=True)
        if time.time() - last_eval > 300:
            acc = evaluate(1000)
            last_eval = time.time()
            rec = dict(step=step, epoch=epoch, frac=frac, full=full, acc1000=acc, seconds=time.time() - start)
            print(json.dumps(rec), flush=True)
            log.write(json.dumps(rec) + "\n")
            log.flush()
            torch.save({"cfg": cfg, "state": model.state_dict(), "rec": rec}, os.path.join(a.out, "ckpt.pt"))
    else:
        epoch += 1
        continue
    break

train_seconds = time.time() - start
acc = evaluate(len(xte))
rec = dict(step=step, epoch=epoch, test_acc=acc, train_seconds=train_seconds, args=vars(a),
           tome_test_acc={str(r): evaluate(len(xte), r) for r in dict.fromkeys(tome_rs) if r})
print(json.dumps(rec), flush=True)
log.write(json.dumps(rec) + "\n")
torch.save({"cfg": cfg, "state": model.state_dict(), "rec": rec}, os.path.join(a.out, "final.pt"))
torch.save({"cfg": cfg, "state": model.state_dict(), "rec": rec}, os.path.join(a.out, "ckpt.pt"))
