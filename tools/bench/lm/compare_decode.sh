#!/usr/bin/env bash
# stories260K greedy decode, HpcCore (`quick decode-lm`, one thread) against plainc.c (a plain single-threaded C
# forward pass, gcc -O3 -march=native), alternated ROUNDS times so that both see the same machine load.
# Usage: tools/bench/lm/compare_decode.sh [rounds]   (stories260K from ../shared/models/stories260K)
# llama2.c's own run.c is the peer of tools/bench/lm/compare_runc.sh (1 and 2 threads, stories260K and the Austen model).
set -euo pipefail
cd "$(dirname "$0")/../../.."
rounds=${1:-3}
model=${HPCCORE_STORIES260K:-../shared/models/stories260K}
gcc -O3 -march=native -o /tmp/hpccore-plainc tools/bench/lm/plainc.c -lm
dotnet build benchmarks/HpcCore.Benchmarks -c Release -nologo -clp:ErrorsOnly >/dev/null
# Prompt "Once upon a time" as tok512.bin encodes it (BOS first), as HpcCore's test of run.c's text uses it.
ids="1 403 407 261 378"
for r in $(seq "$rounds"); do
  REPS=20 /tmp/hpccore-plainc "$model/stories260K.bin" 256 $ids | tail -1
  dotnet benchmarks/HpcCore.Benchmarks/bin/Release/net10.0/HpcCore.Benchmarks.dll quick decode-lm | grep '"model":"stories260K"'
done
