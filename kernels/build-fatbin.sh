#!/usr/bin/env bash
# Builds one fatbin per CUDA source family (src/main/cuda/*.cu) into OUT_DIR, with a manifest of the
# sources' SHA-256 and the nvcc command, for cuModuleLoadData. Each fatbin holds SASS for sm_80 (A100)
# and sm_90 (H100/H200) plus compute_90 PTX, which newer GPUs JIT-compile.
#   build-fatbin.sh OUT_DIR    nvcc on PATH (or in /usr/local/cuda/bin): build; else copy the committed fatbin/
#   build-fatbin.sh --commit   rebuild the committed fatbin/ (run after editing a .cu; FatbinTest checks it)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$here/src/main/cuda
flags=(-fatbin -O3 -std=c++17 -Xfatbin -compress-all
       -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90
       -gencode arch=compute_90,code=compute_90)
nvcc=$(command -v nvcc || true)
[ -z "$nvcc" ] && [ -x /usr/local/cuda/bin/nvcc ] && nvcc=/usr/local/cuda/bin/nvcc

manifest() {  # the sources' hashes, relative names, sorted: what FatbinTest recomputes
  (cd "$src" && sha256sum $(ls *.cu *.cuh | sort))
}

build() {
  local out=$1
  mkdir -p "$out"
  if [ -f "$out/manifest.txt" ] && [ "$(grep -v '^#' "$out/manifest.txt")" = "$(manifest)" ]; then
    return 0  # built from these very sources already
  fi
  for f in "$src"/*.cu; do
    "$nvcc" "${flags[@]}" -o "$out/$(basename "${f%.cu}").fatbin" "$f" || return 1
  done
  { manifest; echo "# nvcc ${flags[*]}"; "$nvcc" --version | tail -1 | sed 's/^/# /'; } >"$out/manifest.txt"
}

if [ "${1:-}" = "--commit" ]; then
  [ -n "$nvcc" ] || { echo "build-fatbin: nvcc not found; cannot rebuild fatbin/" >&2; exit 1; }
  rm -f "$here"/fatbin/*.fatbin
  build "$here/fatbin"
  echo "build-fatbin: rebuilt $(ls "$here"/fatbin/*.fatbin | wc -l) fatbins in fatbin/"
  exit 0
fi
out=${1:?usage: build-fatbin.sh OUT_DIR | --commit}
committed() {
  mkdir -p "$out"
  cp "$here"/fatbin/*.fatbin "$here"/fatbin/manifest.txt "$out"/
}
if [ -z "$nvcc" ]; then
  committed
  echo "build-fatbin: nvcc not found; using the committed fatbins (kernels/fatbin, built from the sources in its manifest)"
elif ! build "$out"; then
  rm -f "$out"/*.fatbin "$out"/manifest.txt
  committed
  echo "build-fatbin: $nvcc could not build the kernels (above); using the committed fatbins (kernels/fatbin)" >&2
fi
