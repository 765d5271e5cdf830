#!/usr/bin/env bash
# Side-by-side data read benchmark: Cortado's shard reader vs np.load / h5py on
# the same Fashion-MNIST shard files. See bench/README.md.
#
# Usage: bench/data-compare.sh [--rounds N] [--passes P]
# Env:   PYTHON (default /usr/bin/python3, needs numpy and h5py)
#
# Imports Fashion-MNIST (Debian's dataset-fashion-mnist) into bench/out/data/
# as npy and gzip-chunked h5 shards if not there yet, then each round runs, one
# process at a time, the numpy/h5py reader and Cortado with 1 and 2 threads
# (order alternating between rounds). Every run reports its best of P passes.
set -euo pipefail

ROUNDS=3
PASSES=20
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) ROUNDS="$2"; shift 2 ;;
        --passes) PASSES="$2"; shift 2 ;;
        -h|--help) sed -n '2,/^set /{/^#/p}' "$0"; exit 0 ;;
        *) echo "error: unknown argument: $1" >&2; exit 2 ;;
    esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PY=${PYTHON:-/usr/bin/python3}
DATA=bench/out/data
die() { echo "error: $*" >&2; exit 1; }

"$PY" -c 'import numpy, h5py' 2>/dev/null || die "$PY cannot import numpy and h5py (apt-get install python3-numpy python3-h5py)"
./cortado --help >/dev/null || die "./cortado --help failed"
for f in npy h5; do
    if [ ! -d "$DATA/$f/train" ]; then
        ./cortado data import fashion-mnist --out "$DATA/$f" --format "$f"
    fi
done

RESULTS="$DATA/results.tsv"
printf 'round\tformat\tside\tthreads\tseconds\tcopy_seconds\n' > "$RESULTS"
json() { tail -n 1 | "$PY" -c "import json,sys; j=json.load(sys.stdin); print(j['full_read_seconds'], j.get('full_copy_seconds', j['full_read_seconds']))"; }
for r in $(seq 1 "$ROUNDS"); do
    for f in npy h5; do
        sides="python cortado1 cortado2"
        [ $((r % 2)) = 0 ] && sides="cortado2 cortado1 python"
        for side in $sides; do
            case $side in
                python) s=$("$PY" bench/data_read.py "$DATA/$f/train" --passes "$PASSES" | json); t=1 ;;
                cortado1) s=$(./cortado data bench "$DATA/$f/train" --passes "$PASSES" --threads 1 --json 2>/dev/null | json); t=1 ;;
                cortado2) s=$(./cortado data bench "$DATA/$f/train" --passes "$PASSES" --threads 2 --json 2>/dev/null | json); t=2 ;;
            esac
            printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$f" "${side%[12]}" "$t" $s >> "$RESULTS"
        done
    done
done

"$PY" - "$RESULTS" <<'PYEOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter='\t'))
def med(fmt, side, t, col='seconds'):
    return statistics.median(float(r[col]) for r in rows
                             if r['format'] == fmt and r['side'] == side and r['threads'] == t)
print('%-6s %-10s %9s %11s %11s %9s %9s %13s %13s' % ('format', 'reference', 'ref s', 'cortado 1t', 'cortado 2t',
      'speed 1t', 'speed 2t', 'copy speed 1t', 'copy speed 2t'))
for fmt, ref in (('npy', 'np.load'), ('h5', "h5py [:]")):
    p, c1, c2 = med(fmt, 'python', '1'), med(fmt, 'cortado', '1'), med(fmt, 'cortado', '2')
    k1, k2 = med(fmt, 'cortado', '1', 'copy_seconds'), med(fmt, 'cortado', '2', 'copy_seconds')
    print('%-6s %-10s %9.4f %11.4f %11.4f %8.2fx %8.2fx %12.2fx %12.2fx' % (fmt, ref, p, c1, c2, p / c1, p / c2,
          p / k1, p / k2))
print('(median over rounds of each run\'s best pass; speed = reference time / Cortado time, above 1 = Cortado')
print(' faster; "copy" also copies memory-mapped bytes into heap arrays, as np.load does)')
PYEOF
echo "raw: $RESULTS"
