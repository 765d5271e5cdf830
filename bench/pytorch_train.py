#!/usr/bin/env python3
"""PyTorch reference side of the Cortado CPU training benchmark.

Trains Caffe's LeNet or CIFAR-10 "quick" net on synthetic random data and
reports training throughput. One training step is what Caffe's SGD solver
does per iteration: forward, softmax loss, backward, SGD update with
momentum and weight decay.

The last line of stdout is a single JSON object, e.g.
  {"framework": "pytorch", "net": "lenet", "batch": 64, "threads": 2,
   "iters": 200, "images_per_sec": ..., "ms_per_iter": ..., "peak_rss_mib": ...}

Usage:
  python3 pytorch_train.py --net lenet --batch 64 --threads 2 --iters 200
"""

import argparse
import json
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# Caffe's solver settings used by both sides of the benchmark.
BASE_LR = 0.01
MOMENTUM = 0.9
WEIGHT_DECAY = 5e-4
NUM_CLASSES = 10
# Distinct synthetic batches, generated up front and cycled, so that data
# generation is never timed (Caffe reads prefetched batches from its data layer).
DATA_POOL = 8


class LeNet(nn.Module):
    """Caffe's examples/mnist/lenet_train_test.prototxt.

    Note: no ReLU after the conv layers, only after ip1 (as in Caffe).
    """

    input_shape = (1, 28, 28)
    default_batch = 64

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 20, 5)
        self.pool1 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv2 = nn.Conv2d(20, 50, 5)
        self.pool2 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.ip1 = nn.Linear(50 * 4 * 4, 500)
        self.ip2 = nn.Linear(500, NUM_CLASSES)
        # Caffe: weight_filler xavier (uniform, scale sqrt(3 / fan_in)), bias 0.
        for m in (self.conv1, self.conv2, self.ip1, self.ip2):
            fan_in = m.weight[0].numel()
            nn.init.uniform_(m.weight, -(3.0 / fan_in) ** 0.5, (3.0 / fan_in) ** 0.5)
            nn.init.zeros_(m.bias)

    def features(self, x):
        x1 = self.pool1(self.conv1(x))  # 20x12x12
        x2 = self.pool2(self.conv2(x1))  # 50x4x4
        return [x1, x2]

    def forward(self, x):
        x = self.features(x)[-1].flatten(1)
        return self.ip2(F.relu(self.ip1(x)))


class Cifar10Quick(nn.Module):
    """Caffe's examples/cifar10/cifar10_quick_train_test.prototxt.

    Caffe rounds pooling output sizes up (ceil), so the pools use
    ceil_mode=True: 32 -> 16 -> 8 -> 4. With pad 0, PyTorch's ceil-mode
    average pool divides by the clipped window size at the border, as Caffe does.
    """

    input_shape = (3, 32, 32)
    default_batch = 100

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 5, padding=2)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2 = nn.Conv2d(32, 32, 5, padding=2)
        self.pool2 = nn.AvgPool2d(3, 2, ceil_mode=True)
        self.conv3 = nn.Conv2d(32, 64, 5, padding=2)
        self.pool3 = nn.AvgPool2d(3, 2, ceil_mode=True)
        self.ip1 = nn.Linear(64 * 4 * 4, 64)
        self.ip2 = nn.Linear(64, NUM_CLASSES)
        # Caffe: gaussian weight fillers with these stds, bias 0.
        for m, std in ((self.conv1, 1e-4), (self.conv2, 1e-2), (self.conv3, 1e-2),
                       (self.ip1, 1e-1), (self.ip2, 1e-1)):
            nn.init.normal_(m.weight, 0.0, std)
            nn.init.zeros_(m.bias)

    def features(self, x):
        x1 = F.relu(self.pool1(self.conv1(x)))  # 32x16x16 (pool, then ReLU)
        x2 = self.pool2(F.relu(self.conv2(x1)))  # 32x8x8
        x3 = self.pool3(F.relu(self.conv3(x2)))  # 64x4x4
        return [x1, x2, x3]

    def forward(self, x):
        x = self.features(x)[-1].flatten(1)  # 1024
        return self.ip2(self.ip1(x))  # no ReLU between ip1 and ip2 in Caffe


class _BasicBlock(nn.Module):
    """ResNet's basic block: two 3x3 convs with BatchNorm, identity or 1x1-projection shortcut."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
        self.shortcut = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                         if stride != 1 or cin != cout else nn.Identity())

    def forward(self, x):
        return torch.relu(self.body(x) + self.shortcut(x))


class ResNet18(nn.Module):
    """torchvision's resnet18 topology (conf/resnet18.json), written with torch.nn."""

    input_shape = (3, 224, 224)
    default_batch = 16
    num_classes = 1000

    def __init__(self):
        super().__init__()
        layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
                  nn.MaxPool2d(3, 2, 1)]
        c = 64
        for i, w in enumerate([64, 128, 256, 512]):
            layers += [_BasicBlock(c, w, 1 if i == 0 else 2), _BasicBlock(w, w, 1)]
            c = w
        self.net = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 1000))

    def forward(self, x):
        return self.net(x)


class MobileNetV1(nn.Module):
    """MobileNet v1, width 1.0 (conf/mobilenet-v1.json): depthwise 3x3 + pointwise 1x1 blocks."""

    input_shape = (3, 224, 224)
    default_batch = 16
    num_classes = 1000

    def __init__(self):
        super().__init__()

        def cbr(cin, cout, k, s, g):
            return [nn.Conv2d(cin, cout, k, s, k // 2, groups=g, bias=False), nn.BatchNorm2d(cout),
                    nn.ReLU(inplace=True)]

        layers = cbr(3, 32, 3, 2, 1)
        c = 32
        for cout, s in [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 \
                + [(1024, 2), (1024, 1)]:
            layers += cbr(c, c, 3, s, c) + cbr(c, cout, 1, 1, 1)
            c = cout
        self.net = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1024, 1000))

    def forward(self, x):
        return self.net(x)


NETS = {"lenet": LeNet, "cifar10_quick": Cifar10Quick, "resnet18": ResNet18, "mobilenet_v1": MobileNetV1}

# Expected per-sample feature shapes after each pooling stage.
EXPECTED_SHAPES = {
    "lenet": [(20, 12, 12), (50, 4, 4)],
    "cifar10_quick": [(32, 16, 16), (32, 8, 8), (64, 4, 4)],
}


def check_shapes(name, model):
    if name not in EXPECTED_SHAPES:
        return
    with torch.no_grad():
        feats = model.features(torch.zeros(1, *model.input_shape))
    got = [tuple(f.shape[1:]) for f in feats]
    if got != EXPECTED_SHAPES[name]:
        sys.exit(f"{name}: unexpected feature shapes {got}, want {EXPECTED_SHAPES[name]}")
    assert got[-1][0] * got[-1][1] * got[-1][2] == model.ip1.in_features


def make_optimizer(model):
    # Caffe's prototxts give biases lr_mult 2 (decay_mult stays 1).
    # Caffe's momentum update (v = mu*v + lr*g; w -= v) equals PyTorch's
    # (v = mu*v + g; w -= lr*v) for a constant learning rate.
    weights = [p for n, p in model.named_parameters() if not n.endswith("bias")]
    biases = [p for n, p in model.named_parameters() if n.endswith("bias")]
    return torch.optim.SGD(
        [{"params": weights, "lr": BASE_LR}, {"params": biases, "lr": 2 * BASE_LR}],
        lr=BASE_LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--net", choices=sorted(NETS), required=True)
    ap.add_argument("--batch", type=int,
                    help="default: Caffe's (lenet 64, cifar10_quick 100), 16 for resnet18 and mobilenet_v1")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--iters", type=int, default=200, help="measured iterations")
    ap.add_argument("--warmup", type=int, default=20, help="untimed iterations first")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    # Must come before any parallel work, or PyTorch refuses to change it.
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError as e:
        print(f"note: could not set inter-op threads: {e}", file=sys.stderr)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    net_cls = NETS[args.net]
    batch = args.batch or net_cls.default_batch
    model = net_cls()
    check_shapes(args.net, model)
    model.train()
    opt = make_optimizer(model)
    loss_fn = nn.CrossEntropyLoss()  # = Caffe SoftmaxWithLoss, averaged over the batch

    # Images uniform in [0, 1) (Caffe scales pixels by 1/256), random labels.
    data = [(torch.rand(batch, *net_cls.input_shape),
             torch.randint(0, getattr(net_cls, "num_classes", NUM_CLASSES), (batch,)))
            for _ in range(DATA_POOL)]

    def step(i):
        x, y = data[i % DATA_POOL]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    for i in range(args.warmup):
        step(i)

    # PyTorch on CPU runs synchronously, so wall time brackets the work exactly.
    t0 = time.perf_counter()
    for i in range(args.iters):
        loss = step(args.warmup + i)
    elapsed = time.perf_counter() - t0

    print(f"torch {torch.__version__}, threads intra={torch.get_num_threads()} "
          f"interop={torch.get_num_interop_threads()}, last loss {loss.item():.4f}, "
          f"{elapsed:.2f} s measured")
    print(json.dumps({
        "framework": "pytorch",
        "net": args.net,
        "batch": batch,
        "threads": args.threads,
        "iters": args.iters,
        "images_per_sec": round(batch * args.iters / elapsed, 2),
        "ms_per_iter": round(1000.0 * elapsed / args.iters, 3),
        # ru_maxrss is in KiB on Linux.
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }))


if __name__ == "__main__":
    main()
