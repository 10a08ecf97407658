#!/usr/bin/env bash
# Quality vs KV budget of every policy on the committed evaluation model (held-out Persuasion excerpt).
# Usage: tools/train/lm/eval.sh [policies...]   (default: all). Prints one table per policy.
set -euo pipefail
cd "$(dirname "$0")/../../.."
dir=tools/train/lm
policies=("${@:-full streaming h2o snapkv tokenselect recycled razor ems}")
dotnet build src/HpcCore.Cli -c Release -nologo -clp:ErrorsOnly >/dev/null
for p in ${policies[@]}; do
  dotnet src/HpcCore.Cli/bin/Release/net10.0/HpcCore.Cli.dll lm eval --model $dir/austen.bin --tokenizer $dir/bytes259.bin \
    --text $dir/persuasion-heldout.txt --kv-policy "$p" --windows 4 --plot
done
