"""torch.mm throughput for n x n x n, float32 and TF32, timed like GemmBench: CUDA events, median of 30
after 5 warm-ups. One JSON object per line: {"n", "precision", "ms", "tflops"}."""
import json
import statistics
import sys

import torch

for n in map(int, sys.argv[1:] or ["2048"]):
    a = torch.rand(n, n, device="cuda") * 2 - 1
    b = torch.rand(n, n, device="cuda") * 2 - 1
    for precision, tf32 in (("f32", False), ("tf32", True)):
        torch.backends.cuda.matmul.allow_tf32 = tf32
        for _ in range(5):
            torch.mm(a, b)
        times = []
        for _ in range(30):
            s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            s.record()
            torch.mm(a, b)
            e.record()
            e.synchronize()
            times.append(s.elapsed_time(e))
        ms = statistics.median(times)
        print(json.dumps({"n": n, "precision": precision, "ms": ms, "tflops": 2 * n ** 3 / ms / 1e9}))
