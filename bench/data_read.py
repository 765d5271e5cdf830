"""numpy/h5py side of the data read benchmark (see bench/README.md).

Reads every shard of a shard set whole, the way a numpy user would: np.load(f) for NAME_data.npy and
NAME_label.npy, h5py's f["data"][:] and f["label"][:] for .h5. Repeats --passes times and reports
the best pass; the last stdout line is one JSON object.

    /usr/bin/python3 bench/data_read.py DIR [--passes 3]
"""
import argparse
import glob
import json
import os
import time

import numpy as np


def read_npy(folder):
    n = 0
    for f in sorted(glob.glob(os.path.join(folder, '*_data.npy'))):
        x = np.load(f)
        y = np.load(f[:-len('_data.npy')] + '_label.npy')
        n += len(x)
        assert len(y) == len(x)
    return n


def read_h5(folder):
    import h5py
    n = 0
    for f in sorted(glob.glob(os.path.join(folder, '*.h5'))):
        with h5py.File(f, 'r') as h:
            x = h['data'][:]
            y = h['label'][:]
        n += len(x)
        assert len(y) == len(x)
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('folder')
    ap.add_argument('--passes', type=int, default=3)
    a = ap.parse_args()
    h5 = bool(glob.glob(os.path.join(a.folder, '*.h5')))
    read = read_h5 if h5 else read_npy
    best = float('inf')
    n = 0
    for _ in range(a.passes):
        t = time.perf_counter()
        n = read(a.folder)
        best = min(best, time.perf_counter() - t)
    print('%s: %d samples, best of %d passes %.4f s, %.0f samples/s' % (a.folder, n, a.passes, best, n / best))
    print(json.dumps({'framework': 'h5py' if h5 else 'numpy', 'samples': n, 'full_read_seconds': best,
                      'full_read_samples_per_sec': n / best}))


if __name__ == '__main__':
    main()
