#!/usr/bin/env bash
# Pipeline overhead: the same config trained through the verticle pipeline (`cortado train`) and
# in-process by the engine on the same data (`cortado bench --data`: each batch read and augmented on
# the training thread), side by side, alternating.
# Reports per round the mean and the median step time of each (after WARMUP steps; the median is
# robust to a noisy machine's stalls), their ratios, and the share of pipeline time the stages waited
# for data.
#   bench/pipeline-overhead.sh [CONFIG] [--iters N] [--warmup W] [--rounds R]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
config=$root/conf/lenet-fashion-mnist.json
iters=1000 warmup=100 rounds=2
while [ $# -gt 0 ]; do
  case $1 in
    --iters) iters=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    *) config=$1; shift ;;
  esac
done
runs=$(mktemp -d)
trap 'rm -rf "$runs"' EXIT
for r in $(seq 1 "$rounds"); do
  bench=$("$root/cortado" bench "$config" --data --iters "$iters" --warmup "$warmup" --json 2>/dev/null | tail -n 1)
  "$root/cortado" train "$config" --runs "$runs/$r" --set solver.max_iter=$((iters + warmup)) \
      --set solver.test_interval=0 --set solver.snapshot=0 >/dev/null 2>&1
  metrics=$(ls "$runs/$r"/*/metrics.jsonl)
  /usr/bin/python3 - "$bench" "$metrics" "$warmup" "$r" <<'PY'
import json, statistics, sys
bench = json.loads(sys.argv[1]); warm = int(sys.argv[3])
steps = [json.loads(l) for l in open(sys.argv[2]) if '"loss"' in l]
steps = [s for s in steps if s["step"] > warm and "test_loss" not in s]
pipe = statistics.mean(s["step_ms"] for s in steps)
pipe_median = statistics.median(s["step_ms"] for s in steps)
wait = sum(s["data_wait_ms"] for s in steps) / sum(s["step_ms"] for s in steps)
eng, eng_median = bench["ms_per_iter"], bench["median_ms_per_iter"]
print(f"round {sys.argv[4]}: mean ms/step pipeline {pipe:.2f} engine {eng:.2f} ({100 * (pipe / eng - 1):+.1f}%), "
      f"median pipeline {pipe_median:.2f} engine {eng_median:.2f} ({100 * (pipe_median / eng_median - 1):+.1f}%); "
      f"data wait {100 * wait:.2f}% of pipeline time")
PY
done
