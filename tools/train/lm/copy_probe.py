"""Does a checkpoint copy? The induction probe used while training the evaluation decoder (README, "Retrieval").

    /usr/bin/python3 tools/train/lm/copy_probe.py austen.bin

Reads a llama2.c checkpoint written by train.py and prints the mean negative log-likelihood of a random 30-character
string the first time it appears and the second time (after some text): a model with an induction head predicts the
second copy (NLL near 0); one without stays at chance (ln 36 = 3.58 nats) on both. Greedy pass-key retrieval needs
the same circuit, so a checkpoint that fails this probe fails the pass-key test too.
"""
import math
import os
import random
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import encode as enc, load_checkpoint  # noqa: E402

torch.set_num_threads(1)
path = sys.argv[1]
m = load_checkpoint(path).eval()
random.seed(5)
first, second = [], []
for t in range(20):
    word = "".join(random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(30))
    seq = [1] + enc(" It was a fine day in the country. [" + word + "] and so they walked on. [" + word + "]")
    x = torch.tensor([seq])
    with torch.no_grad():
        lp = F.log_softmax(m(x)[0, :-1], -1)
    tgt = x[0, 1:]
    nll = -lp[torch.arange(len(tgt)), tgt]
    i1 = len(enc(" It was a fine day in the country. [")) + 1
    i2 = len(seq) - 31
    first.append(nll[i1:i1 + 29].mean().item()); second.append(nll[i2 + 1:i2 + 30].mean().item())
print(f"{path}: NLL first copy {sum(first)/len(first):.3f}, second copy {sum(second)/len(second):.3f} nats (chance {math.log(36):.3f})")
