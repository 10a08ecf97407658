"""Pass-key retrieval of a checkpoint in PyTorch, with the diagnostics that `hpccore lm eval` does not print.

    /usr/bin/python3 tools/train/lm/passkey_probe.py austen.bin [trials]

For each context length (64 = needle and question only, no filler), greedy-decodes the answer to
LmEvaluator.PasskeyPrompt's question over Persuasion filler (persuasion-heldout.txt), depths 0.1..0.9 in turn, and
prints the accuracy, the mean NLL of the key's five digits given everything before them (chance ln 10 = 2.30), the
mean NLL of the first digit alone (the hardest: the only one not preceded by a digit of the key), and two answers.
"""
import math
import os
import random
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import decode, encode, load_checkpoint, passkey_prompt  # noqa: E402

torch.set_num_threads(1)
m = load_checkpoint(sys.argv[1]).eval()
trials = int(sys.argv[2]) if len(sys.argv) > 2 else 20
text = encode(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "persuasion-heldout.txt"), encoding="utf-8").read())

random.seed(1234)
with torch.no_grad():
    for length in [64, 128, 256, 512]:
        if length > m.c.ctx:
            break
        hits, digit_nll, first_nll, samples = 0, [], [], []
        for t in range(trials):
            key = str(random.randint(10000, 99999))
            p = passkey_prompt(text, key, length - 7, (t % 5) * 0.2 + 0.1)  # room for the 7 answer tokens
            answer = encode(f" {key}")
            lp = F.log_softmax(m(torch.tensor([p + answer]))[0], -1)
            nll = [-lp[len(p) - 1 + i, answer[i]].item() for i in range(1, len(answer))]
            digit_nll.append(sum(nll) / len(nll)); first_nll.append(nll[0])
            s = torch.tensor([p])
            for _ in range(7):
                s = torch.cat([s, m(s[:, -m.c.ctx:])[:, -1].argmax(-1, keepdim=True)], 1)
            got = decode(s[0, len(p):].tolist())
            hits += got.strip().startswith(key)
            if len(samples) < 2:
                samples.append(f"{key} -> {got!r}")
        print(f"length {length}: pass key {hits}/{trials}, key-digit NLL {sum(digit_nll) / trials:.2f} "
              f"(first digit {sum(first_nll) / trials:.2f}; chance {math.log(10):.2f}); {'; '.join(samples)}", flush=True)
