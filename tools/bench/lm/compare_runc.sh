#!/usr/bin/env bash
# Greedy decode tok/s of llama2.c's own run.c against HpcCore (`hpccore lm generate --json`) on stories260K and the
# committed Austen model, at 1 and 2 threads, alternated ROUNDS times so both see the same machine load. run.c is
# built at run time from a llama2.c checkout (never committed here) as its Makefile's `runomp` target does:
# gcc -Ofast -fopenmp -march=native; OMP_NUM_THREADS sets its threads. run.c times every position after the first
# (prompt tokens are forwarded one at a time, as in decode); HpcCore's figure is its decode steps only.
# Set DOTNET_TieredCompilation=0 to measure fully optimised .NET code from the first token (a short run is mostly tier-0 code).
# Usage: LLAMA2C=/path/to/llama2.c tools/bench/lm/compare_runc.sh [rounds] [steps]
#        (stories260K from $HPCCORE_STORIES260K or ../shared/models/stories260K)
set -euo pipefail
cd "$(dirname "$0")/../../.."
rounds=${1:-5}
steps=${2:-256}
: "${LLAMA2C:?set LLAMA2C to a checkout of karpathy/llama2.c}"
stories=${HPCCORE_STORIES260K:-../shared/models/stories260K}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gcc -Ofast -fopenmp -march=native "$LLAMA2C/run.c" -lm -o "$work/run"
dotnet build src/HpcCore.Cli -c Release -nologo -clp:ErrorsOnly >/dev/null
cli=src/HpcCore.Cli/bin/Release/net10.0/HpcCore.Cli
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
minmax() { sort -g | awk 'NR==1{lo=$1} {hi=$1} END {printf "[%.0f,%.0f]", lo, hi}'; }
run_pair() { # name model tokenizer prompt
  local name=$1 model=$2 tok=$3 prompt=$4
  for threads in 1 2; do
    : >"$work/c" ; : >"$work/ours"
    for _ in $(seq "$rounds"); do
      OMP_NUM_THREADS=$threads "$work/run" "$model" -z "$tok" -t 0 -n "$steps" -i "$prompt" 2>&1 >/dev/null \
        | sed -n 's/achieved tok\/s: //p' >>"$work/c"
      HPCCORE_DEVICE=cpu "$cli" lm generate --model "$model" --tokenizer "$tok" --prompt "$prompt" --steps "$steps" \
        --threads "$threads" --json 2>/dev/null | sed -n 's/.*"DecodeTokensPerSecond": *\([0-9.]*\).*/\1/p' >>"$work/ours"
    done
    local c o
    c=$(median <"$work/c"); o=$(median <"$work/ours")
    echo "{\"op\":\"decode-runc\",\"model\":\"$name\",\"threads\":$threads,\"steps\":$steps,\"ours_tok_s\":$(printf %.0f "$o"),\"ours_min_max\":$(minmax <"$work/ours"),\"peer\":\"llama2.c-run.c\",\"peer_tok_s\":$(printf %.0f "$c"),\"peer_min_max\":$(minmax <"$work/c"),\"ratio\":$(awk -v a="$o" -v b="$c" 'BEGIN{printf "%.2f", a/b}'),\"rounds\":$rounds}"
  done
}
run_pair stories260K "$stories/stories260K.bin" "$stories/tok512.bin" "Once upon a time"
run_pair austen tools/train/lm/austen.bin tools/train/lm/bytes259.bin "It is a truth universally acknowledged"
