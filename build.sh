#!/usr/bin/env bash
# HpcCore build script. Verbs (same as build.ps1):
#   build                 restore and build everything (Release, warnings as errors)
#   test                  build, run every test project (and the Simd=Vector256 subset again with
#                         DOTNET_EnableAVX512=0), print "N passed, N failed[, N skipped]"
#   bench [args...]       benchmarks: `bench quick [gemm|...]` prints JSON lines against ONNX Runtime;
#                         `bench --ci` runs every BenchmarkDotNet suite once; other args go to BenchmarkDotNet
#   demo [args...]       evaluate the committed Fashion-MNIST ViT (assets/vit) on the committed 1,000 test images
#                         with every token-reduction method: table, artifacts/demo/pareto.png and merges.png
#   native                build the NativeAOT C ABI (issue #7; not built yet)
#   gpu-publish           self-contained single-file linux-x64 apps for a GPU machine: `hpccore` into .gpu/cli and
#                         the GPU attention benchmark into .gpu/bench (~38 MiB each: carry one per run)
# Only the .NET SDK is needed; everything else is restored from NuGet.
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
CONFIG=Release

build() {
  dotnet build HpcCore.sln -c "$CONFIG" -nologo -clp:ErrorsOnly
}

run_tests() {
  build
  local results=artifacts/test-results
  rm -rf "$results"
  local status=0
  for proj in tests/*/*.csproj; do
    grep -q '<IsTestProject>true</IsTestProject>' "$proj" || continue
    local name
    name=$(basename "$proj" .csproj)
    echo "== $name"
    dotnet test "$proj" -c "$CONFIG" --no-build --nologo \
      --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=minimal" \
      --results-directory "$results" || status=1
  done
  # The Vector256 fallbacks, on this AVX-512 machine: a selected subset (trait Simd=Vector256) runs again with
  # Vector512 disabled in the runtime.
  echo "== HpcCore.Tests (Simd=Vector256, DOTNET_EnableAVX512=0)"
  DOTNET_EnableAVX512=0 dotnet test tests/HpcCore.Tests/HpcCore.Tests.csproj -c "$CONFIG" --no-build --nologo \
    --filter "Simd=Vector256" \
    --logger "trx;LogFileName=HpcCore.Tests.Vector256.trx" --logger "console;verbosity=minimal" \
    --results-directory "$results" || status=1
  local passed=0 failed=0 skipped=0 p f t e
  for trx in "$results"/*.trx; do
    [ -f "$trx" ] || continue
    local counters
    counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
    p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
    f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
    t=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters")
    e=$(sed -n 's/.* executed="\([0-9]*\)".*/\1/p' <<<"$counters")
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${t:-0} - ${e:-0}))
  done
  if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then status=1; fi
  if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
  else
    echo "$passed passed, $failed failed"
  fi
  [ "$failed" -eq 0 ] || status=1
  return $status
}

bench() {
  dotnet run -c "$CONFIG" --project benchmarks/HpcCore.Benchmarks -- "$@"
}

# The methods `./build.sh demo` compares (see docs/VIT.md for the syntax).
DEMO_METHODS="baseline,tome:r=8,tome:r=16,tome:r=32,tome:r=48,evit:keep=0.7,evit:keep=0.5,vtc:keep=0.5,ztp:keep=0.5"

demo() {
  mkdir -p artifacts/demo
  dotnet run -c "$CONFIG" --project src/HpcCore.Cli -- vit eval --model assets/vit/vit-fmnist.safetensors \
    --data assets/data/fashion-mnist --methods "$DEMO_METHODS" --plot artifacts/demo/pareto.png \
    --visualize artifacts/demo/merges.png "$@"
}

native() {
  echo "native: the NativeAOT C ABI is not built yet (tracked by issue #7)." >&2
  return 2
}

gpu_publish() {
  # Never trim an ILGPU app (trimming crashes ILGPU or drops CudaAsm branches); InvariantGlobalization
  # because the GPU machines have no libicu. See gpu/README.md.
  local common=(-c "$CONFIG" -r linux-x64 --self-contained -p:PublishSingleFile=true
    -p:EnableCompressionInSingleFile=true -p:InvariantGlobalization=true -p:PublishTrimmed=false)
  # Self-contained, not framework-dependent: the GPU machines have no .NET. The ORT benchmarks app is not published
  # (ONNX Runtime's native libraries make it ~98 MB, over the 64 MiB that can travel); HpcCore.GpuBenchmarks is the
  # GPU one (HpcCore + ILGPU only).
  dotnet publish src/HpcCore.Cli/HpcCore.Cli.csproj "${common[@]}" -o .gpu/cli
  dotnet publish benchmarks/HpcCore.GpuBenchmarks/HpcCore.GpuBenchmarks.csproj "${common[@]}" -o .gpu/bench
  du -sh .gpu/cli .gpu/bench
}

verb="${1:-test}"
[ $# -gt 0 ] && shift
case "$verb" in
  build) build ;;
  test) run_tests ;;
  bench) build && bench "$@" ;;
  demo) demo "$@" ;;
  native) native ;;
  gpu-publish) gpu_publish ;;
  *) echo "usage: ./build.sh [build|test|bench|demo|native|gpu-publish]" >&2; exit 2 ;;
esac
