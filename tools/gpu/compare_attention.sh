#!/usr/bin/env bash
# Runs the ILGPU attention benchmark and PyTorch's scaled_dot_product_attention on the same shapes and dtypes, then
# prints the joined table (ratio = PyTorch time / our time). Arguments go to both (e.g. --smoke, --dtype f16,
# --only Tq16384, --min-seconds 0.5). Results land in $OUT (the device machine's return folder) or artifacts/gpu.
#   HPCCORE_GPU_BENCH  the benchmark binary (default .gpu/bench/HpcCore.GpuBenchmarks from ./build.sh gpu-publish;
#                      falls back to the Release build via `dotnet` when that is missing and dotnet exists)
#   PYTHON             the interpreter with PyTorch (default python3)
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${OUT:-artifacts/gpu}"
mkdir -p "$out"
bench=("${HPCCORE_GPU_BENCH:-.gpu/bench/HpcCore.GpuBenchmarks}")
if [ ! -x "${bench[0]}" ]; then
  dll=benchmarks/HpcCore.GpuBenchmarks/bin/Release/net10.0/HpcCore.GpuBenchmarks.dll
  if command -v dotnet >/dev/null && [ -f "$dll" ]; then
    bench=(dotnet "$dll")
  else
    echo "compare_attention: no ${bench[0]}; run ./build.sh gpu-publish and carry .gpu/bench" >&2
    exit 2
  fi
fi
py="${PYTHON:-python3}"
status=0
echo "== HpcCore ILGPU" >&2
"${bench[@]}" "$@" | tee "$out/hpccore.jsonl" || status=1
echo "== PyTorch scaled_dot_product_attention" >&2
"$py" tools/gpu/sdpa_bench.py "$@" | tee "$out/torch.jsonl" || status=1
echo >&2
"$py" tools/gpu/compare_table.py "$out/hpccore.jsonl" "$out/torch.jsonl" | tee "$out/table.md" || status=1
exit $status
