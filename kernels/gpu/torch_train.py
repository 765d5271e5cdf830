"""Training throughput of LeNet and cifar10_quick in PyTorch eager on the GPU, timed as TrainBench times
Cortado: synthetic batches copied from host memory every step, SGD with momentum 0.9 and weight decay,
the loss read back every step (loss.item()), 20 warm-up steps, then the median of ROUNDS rounds of ITERS
steps. The nets are Caffe's (conf/lenet-fashion-mnist.json, conf/cifar10-quick.json): same layers,
kernel sizes, strides, paddings and ceil-mode pooling. One JSON object per line.
Usage: torch_train.py NET BATCH [ITERS [ROUNDS]] with NET lenet or cifar10_quick."""
import json
import statistics
import sys
import time

import torch
from torch import nn

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False


def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 20, 5), nn.MaxPool2d(2, 2, ceil_mode=True),
        nn.Conv2d(20, 50, 5), nn.MaxPool2d(2, 2, ceil_mode=True),
        nn.Flatten(), nn.Linear(800, 500), nn.ReLU(inplace=True), nn.Linear(500, 10)), (1, 28, 28), 0.01, 5e-4


def cifar10_quick():
    return nn.Sequential(
        nn.Conv2d(3, 32, 5, padding=2), nn.MaxPool2d(3, 2, ceil_mode=True), nn.ReLU(inplace=True),
        nn.Conv2d(32, 32, 5, padding=2), nn.ReLU(inplace=True), nn.AvgPool2d(3, 2, ceil_mode=True),
        nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(inplace=True), nn.AvgPool2d(3, 2, ceil_mode=True),
        nn.Flatten(), nn.Linear(64 * 4 * 4, 64), nn.Linear(64, 10)), (3, 32, 32), 0.001, 4e-3


name, batch = sys.argv[1], int(sys.argv[2])
iters = int(sys.argv[3]) if len(sys.argv) > 3 else 200
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 5
model, shape, lr, wd = {"lenet": lenet, "cifar10_quick": cifar10_quick}[name]()
model = model.cuda()
opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=wd)
loss_fn = nn.CrossEntropyLoss()
x = torch.randn(batch, *shape)
y = torch.randint(0, 10, (batch,))


def step():
    xs, ys = x.cuda(), y.cuda()
    opt.zero_grad(set_to_none=True)
    loss = loss_fn(model(xs), ys)
    loss.backward()
    opt.step()
    return loss.item()


for _ in range(20):
    step()
ms = []
for _ in range(rounds):
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(iters):
        step()
    torch.cuda.synchronize()
    ms.append((time.perf_counter() - t0) * 1000 / iters)
median = statistics.median(ms)
print(json.dumps({"net": name, "batch": batch, "img_per_s": batch * 1000 / median, "ms_per_step": median}))
