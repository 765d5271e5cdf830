#!/usr/bin/env bash
# Epoch time of the README's default run (conf/lenet-fashion-mnist.json through `cortado train`)
# against Debian's PyTorch training the same recipe with its DataLoader (bench/pytorch_epoch.py),
# side by side, alternating which goes first. Each side trains EPOCHS epochs with no test passes in
# between; an epoch's time is the wall time of its steps (Cortado: the steps' step_ms from
# metrics.jsonl, loading included; PyTorch: the DataLoader loop), so process start-up, the final test
# pass and writing weights are left out on both sides. Both report the test accuracy at the end.
#   bench/epoch-vs-pytorch.sh [--epochs E] [--rounds R] [--workers "0 2"] [--threads T]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=${PYTHON:-/usr/bin/python3}
epochs=1 rounds=3 workers="0 2" threads=2
while [ $# -gt 0 ]; do
  case $1 in
    --epochs) epochs=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
config=$root/conf/lenet-fashion-mnist.json
data=${FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
runs=$(mktemp -d)
trap 'rm -rf "$runs"' EXIT
"$root/cortado" --help >/dev/null # build first, never timed
steps=$((938 * epochs))           # 60,000 samples in batches of 64, the last one of 32

cortado() {
  "$root/cortado" train "$config" --runs "$runs/$1" --set solver.max_iter=$steps --set solver.test_interval=0 \
      --set solver.snapshot=0 --set pipeline.threads="$threads" >/dev/null 2>&1
  "$python" - "$(ls "$runs/$1"/*/metrics.jsonl)" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
secs = {}
for l in lines:
    if "step_ms" in l:
        secs[l["epoch"]] = secs.get(l["epoch"], 0) + l["step_ms"] / 1e3
acc = [l["test_accuracy"] for l in lines if "test_accuracy" in l][-1]
print(json.dumps({"framework": "cortado", "epoch_seconds": [round(secs[e], 3) for e in sorted(secs)],
                  "images_per_sec": round(60000 * len(secs) / sum(secs.values()), 1), "test_accuracy": acc}))
PY
}

for r in $(seq 1 "$rounds"); do
  order="cortado pytorch"
  [ $((r % 2)) -eq 0 ] && order="pytorch cortado"
  for side in $order; do
    if [ "$side" = cortado ]; then
      echo "round $r cortado: $(cortado "$r")"
    else
      for w in $workers; do
        echo "round $r pytorch (DataLoader num_workers=$w): $("$python" "$root/bench/pytorch_epoch.py" --epochs "$epochs" \
            --workers "$w" --threads "$threads" --data "$data" | tail -n 1)"
      done
    fi
  done
done
