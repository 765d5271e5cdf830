#!/usr/bin/env bash
# Side-by-side CPU training benchmark: Cortado vs PyTorch, same nets, same
# batch sizes, same thread count. See bench/README.md.
#
# Usage: bench/compare.sh [--rounds N] [--threads T] [--nets a,b,...] [--pytorch-only]
#        nets: lenet, cifar10_quick, resnet18, mobilenet_v1 (default: all)
# Env:   ITERS_LENET (default 1000), ITERS_CIFAR (default 250),
#        ITERS_RESNET (default 10), ITERS_MOBILENET (default 10),
#        PYTHON (default /usr/bin/python3, must have torch)
#
# Each round runs every net on both sides, one process at a time (never in
# parallel: the two would compete for the same cores). The side that goes
# first alternates between rounds so neither always gets the "fresh" machine.
# Every run is wrapped in `/usr/bin/time -v` for its peak resident memory.
# Raw outputs go to bench/out/<timestamp>/.
set -euo pipefail

ROUNDS=3
THREADS=2
PYTORCH_ONLY=0
ONLY=""
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) ROUNDS="$2"; shift 2 ;;
        --threads) THREADS="$2"; shift 2 ;;
        --pytorch-only) PYTORCH_ONLY=1; shift ;;
        --nets) ONLY=",$2,"; shift 2 ;;
        -h|--help) sed -n '2,/^set /{/^#/p}' "$0"; exit 0 ;;
        *) echo "error: unknown argument: $1" >&2; exit 2 ;;
    esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PY=${PYTHON:-/usr/bin/python3}
TIME=/usr/bin/time
ITERS_LENET=${ITERS_LENET:-1000}
ITERS_CIFAR=${ITERS_CIFAR:-250}
ITERS_RESNET=${ITERS_RESNET:-10}
ITERS_MOBILENET=${ITERS_MOBILENET:-10}

# net name | Cortado config | batch | iterations | untimed warm-up iterations (both sides)
ALL_NETS=(
    "lenet conf/lenet-fashion-mnist.json 64 $ITERS_LENET 20"
    "cifar10_quick conf/cifar10-quick.json 100 $ITERS_CIFAR 20"
    "resnet18 conf/resnet18.json 16 $ITERS_RESNET 2"
    "mobilenet_v1 conf/mobilenet-v1.json 16 $ITERS_MOBILENET 2"
)
NETS=()
for n in "${ALL_NETS[@]}"; do
    name=${n%% *}
    if [ -z "$ONLY" ] || [[ "$ONLY" == *",$name,"* ]]; then
        NETS+=("$n")
    fi
done

die() { echo "error: $*" >&2; exit 1; }

# --- preflight: fail early with a clear message, not halfway through ---
[ -x "$TIME" ] || die "$TIME not found (GNU time; on Debian: apt-get install time)"
"$PY" -c 'import torch' 2>/dev/null || die "$PY cannot import torch (set PYTHON=...)"
if [ "$PYTORCH_ONLY" = 0 ]; then
    [ -x ./cortado ] || die "./cortado not found or not executable in $ROOT;" \
        "build the Java side first, or run with --pytorch-only"
    for n in "${NETS[@]}"; do
        set -- $n
        [ -f "$2" ] || die "Cortado config $2 not found"
    done
    # The launcher rebuilds with Maven when sources are newer than the jar. Do
    # that now: inside a timed run, the build's JVM would be measured as
    # Cortado's peak RSS.
    ./cortado --help >/dev/null || die "./cortado --help failed"
fi

OUT="bench/out/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
RESULTS="$OUT/results.tsv"   # net side round images_per_sec peak_rss_kib other_cpu

# CPU time of the whole machine so far not available to idle, in clock ticks
# (user + nice + system + irq + softirq + steal from /proc/stat; steal is time
# the hypervisor gave to other VMs). Compared with the benchmark's own CPU
# time, it tells whether something else ran during a measurement.
cpu_busy() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
HZ=$(getconf CLK_TCK)

# run_side NET SIDE ROUND BATCH CMD...: runs one benchmark process, appends a
# line to $RESULTS.
run_side() {
    local net=$1 side=$2 round=$3 batch=$4; shift 4
    local log="$OUT/$net.$side.$round" b0 b1 res
    echo "  $side $net (round $round): $*" >&2
    b0=$(cpu_busy)
    if ! "$TIME" -v -o "$log.time" "$@" >"$log.out" 2>"$log.err"; then
        tail -n 5 "$log.err" >&2
        die "$side $net failed; see $log.out, $log.err"
    fi
    b1=$(cpu_busy)
    if grep -q "cortado: building" "$log.err"; then
        echo "warning: ./cortado rebuilt itself during $log (sources changed" \
            "mid-benchmark); its peak RSS is the build's, rerun" >&2
    fi
    # Prints "images_per_sec peak_rss_kib other_cpu_cores".
    res=$("$PY" - "$log" "$batch" "$THREADS" "$b0" "$b1" "$HZ" <<'EOF'
import json, sys
log, batch, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
busy_s = (int(sys.argv[5]) - int(sys.argv[4])) / int(sys.argv[6])
# The result is the last non-empty stdout line, a JSON object.
lines = [l for l in open(log + ".out") if l.strip()]
try:
    r = json.loads(lines[-1])
except (IndexError, ValueError):
    sys.exit(f"last line of {log}.out is not a JSON object")
# Guard against comparing runs made with different settings.
if r.get("batch") != batch or r.get("threads") != threads:
    sys.exit(f"{log}.out: ran batch={r.get('batch')} threads={r.get('threads')}, "
             f"expected batch={batch} threads={threads}")
# `time -v` lines look like "\tElapsed (wall clock) time (h:mm:ss or m:ss): 0:27.41".
fields = dict(l.strip().rpartition(": ")[::2] for l in open(log + ".time") if ": " in l)
def field(prefix):
    return next(v for k, v in fields.items() if k.startswith(prefix))
rss_kib = int(field("Maximum resident set size"))
wall = sum(float(x) * 60 ** i for i, x in enumerate(reversed(field("Elapsed").split(":"))))
own_cpu = float(field("User time")) + float(field("System time"))
# CPU used by everything else, averaged over the run, in cores.
other = max(0.0, busy_s - own_cpu) / max(wall, 1.0)  # sub-second runs: too short to judge
if other > 0.05:
    print(f"warning: other processes (or hypervisor steal) took {other:.2f} cores "
          f"during {log}; its numbers are unreliable", file=sys.stderr)
print(r["images_per_sec"], rss_kib, round(other, 3))
EOF
) || die "could not read the result of $side $net"
    printf '%s\t%s\t%s\t%s\n' "$net" "$side" "$round" "${res// /$'\t'}" >>"$RESULTS"
}

for round in $(seq 1 "$ROUNDS"); do
    echo "round $round/$ROUNDS" >&2
    for n in "${NETS[@]}"; do
        set -- $n
        net=$1 conf=$2 batch=$3 iters=$4 warmup=$5
        sides=(cortado pytorch)
        # Alternate who goes first: odd rounds Cortado, even rounds PyTorch.
        [ $((round % 2)) = 0 ] && sides=(pytorch cortado)
        for side in "${sides[@]}"; do
            case "$side" in
                cortado)
                    [ "$PYTORCH_ONLY" = 1 ] && continue
                    run_side "$net" cortado "$round" "$batch" \
                        ./cortado bench "$conf" --batch "$batch" --threads "$THREADS" \
                        --iters "$iters" --warmup "$warmup" --json ;;
                pytorch)
                    run_side "$net" pytorch "$round" "$batch" \
                        "$PY" bench/pytorch_train.py --net "$net" --batch "$batch" \
                        --threads "$THREADS" --iters "$iters" --warmup "$warmup" ;;
            esac
        done
    done
done

# --- summary: median throughput over rounds, largest peak RSS over rounds ---
"$PY" - "$RESULTS" "$THREADS" <<'EOF'
import statistics, sys
from collections import defaultdict
ips, rss = defaultdict(list), defaultdict(list)
busy_runs = 0
for line in open(sys.argv[1]):
    net, side, _round, v, kib, other = line.split("\t")
    busy_runs += float(other) > 0.05
    ips[net, side].append(float(v))
    rss[net, side].append(int(kib) / 1024)
nets = list(dict.fromkeys(net for net, _ in ips))

def med(net, side):
    return statistics.median(ips[net, side]) if ips[net, side] else None

def fmt(v, width, prec):
    return ("-" if v is None else f"{v:.{prec}f}").rjust(width)

print(f"\nthreads={sys.argv[2]}; images/s = median over rounds; "
      "RSS = max 'Maximum resident set size' over rounds (MiB)")
hdr = f"{'net':<14} {'cortado img/s':>13} {'pytorch img/s':>13} {'ratio c/p':>9} " \
      f"{'cortado RSS':>11} {'pytorch RSS':>11}"
print(hdr)
print("-" * len(hdr))
for net in nets:
    c, p = med(net, "cortado"), med(net, "pytorch")
    ratio = c / p if c is not None and p else None
    c_rss = max(rss[net, "cortado"], default=None)
    p_rss = max(rss[net, "pytorch"], default=None)
    print(f"{net:<14} {fmt(c, 13, 1)} {fmt(p, 13, 1)} {fmt(ratio, 9, 2)} "
          f"{fmt(c_rss, 11, 0)} {fmt(p_rss, 11, 0)}")
if busy_runs:
    print(f"WARNING: {busy_runs} run(s) shared the CPUs with other processes "
          "(last column of results.tsv); rerun on a quiet machine")
EOF
echo "raw outputs: $OUT" >&2
