#!/usr/bin/env bash
# `./build.sh fuzz --coverage [seconds] [target...] [--out DIR]`: coverage-guided fuzzing of the same targets as the
# mutation fuzzer (docs/HARDENING.md). SharpFuzz instruments a copy of the HpcCore assemblies (and StbImageSharp and
# Microsoft.ML.Tokenizers, which parse untrusted bytes for HpcCore) and AFL++ drives each target for [seconds]
# (default 60), starting from the target's seeds. Every target by default
# (`dotnet tools/fuzz/HpcCore.Fuzz/bin/Release/net10.0/HpcCore.Fuzz.dll --targets` lists them).
# An input is a crash when it raises an exception outside the target's documented list or allocates more than the
# per-input limit, and a hang when it runs past 10 s (AFL++ retries inputs over 5 s with that limit). AFL++ keeps
# those that reach new coverage under DIR/<target>/afl/default/{crashes,hangs}; each is replayed through the mutation
# fuzzer's checks for its reason (DIR/<target>/replay). DIR is artifacts/fuzz/coverage unless --out says otherwise.
# Exit code 0 when no target had a crash or hang, 1 otherwise, 2 when a prerequisite is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=60
out=artifacts/fuzz/coverage
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=${2:?--out needs a folder}; shift 2 ;;
    [0-9]*) seconds=$1; shift ;;
    *) targets+=("$1"); shift ;;
  esac
done

# Prerequisites, each missing one named in one line.
[ "$(uname -s)" = Linux ] || { echo "fuzz --coverage: needs Linux (AFL++ and System V shared memory)" >&2; exit 2; }
command -v afl-fuzz >/dev/null || { echo "fuzz --coverage: afl-fuzz not found: install AFL++ (apt-get install afl++)" >&2; exit 2; }
dotnet=$(command -v dotnet) || { echo "fuzz --coverage: dotnet not found: install the .NET SDK (global.json)" >&2; exit 2; }

project=tools/fuzz/HpcCore.Fuzz
bin=$project/bin/Release/net10.0
dotnet build "$project" -c Release -nologo -clp:ErrorsOnly
harness() { "$dotnet" "$bin/HpcCore.Fuzz.dll" "$@"; }
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(harness --targets)

# The instrumented copy: the build output itself stays uninstrumented (the mutation fuzzer and the replays use it).
rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
cp -r "$bin" "$out/bin"
harness --instrument "$out/bin"

# dotnet is not AFL-instrumented (SharpFuzz writes the coverage map); this machine's core_pattern and CPU governor are
# not ours to change; a shared machine's cores are not ours to pin; the .NET start and the target's setup can take a
# while on a loaded machine. The 5 s first limit (-t) is for that start: the fork server starts a fresh child after a
# hang, and AFL++ times the child's first input from the request, start and target setup (~1.3 s here) included.
export AFL_SKIP_BIN_CHECK=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1
export AFL_NO_UI=1 AFL_FORKSRV_INIT_TMOUT=60000 AFL_HANG_TMOUT=10000

trap 'echo "fuzz --coverage: interrupted"; exit 130' INT TERM
status=0
summary="$out/summary.txt"
printf '%-22s %7s %10s %8s %7s %6s %7s %9s %6s %5s\n' target seconds execs execs/s corpus edges map stability crash hang | tee "$summary"
for t in "${targets[@]}"; do
  dir="$out/$t"
  harness --seeds "$t" "$dir/seeds" >/dev/null
  if ! nice afl-fuzz -i "$dir/seeds" -o "$dir/afl" -t 5000 -m none -V "$seconds" -- \
      "$dotnet" "$out/bin/HpcCore.Fuzz.dll" --afl "$t" "$dir/scratch" >"$dir/afl.log" 2>&1; then
    echo "$t: afl-fuzz failed; its log: $dir/afl.log"
    grep -E 'PROGRAM ABORT|\[-\]' "$dir/afl.log" | tail -3 || true
    status=1
    continue
  fi
  rm -rf "$dir/scratch"
  stats="$dir/afl/default/fuzzer_stats"
  field() { sed -n "s/^$1 *: *//p" "$stats"; }
  mapfile -t found < <(find "$dir/afl/default/crashes" "$dir/afl/default/hangs" -type f -name 'id:*' | sort)
  crashes=$(find "$dir/afl/default/crashes" -type f -name 'id:*' | wc -l)
  hangs=$(find "$dir/afl/default/hangs" -type f -name 'id:*' | wc -l)
  printf '%-22s %7s %10s %8.0f %7s %6s %7s %9s %6s %5s\n' "$t" "$(field run_time)" "$(field execs_done)" \
    "$(field execs_per_sec)" "$(field corpus_count)" "$(field edges_found)" "$(field bitmap_cvg)" "$(field stability)" \
    "$crashes" "$hangs" | tee -a "$summary"
  if [ ${#found[@]} -gt 0 ]; then
    status=1
    harness --replay "$t" "$dir/replay" "${found[@]}" | sed 's/^/    /' | tee -a "$summary" || true
  fi
done
echo "fuzz --coverage: $([ $status -eq 0 ] && echo "no crash or hang" || echo FAILED); summary: $summary"
exit $status
