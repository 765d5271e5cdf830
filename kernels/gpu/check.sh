#!/usr/bin/env bash
# The GPU checks, in one go, on a machine with an NVIDIA GPU, CUDA's nvcc and PyTorch but no Java:
#   1. every kernel against its CPU op (CudaOpsTest and the other kernels tests; a missing GPU fails);
#   2. the pipeline on "device": "cuda" against the CPU (GpuPipelineTest);
#   3. GEMM throughput against torch.mm, float32 and TF32, side by side;
#   4. training throughput against PyTorch eager, side by side.
# Usage, with kernels/target/gpu-bundle.tar.xz from kernels/gpu/bundle.sh carried along:
#   kernels/gpu/check.sh [RESULTS_DIR]
# With --emulated first (on a build machine, before spending GPU time): steps 1 and 2 from the bundle on
# the kernels' CPU emulation (g++ needed), which proves the bundle runs them; no benchmarks.
# With --profile first (on the GPU machine): only the GPU time of one training step of LeNet and of
# cifar10_quick, kernel by kernel, under Nsight Compute (ncu), beside TrainBench's wall clock; no tests.
set -uo pipefail
emulated=0
profile=0
if [ "${1:-}" = "--emulated" ]; then
  emulated=1
  shift
elif [ "${1:-}" = "--profile" ]; then
  profile=1
  shift
fi
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bundle=$root/kernels/target/gpu-bundle
if [ ! -d "$bundle" ]; then
  [ -f "$bundle.tar.xz" ] || { echo "check.sh: no $bundle(.tar.xz); build it with kernels/gpu/bundle.sh" >&2; exit 2; }
  tar -C "$root/kernels/target" -xJf "$bundle.tar.xz"
fi
results=${1:-$root/kernels/target/gpu-results}
mkdir -p "$results"
java=$bundle/java/bin/java
cp="$(printf '%s:' "$bundle"/lib/*.jar)$bundle/test-classes"  # the console launcher expands no wildcards
jvm=(--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Xss4m -Xmx8g)
status=0

if [ $emulated = 1 ]; then
  require=0
  echo "on the CPU emulation of the kernels (--emulated)" | tee "$results/gpu.txt"
else
  require=1
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$results/gpu.txt"
fi
if [ $profile = 1 ]; then
  for run in "lenet-fashion-mnist 64" "cifar10-quick 100"; do
    read -r net batch <<<"$run"
    echo "== one step of $net at batch $batch, GPU time per kernel (ncu)"
    "$java" "${jvm[@]}" -cp "$cp" org.cortado.kernels.TrainBench "$root/conf/$net.json" "$batch" \
      | tee "$results/train-$net.json" || status=1
    launches=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["launches_per_step"])' \
      "$results/train-$net.json") || { status=1; continue; }
    ncu --csv --print-units base --clock-control none --metrics gpu__time_duration.sum \
      --log-file "$results/ncu-$net.csv" "$java" "${jvm[@]}" -cp "$cp" org.cortado.kernels.TrainBench \
      "$root/conf/$net.json" "$batch" 1 1 >/dev/null 2>&1 || status=1
    python3 "$root/kernels/gpu/ncu_step.py" "$results/ncu-$net.csv" "$launches" | tee "$results/step-$net.txt" \
      || status=1
  done
  exit $status
fi
echo "== kernel tests"
(cd "$root/kernels" && CORTADO_REQUIRE_GPU=$require "$java" "${jvm[@]}" -jar "$bundle/junit-console.jar" execute \
  -cp "$cp" --select-package org.cortado.kernels --details=tree --disable-banner \
  --reports-dir "$results/junit") 2>&1 | tee "$results/tests.txt" | grep -vE '^\s*$' | tail -60
[ "${PIPESTATUS[0]}" = 0 ] || status=1

echo "== the pipeline on the GPU"
(cd "$root/verticles" && CORTADO_REQUIRE_GPU=$require "$java" "${jvm[@]}" -jar "$bundle/junit-console.jar" execute \
  -cp "$cp:$bundle/pipeline-test-classes" --select-class org.cortado.pipeline.GpuPipelineTest --details=tree \
  --disable-banner --reports-dir "$results/junit-pipeline") 2>&1 | tee "$results/pipeline-tests.txt" \
  | grep -vE '^\s*$' | tail -40
[ "${PIPESTATUS[0]}" = 0 ] || status=1
if [ $emulated = 1 ]; then
  # a test that skipped (no g++ for the emulation) proves nothing about the bundle
  for report in tests pipeline-tests; do
    skipped=$(grep -oE '\[ +[0-9]+ tests skipped' "$results/$report.txt" | grep -oE '[0-9]+')
    if [ "${skipped:-none}" != 0 ]; then
      echo "check.sh --emulated: ${skipped:-an unknown number of} tests skipped in $report.txt (is g++ installed?)" >&2
      status=1
    fi
  done
  echo "== no benchmarks on the emulation"
  exit $status
fi

echo "== GEMM against torch.mm"
"$java" "${jvm[@]}" -cp "$cp" org.cortado.kernels.GemmBench 2048 4096 >"$results/gemm-cortado.json" || status=1
python3 "$root/kernels/gpu/torch_gemm.py" 2048 4096 >"$results/gemm-torch.json" || status=1
python3 - "$results/gemm-cortado.json" "$results/gemm-torch.json" <<'PY' | tee "$results/gemm.txt"
import json, sys
ours = {(r["n"], r["precision"]): r for r in map(json.loads, open(sys.argv[1]))}
torch = {(r["n"], r["precision"]): r for r in map(json.loads, open(sys.argv[2]))}
for key in sorted(ours):
    o, t = ours[key], torch.get(key)
    if t:
        print(f"n={key[0]} {key[1]}: Cortado {o['tflops']:.1f} TFLOP/s, torch.mm {t['tflops']:.1f} TFLOP/s, "
              f"ratio {o['tflops'] / t['tflops']:.2f}")
PY

echo "== training throughput against PyTorch eager"
{
  "$java" "${jvm[@]}" -cp "$cp" org.cortado.kernels.TrainBench "$root/conf/lenet-fashion-mnist.json" 64 || status=1
  python3 "$root/kernels/gpu/torch_train.py" lenet 64 || status=1
  "$java" "${jvm[@]}" -cp "$cp" org.cortado.kernels.TrainBench "$root/conf/cifar10-quick.json" 100 || status=1
  python3 "$root/kernels/gpu/torch_train.py" cifar10_quick 100 || status=1
} | tee "$results/train.json"
python3 - "$results/train.json" <<'PY' | tee "$results/train.txt"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
for ours, torch in zip(rows[0::2], rows[1::2]):
    print(f"{torch['net']} batch {torch['batch']}: Cortado {ours['img_per_s']:.0f} img/s, PyTorch eager "
          f"{torch['img_per_s']:.0f} img/s, ratio {ours['img_per_s'] / torch['img_per_s']:.2f}")
PY
exit $status
