#!/usr/bin/env bash
# Builds the CPU emulation of Cortado's CUDA kernels (cuda_emu.h) into OUT/libcortado_emu.so: every
# src/main/cuda/*.cu, and the emulation's own self-test kernels here, compiled by g++ as C++ with the
# emulation header in front, plus a registry of each file's extern "C" __global__ kernels (listed from
# the preprocessed source, so macro-made ones count too).
# The kernels tests build it on first use (EmulatedDriver) when there is no GPU.
#   build-emu.sh OUT
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cuda="$here/../../main/cuda"
out=${1:?usage: build-emu.sh OUT}
mkdir -p "$out"
cxx=${CXX:-g++}
flags=(-std=c++17 -O2 -fPIC -ffp-contract=off -fno-strict-aliasing -Wno-unknown-pragmas -I "$here" -I "$cuda")
objs=()
for cu in "$cuda"/*.cu "$here"/*.cu; do
  family=$(basename "$cu" .cu)
  unit="$out/$family.emu.cpp"
  names=$("$cxx" "${flags[@]}" -DCORTADO_EMU_LIST -include cuda_emu.h -x c++ -E "$cu" \
    | tr '\n' ' ' | grep -oE 'CORTADO_KERNEL_MARK +void +[A-Za-z_][A-Za-z0-9_]*' | awk '{print $3}')
  {
    echo "#include \"cuda_emu.h\""
    echo "#include \"$(basename "$cu")\""
    echo "namespace {"
    for k in $names; do
      echo "const cortado_emu::Kernel reg_$k(\"$k\", &$k);"
    done
    echo "}"
  } > "$unit"
  "$cxx" "${flags[@]}" -c "$unit" -o "$out/$family.emu.o"
  objs+=("$out/$family.emu.o")
done
"$cxx" "${flags[@]}" -c "$here/emu_runtime.cpp" -o "$out/emu_runtime.o"
"$cxx" -shared -o "$out/libcortado_emu.so.tmp" "$out/emu_runtime.o" "${objs[@]}"
mv "$out/libcortado_emu.so.tmp" "$out/libcortado_emu.so"
