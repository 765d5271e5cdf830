"""The GPU time of one training step, kernel by kernel, from Nsight Compute's CSV (check.sh --profile).
TrainBench's last step is the profiled one; its launches are the CSV's last LAUNCHES rows.
Prints each launch in order, then the time per kernel name, largest first, and the step's total.
Usage: ncu_step.py NCU_CSV LAUNCHES"""
import collections
import csv
import sys

rows = [r for r in csv.DictReader(line for line in open(sys.argv[1]) if line.startswith('"'))
        if r.get("Metric Name") == "gpu__time_duration.sum"]
launches = int(sys.argv[2])
if not 0 < launches <= len(rows):
    sys.exit(f"ncu_step.py: {launches} launches per step, but the profile has {len(rows)} kernels")
step = rows[-launches:]
total = 0.0
by_name = collections.defaultdict(lambda: [0, 0.0])
for r in step:
    us = float(r["Metric Value"].replace(",", "")) / 1e3  # ns
    name = r["Kernel Name"].split("(")[0]
    total += us
    by_name[name][0] += 1
    by_name[name][1] += us
    print(f"{us:9.1f} us  {name:28s} grid {r['Grid Size']:>14s} block {r['Block Size']}")
print(f"-- {len(step)} launches, {total:.1f} us of GPU time in the step; per kernel:")
for name, (n, us) in sorted(by_name.items(), key=lambda kv: -kv[1][1]):
    print(f"{us:9.1f} us  {n:3d}x {name}")
