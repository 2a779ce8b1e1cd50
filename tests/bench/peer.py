#!/usr/bin/env python3
"""Benchmark peer for petabox-bench: runs the same op with NumPy on this machine.

  peer.py matmul --n N [--dtype float32] [--iters K]
  peer.py conv2d --batch B --channels C --size S [--iters K]

matmul is NumPy's `a @ b` (a BLAS sgemm; on Debian with libopenblas0-pthread that BLAS is
OpenBLAS). conv2d (3x3, stride 1, pad 1) is NumPy im2col (sliding_window_view + copy)
followed by one matmul; the im2col copy is inside the timed region.

Prints one JSON line: peer, blas, op, gflops, seconds (median of K after one warm-up).
Exits 2 with a JSON line holding "error" when NumPy is missing or the dtype is unsupported.
"""
import argparse
import json
import statistics
import sys
import time


def blas_library():
    """The BLAS shared object NumPy actually loaded (from /proc/self/maps), or None."""
    try:
        with open("/proc/self/maps") as maps:
            names = {line.split()[-1] for line in maps if ".so" in line}
    except OSError:
        return None
    for name in sorted(names):
        base = name.rsplit("/", 1)[-1]
        if any(key in base for key in ("openblas", "mkl_rt", "blis", "libblas", "cblas")):
            return name
    return None


def median_seconds(fn, iters):
    fn()  # warm-up
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_matmul(np, args):
    rng = np.random.default_rng(0)
    a = rng.random((args.n, args.n), dtype=np.float32)
    b = rng.random((args.n, args.n), dtype=np.float32)
    seconds = median_seconds(lambda: a @ b, args.iters)
    return 2.0 * args.n ** 3, seconds


def bench_conv2d(np, args):
    bsz, c, s = args.batch, args.channels, args.size
    rng = np.random.default_rng(0)
    x = rng.random((bsz, c, s, s), dtype=np.float32)
    w = rng.random((c, c, 3, 3), dtype=np.float32)
    w_mat = w.reshape(c, c * 9)  # (Cout, Cin*9)

    def conv():
        xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
        win = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(2, 3))  # B,C,S,S,3,3
        cols = np.ascontiguousarray(win.transpose(1, 4, 5, 0, 2, 3)).reshape(c * 9, bsz * s * s)
        return (w_mat @ cols).reshape(c, bsz, s, s).transpose(1, 0, 2, 3)

    seconds = median_seconds(conv, args.iters)
    return 2.0 * bsz * c * s * s * c * 9, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="op", required=True)
    mm = sub.add_parser("matmul")
    mm.add_argument("--n", type=int, required=True)
    cv = sub.add_parser("conv2d")
    cv.add_argument("--batch", type=int, default=8)
    cv.add_argument("--channels", type=int, default=64)
    cv.add_argument("--size", type=int, default=56)
    for p in (mm, cv):
        p.add_argument("--dtype", default="float32")
        p.add_argument("--iters", type=int, default=5)
    args = parser.parse_args()

    peer = "numpy"
    try:
        import numpy as np
    except ImportError as e:
        print(json.dumps({"peer": peer, "op": args.op, "error": f"numpy not importable: {e}"}))
        return 2
    if args.dtype != "float32":
        print(json.dumps({"peer": peer, "op": args.op, "error": f"peer supports float32 only, not {args.dtype}"}))
        return 2
    flops, seconds = (bench_matmul if args.op == "matmul" else bench_conv2d)(np, args)
    blas = blas_library()
    if blas and "openblas" in blas:
        peer = "numpy-openblas" if args.op == "matmul" else "numpy-im2col-openblas"
    elif args.op == "conv2d":
        peer = "numpy-im2col"
    print(json.dumps({"peer": peer, "blas": blas, "numpy": np.__version__, "op": args.op,
                      "gflops": flops / seconds / 1e9, "seconds": seconds}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
