#!/usr/bin/env python3
"""PyTorch side of the epoch-time benchmark: conf/lenet-fashion-mnist.json's recipe with a DataLoader.

What a PyTorch user writes for this recipe: a map-style Dataset over the Fashion-MNIST IDX files
(loaded whole into a uint8 tensor, as torchvision.datasets.FashionMNIST does; the per-sample transform
scales by 1/256 like the config's augmentation), a DataLoader (batch 64, shuffled, the last batch
kept), Caffe's LeNet (bench/pytorch_train.py), SGD with momentum 0.9, weight decay 5e-4, biases at
2x lr, and Caffe's "inv" lr policy (base 0.01, gamma 1e-4, power 0.75) stepped every iteration.

Times each training epoch (wall clock, from the first batch request to the last update), then scores
the test set (not timed). The last line of stdout is one JSON object:
  {"framework": "pytorch", "workers": 0, "threads": 2, "epochs": 1, "epoch_seconds": [...],
   "images_per_sec": ..., "test_accuracy": ...}

Usage:
  python3 pytorch_epoch.py [--epochs 1] [--workers 0] [--threads 2] [--data /usr/share/datasets/fashion-mnist]
"""

import argparse
import gzip
import json
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_train import LeNet, make_optimizer  # noqa: E402

SCALE = 0.00390625
GAMMA, POWER = 1e-4, 0.75


def read_idx(path):
    with gzip.open(path, "rb") as f:
        magic = struct.unpack(">I", f.read(4))[0]
        dims = struct.unpack(">" + "I" * (magic & 0xFF), f.read(4 * (magic & 0xFF)))
        return np.frombuffer(f.read(), dtype=np.uint8).reshape(dims)


class FashionMnist(torch.utils.data.Dataset):
    """torchvision.datasets.FashionMNIST's shape: uint8 tensors in memory, a per-sample transform."""

    def __init__(self, folder, train):
        prefix = "train" if train else "t10k"
        self.data = torch.from_numpy(read_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte.gz")).copy())
        self.targets = torch.from_numpy(read_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte.gz")).astype(np.int64))

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, i):
        return self.data[i].unsqueeze(0).float() * SCALE, self.targets[i]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)

    train = FashionMnist(args.data, True)
    test = FashionMnist(args.data, False)
    loader = torch.utils.data.DataLoader(train, batch_size=64, shuffle=True, num_workers=args.workers,
                                         persistent_workers=args.workers > 0)
    model = LeNet()
    opt = make_optimizer(model)
    base = [g["lr"] for g in opt.param_groups]
    it = 0
    seconds = []
    for _ in range(args.epochs):
        model.train()
        t0 = time.perf_counter()
        for x, y in loader:
            rate = (1 + GAMMA * it) ** -POWER
            for g, b in zip(opt.param_groups, base):
                g["lr"] = b * rate
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
            it += 1
        seconds.append(time.perf_counter() - t0)
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in torch.utils.data.DataLoader(test, batch_size=100):
            correct += (model(x).argmax(1) == y).sum().item()
    print(json.dumps({"framework": "pytorch", "workers": args.workers, "threads": args.threads,
                      "epochs": args.epochs, "epoch_seconds": [round(s, 3) for s in seconds],
                      "images_per_sec": round(len(train) * args.epochs / sum(seconds), 1),
                      "test_accuracy": correct / len(test)}))


if __name__ == "__main__":
    main()
