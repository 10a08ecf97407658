#!/usr/bin/env bash
# Quality vs KV budget of every policy on the committed evaluation model (held-out Persuasion excerpt): one table
# row per (policy, budget), pass-key accuracy per (length, depth) cell, and eval-quality.png (quality vs budget).
# Usage: tools/train/lm/eval.sh [policy]   (default: all). Writes nothing but the PNG; redirect stdout to keep the table.
set -euo pipefail
cd "$(dirname "$0")/../../.."
dir=tools/train/lm
dotnet build src/HpcCore.Cli -c Release -nologo -clp:ErrorsOnly >/dev/null
dotnet src/HpcCore.Cli/bin/Release/net10.0/HpcCore.Cli.dll lm eval --model $dir/austen.bin --tokenizer $dir/bytes259.bin \
  --text $dir/persuasion-heldout.txt --kv-policy "${1:-all}" --windows 4 --passkey-trials 4 --passkey-detail \
  --threads 2 --plot $dir/eval-quality.png
