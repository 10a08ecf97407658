#!/usr/bin/env bash
# Builds pocl 6.0 (a CPU OpenCL 3.0 runtime with the generic address space ILGPU's OpenCL backend requires) from
# Debian 13's source package on Debian 12, into a cache folder outside the repository, and registers it only for the
# processes that name its vendors folder (OCL_ICD_VENDORS or HPCCORE_OPENCL_VENDORS); nothing system-wide changes
# except the build packages. Idempotent: a second run finds the stamp and does nothing. The measured recipe and its
# traps: docs/OPENCL.md. Prints the vendors folder as its last line.
#   HPCCORE_OPENCL_HOME   install prefix (default: ${XDG_CACHE_HOME:-$HOME/.cache}/hpccore/pocl-6.0)
set -euo pipefail

prefix="${HPCCORE_OPENCL_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/hpccore/pocl-6.0}"
vendors="$prefix/etc/OpenCL/vendors"
stamp="$prefix/.hpccore-setup-ok"
if [ -f "$stamp" ] && [ -f "$vendors/pocl.icd" ]; then
  echo "setup-opencl: pocl 6.0 already set up in $prefix"
  echo "$vendors"
  exit 0
fi

fail() { echo "setup-opencl: $*" >&2; exit 1; }

# The loader must see a device with the generic address space (clinfo's output is captured first: under pipefail,
# `clinfo | grep -q` fails when grep stops reading early).
check_and_stamp() {
  local info
  info=$(OCL_ICD_VENDORS="$vendors" clinfo 2>/dev/null || true)
  grep -q "Generic address space support *Yes" <<<"$info" \
    || fail "pocl is installed in $prefix, but clinfo reports no device with the generic address space"
  touch "$stamp"
}

# Built by an earlier run that stopped before its check: check only.
if [ -f "$vendors/pocl.icd" ] && command -v clinfo >/dev/null; then
  check_and_stamp
  echo "setup-opencl: pocl 6.0 found in $prefix"
  echo "$vendors"
  exit 0
fi
[ -r /etc/debian_version ] || fail "needs Debian (apt-get and Debian 13's pocl source package); see docs/OPENCL.md to build pocl 6 by hand"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || fail "needs root or sudo to install the build packages"
  sudo="sudo"
fi
command -v apt-get >/dev/null || fail "apt-get not found"

start=$SECONDS
work="$(dirname "$prefix")/pocl-build"
src_list=/etc/apt/sources.list.d/hpccore-pocl-src.sources
cleanup() {
  if [ -f "$src_list" ]; then $sudo rm -f "$src_list"; $sudo apt-get update -qq >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap "exit 1" INT TERM

# 1. Debian 13's sources (trixie), from the mirror the machine already uses.
mirror=$(grep -hoE '^URIs: *\S+/debian/?$' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1 | awk '{print $2}')
[ -n "$mirror" ] || mirror=$(grep -hoE '^deb +\S+/debian/? ' /etc/apt/sources.list 2>/dev/null | head -1 | awk '{print $2}')
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
printf 'Types: deb-src\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$mirror" \
  | $sudo tee "$src_list" >/dev/null
$sudo apt-get update -qq || fail "apt-get update failed (no network to $mirror?)"

# 2. Build tools, LLVM 16 (pocl 6.0 supports it) and the ICD loader (the runtime library libOpenCL.so.1).
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq clang-16 libclang-16-dev libclang-cpp16-dev llvm-16-dev \
  cmake make libhwloc-dev ocl-icd-dev ocl-icd-opencl-dev ocl-icd-libopencl1 pkg-config clinfo dpkg-dev >/dev/null \
  || fail "apt-get install of the build packages failed"

# 3. The pocl 6.0 source.
rm -rf "$work" && mkdir -p "$work"
(cd "$work" && apt-get source --download-only pocl=6.0-6 >/dev/null 2>&1) || fail "apt-get source pocl=6.0-6 failed"
tar -xzf "$work/pocl_6.0.orig.tar.gz" -C "$work"
# Stock 6.0 switches LLVM's loop and SLP vectorizers off by mistake; Debian's patch re-enables them (a small gain).
patch_file=$(tar -tJf "$work"/pocl_6.0-6.debian.tar.xz 2>/dev/null | grep 'Re-enable-LLVM-vectorizers' | head -1 || true)
if [ -n "$patch_file" ]; then
  tar -xJf "$work"/pocl_6.0-6.debian.tar.xz -C "$work" "$patch_file"
  patch -d "$work/pocl-6.0" -p1 -s < "$work/$patch_file" || echo "setup-opencl: vectorizer patch did not apply; continuing without it"
fi

# 4. Configure: LLVM 16 does not recognise the AMD EPYC seen here, so the kernel CPU is fixed at x86-64-v3 (runs on
# Zen 4 and Intel AVX-512 alike; x86-64-v4 measured no faster).
cmake -S "$work/pocl-6.0" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DWITH_LLVM_CONFIG=/usr/bin/llvm-config-16 \
  -DLLC_HOST_CPU=x86-64-v3 -DENABLE_ICD=ON -DCMAKE_INSTALL_PREFIX="$prefix" -DENABLE_TESTS=OFF -DENABLE_EXAMPLES=OFF \
  -DENABLE_POCLCC=OFF >"$work/cmake.log" 2>&1 || { tail -20 "$work/cmake.log" >&2; fail "pocl cmake configure failed"; }
echo "setup-opencl: building pocl 6.0 (several minutes on 2 cores)"
make -C "$work/build" -j"$(nproc)" >"$work/make.log" 2>&1 || { tail -30 "$work/make.log" >&2; fail "pocl build failed"; }
make -C "$work/build" install >/dev/null 2>&1 || fail "pocl install failed"
[ -f "$vendors/pocl.icd" ] || fail "pocl installed no $vendors/pocl.icd"

check_and_stamp
echo "setup-opencl: pocl 6.0 installed in $prefix in $((SECONDS - start)) s"
echo "$vendors"
