#!/usr/bin/env python3
# Builds the retrieval sets of `hpccore encoder eval` (issue #17) from Debian packages, standard library only:
#   wordnet-gloss.json  WordNet 3.0 (package wordnet-base): query = a noun synset's usage example, document = its
#                       definition; short inputs (~10-25 tokens).
#   kjv-halves.json     King James Bible (packages bible-kjv + bible-kjv-text, read through `bible -f`): passages of
#                       consecutive verses cut into two halves of >= 110 words (>= 128 WordPiece tokens); query = first
#                       half, document = second half.
# Each file: {"name", "source", "queries": [...], "documents": [...]}, query i's answer being document i.
# Usage: tools/encoder-eval/build_sets.py [OUT_DIR]   (default artifacts/encoder-eval; apt-get install wordnet-base bible-kjv)
import json
import os
import random
import re
import subprocess
import sys

SEED = 17
WORDNET_SIZE = 1000
KJV_SIZE = 400
HALF_WORDS = 110


def wordnet(path="/usr/share/wordnet/data.noun"):
    pairs = []
    with open(path, encoding="latin-1") as f:
        for line in f:
            if line.startswith("  ") or " | " not in line:
                continue  # the licence header
            gloss = line.split(" | ", 1)[1].strip()
            examples = re.findall(r'"([^"]+)"', gloss)
            definition = gloss.split('; "', 1)[0].strip()
            if examples and len(examples[0].split()) >= 4 and len(definition.split()) >= 4:
                pairs.append((examples[0], definition))
    random.Random(SEED).shuffle(pairs)
    pairs = pairs[:WORDNET_SIZE]
    return {"name": "wordnet-gloss", "source": "WordNet 3.0 noun glosses (Debian wordnet-base): example -> definition",
            "queries": [q for q, _ in pairs], "documents": [d for _, d in pairs]}


def kjv():
    text = subprocess.run(["bible", "-f", "Ge1:1-Re22:21"], check=True, capture_output=True, text=True).stdout
    verses = [line.split(" ", 1)[1].strip() for line in text.splitlines() if " " in line]
    passages, i = [], 0
    while i < len(verses):
        halves = []
        for _ in range(2):
            words = []
            while i < len(verses) and len(words) < HALF_WORDS:
                words += verses[i].split()
                i += 1
            halves.append(" ".join(words))
        if len(halves[1].split()) >= HALF_WORDS:
            passages.append(halves)
    random.Random(SEED).shuffle(passages)
    passages = passages[:KJV_SIZE]
    return {"name": "kjv-halves", "source": "King James Bible (Debian bible-kjv-text): first half of a passage -> second half",
            "queries": [a for a, _ in passages], "documents": [b for _, b in passages]}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "artifacts/encoder-eval"
    os.makedirs(out, exist_ok=True)
    for data in (wordnet(), kjv()):
        path = os.path.join(out, data["name"] + ".json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=0)
        print(f"{path}: {len(data['queries'])} pairs")


if __name__ == "__main__":
    main()
