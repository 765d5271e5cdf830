#!/usr/bin/env python3
"""Depthwise separable blocks against dense convolutions, per FLOP.

MobileNet replaces a dense 3x3 convolution (C_in -> C_out) by a depthwise 3x3
convolution (one filter per channel, group = C_in) followed by a pointwise 1x1
one (C_in -> C_out): about 8x fewer FLOPs, but the depthwise part does little
arithmetic per byte it moves, so it runs at a lower GFLOP/s. This script
measures how much lower, block by block:

1. `cortado bench` on the MobileNet config: forward + backward time of each
   block's depthwise and pointwise layers, and their forward FLOPs.
2. `cortado bench` on a generated "dense twin": for each block, the dense 3x3
   convolution it stands for, on an input of the same shape, with the same
   stride, computing the same gradients (a learnable Bias in front makes the
   convolution propagate to its input, as the blocks do).

"ratio" is the dense convolution's GFLOP/s over the block's: how many times
slower per FLOP the separable block is (1.0 = as efficient as a dense conv).

The two benchmarks alternate for --rounds rounds and each layer keeps its
fastest forward and backward time over the rounds, so that a slow spell of a
shared machine does not land on one side only.

Usage: bench/separable.py [--config conf/mobilenet-v1.json] [--batch 16]
                          [--iters 3] [--warmup 1] [--threads 2] [--rounds 2] [--json]
Run from anywhere; it uses ./cortado at the repository root.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def blocks_of(config):
    """(dw layer, pw layer, C_in, C_out, H_in, stride) for each depthwise conv followed by a 1x1 conv."""
    layers = config["net"]["layers"]
    shapes = {}
    for layer in layers:
        if layer["type"] == "Input":
            for top, shape in zip(layer["top"], layer["shape"]):
                shapes[top] = shape["dim"]
    found = []
    for i, layer in enumerate(layers):
        if layer["type"] != "Convolution":
            continue
        bottom = layer["bottom"] if isinstance(layer["bottom"], str) else layer["bottom"][0]
        top = layer["top"] if isinstance(layer["top"], str) else layer["top"][0]
        n, c, h, w = shapes[bottom]
        k, s, p = layer.get("kernel_size", 1), layer.get("stride", 1), layer.get("pad", 0)
        out = [n, layer["num_output"], (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1]
        shapes[top] = out
        if layer.get("group", 1) == c and c == layer["num_output"] and k == 3:
            pw = next(l for l in layers[i + 1:] if l["type"] == "Convolution")
            found.append({"dw": layer["name"], "pw": pw["name"], "cin": c, "cout": pw["num_output"],
                          "h": h, "stride": s})
    return found


def bench(config_path, args):
    cmd = [os.path.join(ROOT, "cortado"), "bench", config_path, "--batch", str(args.batch),
           "--iters", str(args.iters), "--warmup", str(args.warmup), "--threads", str(args.threads), "--json"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    return {l["name"]: l for l in result["per_layer"]}


def dense_twin(blocks, batch):
    layers = []
    for i, b in enumerate(blocks):
        layers += [
            {"name": f"in{i}", "type": "Input", "top": f"x{i}",
             "shape": [{"dim": [batch, b["cin"], b["h"], b["h"]]}]},
            {"name": f"bias{i}", "type": "Bias", "bottom": f"x{i}", "top": f"b{i}"},
            {"name": f"dense{i}", "type": "Convolution", "bottom": f"b{i}", "top": f"y{i}",
             "num_output": b["cout"], "kernel_size": 3, "stride": b["stride"], "pad": 1, "bias_term": False,
             "weight_filler": {"type": "msra"}},
            {"name": f"loss{i}", "type": "Reduction", "bottom": f"y{i}", "top": f"l{i}",
             "operation": "SUMSQ", "loss_weight": 1e-6},
        ]
    return {"version": 1, "seed": 1, "net": {"name": "dense-twin", "layers": layers},
            "solver": {"base_lr": 0.0, "max_iter": 1}}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=os.path.join(ROOT, "conf", "mobilenet-v1.json"))
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = ap.parse_args()
    with open(args.config) as f:
        blocks = blocks_of(json.load(f))
    if not blocks:
        sys.exit(f"error: {args.config} has no depthwise 3x3 convolution followed by a convolution")
    sep, dense = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        twin = os.path.join(tmp, "dense-twin.json")
        with open(twin, "w") as f:
            json.dump(dense_twin(blocks, args.batch), f)
        for r in range(max(1, args.rounds)):
            runs = [(sep, args.config), (dense, twin)]
            for best, path in (runs if r % 2 == 0 else runs[::-1]):
                for name, layer in bench(path, args).items():
                    if name in best:
                        for key in ("forward_ms", "backward_ms"):
                            best[name][key] = min(best[name][key], layer[key])
                    else:
                        best[name] = layer

    def gflops(flops_per_image, ms):
        return flops_per_image * args.batch / (ms * 1e6)

    rows = []
    sep_flops = sep_ms = dense_flops = dense_ms = 0.0
    for i, b in enumerate(blocks):
        s_ms = sum(sep[n]["forward_ms"] + sep[n]["backward_ms"] for n in (b["dw"], b["pw"]))
        s_fl = sep[b["dw"]]["flops"] + sep[b["pw"]]["flops"]
        d = dense[f"dense{i}"]
        d_ms, d_fl = d["forward_ms"] + d["backward_ms"], d["flops"]
        rows.append({"block": b["dw"] + " + " + b["pw"], "input": f'{b["cin"]}x{b["h"]}x{b["h"]}',
                     "cout": b["cout"], "stride": b["stride"],
                     "separable_ms": s_ms, "separable_gflops": gflops(s_fl, s_ms),
                     "depthwise_gflops": gflops(sep[b["dw"]]["flops"],
                                                sep[b["dw"]]["forward_ms"] + sep[b["dw"]]["backward_ms"]),
                     "dense_ms": d_ms, "dense_gflops": gflops(d_fl, d_ms),
                     "ratio": gflops(d_fl, d_ms) / gflops(s_fl, s_ms)})
        sep_flops, sep_ms, dense_flops, dense_ms = sep_flops + s_fl, sep_ms + s_ms, dense_flops + d_fl, dense_ms + d_ms
    total = gflops(dense_flops, dense_ms) / gflops(sep_flops, sep_ms)
    print(f"batch {args.batch}, {args.threads} threads, best of {args.rounds} rounds, forward + backward; "
          f"GFLOP/s counts forward FLOPs (a multiply-add is 2) per forward + backward second")
    print(f'{"block":34} {"input":>13} {"out":>5} {"s":>2} {"sep ms":>8} {"sep GF/s":>9} {"dw GF/s":>8} '
          f'{"dense ms":>9} {"dense GF/s":>10} {"ratio":>6}')
    for r in rows:
        print(f'{r["block"]:34} {r["input"]:>13} {r["cout"]:>5} {r["stride"]:>2} {r["separable_ms"]:8.1f} '
              f'{r["separable_gflops"]:9.1f} {r["depthwise_gflops"]:8.1f} {r["dense_ms"]:9.1f} '
              f'{r["dense_gflops"]:10.1f} {r["ratio"]:6.2f}')
    print(f"all blocks: separable {gflops(sep_flops, sep_ms):.1f} GFLOP/s, dense {gflops(dense_flops, dense_ms):.1f} "
          f"GFLOP/s, ratio {total:.2f} (worst block {max(r['ratio'] for r in rows):.2f})")
    if args.json:
        print(json.dumps({"batch": args.batch, "threads": args.threads, "blocks": rows, "ratio": total,
                          "worst_ratio": max(r["ratio"] for r in rows)}))


if __name__ == "__main__":
    main()
