"""Export a train.py checkpoint: the model (safetensors), the held-out question sets, golden logits and a note.

Writes into --out (assets/vlm):
  vlm-grid.safetensors  projector + decoder (names in src/HpcCore.Models/Vlm/VlmWeights.cs), metadata lm_config
  vision.safetensors    the vision tower: the ViT of assets/vit with its last --tune-blocks blocks and final norm as
                        trained here (the ViT's own format; its classifier head is unused)
  eval-set.json         the held-out questions train.py scored (same seed): scene cells as indices into the
                        committed test subset (-1: empty), question token ids, answer id; base and high-res
  golden.json           PyTorch logits after the question for the first questions of each set, the first scene's
                        projected visual tokens, PyTorch's accuracy on both sets, and the blind (chance) baseline
  training.json         the run's record, arguments and a note
"""
import argparse
import json
import os
import sys
from collections import Counter

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
import scenes as S  # noqa: E402
import train as T  # noqa: E402
from model import CROP_POOL, LM, Vlm, load_vit, read_safetensors, write_safetensors  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--ckpt", default="/tmp/vlm-train/ckpt.pt")
p.add_argument("--out", default=os.path.join(T.ROOT, "assets", "vlm"))
p.add_argument("--golden", type=int, default=6)
p.add_argument("--note", default="")
a = p.parse_args()
torch.set_num_threads(1)
ck = torch.load(a.ckpt)
cached = torch.load(os.path.join(os.path.dirname(a.ckpt), "held-features.pt"))
args = ck["args"]
vit_path = os.path.join(T.ROOT, "assets", "vit", "vit-fmnist.safetensors")
vit = load_vit(vit_path)
tune = args["tune_blocks"]
model = Vlm(vit, tune, args.get("base_pool", 2))
model.load_state_dict(ck["state"])
model.eval()
os.makedirs(a.out, exist_ok=True)
write_safetensors(os.path.join(a.out, "vlm-grid.safetensors"), model.tensors(),
                  {"lm_config": json.dumps(LM), "vision": "assets/vlm/vision.safetensors", "tokens": json.dumps(S.TOKENS),
                   "vision_pool": json.dumps({"base": model.base_pool, "high_res": CROP_POOL})})
write_safetensors(os.path.join(a.out, "vision.safetensors"), model.vision_tensors(vit),
                  dict({k: v for k, v in read_safetensors(vit_path)[1].items() if k != "test_accuracy"}, note=f"assets/vit/vit-fmnist.safetensors with blocks "
                       f"{len(vit.blocks) - tune}..{len(vit.blocks) - 1} and the final norm tuned in the VLM (tools/train/vlm)"))

held_images, held_labels = T.load_items("test")
held_pool = T.by_class(held_labels)
erng = np.random.default_rng(1000 + args["seed"])
per = args["per_scene"]
sets = {"base": T.held_out_set(erng, held_labels, held_pool, args["eval_scenes"], per),
        "high_res": T.held_out_set(erng, held_labels, held_pool, args["eval_hr_scenes"], per)}

# Blind baseline ("chance"): the most frequent answer of each question (type and argument) over 20,000 training
# scenes, applied to the held-out questions: what a model that ignores the image can reach.
images, labels = T.load_items("train")
rng = np.random.default_rng(7)
prior, pool = {}, T.by_class(labels)
for _ in range(20000):
    cls = S.cell_classes(S.make_scene(rng, labels, pool), labels)
    for _ in range(4):
        q, ans = S.make_question(rng, cls)
        prior.setdefault(tuple(q), Counter())[ans] += 1

golden = {"tokens": S.TOKENS, "lm_config": LM, "per_scene": per,
          "visual_tokens": {"base": model.visual_tokens(1), "high_res": model.visual_tokens(S.GRID * S.GRID + 1)}}
eval_set = {"per_scene": per, "note": "cells index assets/data/fashion-mnist (the first 1,000 test images); -1 = empty"}
with torch.no_grad():
    for name, items in sets.items():
        hr = name == "high_res"
        # The features train.py computed for these scenes (same ViT, same inputs), checked against a fresh pass.
        feats = cached["held_hr" if hr else "held"]
        fresh = T.encode_scenes(vit, tune, held_images, [c for c, _, _ in items[:per]], hr)
        assert torch.allclose(fresh, feats[:1], atol=1e-5), name
        right, blind, logits_out, answers = 0, 0, [], []
        for i, (cells, q, ans) in enumerate(items):
            f = feats[i // per:i // per + 1].float()
            logits = model(f, torch.tensor([q]))[0, -1]
            right += int(logits.argmax()) == ans
            c = prior.get(tuple(q))
            blind += c is not None and c.most_common(1)[0][0] == ans
            if i < a.golden:
                logits_out.append([float(v) for v in logits])
                answers.append(int(logits.argmax()))
        eval_set[name] = [{"cells": [int(x) for x in c], "question": q, "answer": ans} for c, q, ans in items]
        golden[name] = {"logits": logits_out, "answers": answers, "accuracy": right / len(items),
                        "chance": blind / len(items), "count": len(items)}
        if not hr:
            golden["projected_first_scene"] = [float(v) for v in model.project(model.encode(feats[:1].float()))[0, :3].reshape(-1)]
        print(name, "accuracy", right / len(items), "blind", blind / len(items), flush=True)

with open(os.path.join(a.out, "golden.json"), "w") as f:
    json.dump(golden, f, indent=1)
with open(os.path.join(a.out, "eval-set.json"), "w") as f:
    json.dump(eval_set, f, separators=(",", ":"))
with open(os.path.join(a.out, "training.json"), "w") as f:
    json.dump({"record": ck["record"], "args": {k: v for k, v in args.items() if k not in ("out", "init", "bank_cache")}, "lm_config": LM,
               "params": sum(p.numel() for p in model.parameters()), "note": a.note}, f, indent=1)
