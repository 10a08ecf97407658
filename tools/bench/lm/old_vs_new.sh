#!/usr/bin/env bash
# Old main against this tree, interleaved in one process (issue #15): stories260K greedy decode tokens/s and paged
# decode attention at 1k/4k context (tools/bench/lm/OldVsNew). The old commit is checked out in a temporary git
# worktree outside the repo, its src/HpcCore.Models built in Release, and the harness loads that build's HpcCore.dll +
# HpcCore.Models.dll into their own AssemblyLoadContext.
# Usage: tools/bench/lm/old_vs_new.sh [rounds] [harness args: --policy NAME --budget N --skip-attention --skip-lm --vit-b --vit-b-tome --prefill --gemm]    (rounds default 7)
# Environment: OLD_COMMIT (default e898321), HPCCORE_STORIES260K (default ../shared/models/stories260K),
#              KEEP_OLD_WORKTREE=1 keeps the old worktree and its build for the next run.
set -euo pipefail
cd "$(dirname "$0")/../../.."
rounds=${1:-7}
old_commit=${OLD_COMMIT:-e898321}
model=${HPCCORE_STORIES260K:-../shared/models/stories260K}
sha=$(git rev-parse --verify "${old_commit}^{commit}")
old_tree="${TMPDIR:-/tmp}/hpccore-old-${sha:0:12}"

cleanup() {
  if [[ "${KEEP_OLD_WORKTREE:-0}" != 1 ]]; then
    git worktree remove --force "$old_tree" 2>/dev/null || rm -rf "$old_tree"
    git worktree prune
  fi
}
trap cleanup EXIT

if [[ ! -d "$old_tree" ]]; then
  git worktree prune
  git worktree add --detach "$old_tree" "$sha" >/dev/null
fi
# CopyLocalLockFileAssemblies: a library's build output does not hold its package dependencies by default; the
# harness resolves the old side's System.Numerics.Tensors, Microsoft.ML.Tokenizers, ... from this folder.
dotnet build "$old_tree/src/HpcCore.Models" -c Release -nologo -clp:ErrorsOnly -p:CopyLocalLockFileAssemblies=true >&2
old_bin="$old_tree/src/HpcCore.Models/bin/Release/net10.0"
dotnet build tools/bench/lm/OldVsNew -c Release -nologo -clp:ErrorsOnly >&2

echo "cpu: $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1); old $old_commit = ${sha:0:12}; new $(git rev-parse --short HEAD)" >&2
# Tiered compilation off: by default each side starts on tier-0 code and is re-jitted at different moments (after
# 30 calls, by a background thread, with OSR for long loops), so an interleaved comparison would partly time which
# side reached tier 1 first. With it off every method is compiled once at full optimisation on first call (the
# harness warms both sides up before timing). Dynamic PGO, which needs tier 0, is off for both sides alike.
DOTNET_TieredCompilation=0 dotnet tools/bench/lm/OldVsNew/bin/Release/net10.0/OldVsNew.dll \
  --old "$old_bin" --model "$model" --rounds "$rounds" "${@:2}"
