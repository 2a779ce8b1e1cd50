#!/usr/bin/env python3
"""Benchmark peer for petabox-bench: runs the same op with NumPy on this machine.

  peer.py matmul --n N [--dtype float32] [--iters K]
  peer.py conv2d --batch B --channels C --size S [--cout O --kernel K --stride T --pad P] [--iters K]
  peer.py bandwidth --op axpb|sum|sum_axis0|sum_axis1 --numel N [--rows R] [--iters K]

matmul is NumPy's `a @ b` (a BLAS sgemm; on Debian with libopenblas0-pthread that BLAS is
OpenBLAS). conv2d (by default 3x3, stride 1, pad 1, Cout = Cin) is NumPy im2col (sliding_window_view + copy)
followed by one matmul; the im2col copy is inside the timed region. bandwidth runs
petabox-bench's memory-bound ops (y = x * 0.75 - 0.25 as np.multiply then an in-place
np.add, two passes; the sums) and np.copyto of the same size, the copy ceiling.

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
    co, k, st, p = args.cout or c, args.kernel, args.stride, args.pad
    o = (s + 2 * p - k) // st + 1
    rng = np.random.default_rng(0)
    x = rng.random((bsz, c, s, s), dtype=np.float32)
    w = rng.random((co, c, k, k), dtype=np.float32)
    w_mat = w.reshape(co, c * k * k)  # (Cout, Cin*K*K)

    def conv():
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        win = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(2, 3))[:, :, ::st, ::st]  # B,C,O,O,K,K
        cols = np.ascontiguousarray(win.transpose(1, 4, 5, 0, 2, 3)).reshape(c * k * k, bsz * o * o)
        return (w_mat @ cols).reshape(co, bsz, o, o).transpose(1, 0, 2, 3)

    seconds = median_seconds(conv, args.iters)
    return 2.0 * bsz * co * o * o * c * k * k, seconds


def bench_bandwidth(np, args):
    """Returns (bytes the op must move, seconds, copy ceiling in GB/s)."""
    n, rows = args.numel, args.rows
    x = np.random.default_rng(0).random(n, dtype=np.float32) * 2 - 1
    y = np.empty_like(x)
    if args.case == "axpb":
        moved = 8.0 * n

        def fn():
            np.multiply(x, 0.75, out=y)
            np.add(y, -0.25, out=y)
    elif args.case == "sum":
        moved, fn = 4.0 * n + 4, x.sum
    else:
        view = x.reshape(rows, n // rows)
        axis = 0 if args.case == "sum_axis0" else 1
        moved = 4.0 * n + 4.0 * (n // rows if axis == 0 else rows)

        def fn():
            view.sum(axis)
    seconds = median_seconds(fn, args.iters)
    copy = median_seconds(lambda: np.copyto(y, x), args.iters)
    return moved, seconds, 8.0 * n / copy / 1e9


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="op", required=True)
    mm = sub.add_parser("matmul")
    mm.add_argument("--n", type=int, required=True)
    cv = sub.add_parser("conv2d")
    cv.add_argument("--batch", type=int, default=8)
    cv.add_argument("--channels", type=int, default=64)
    cv.add_argument("--size", type=int, default=56)
    cv.add_argument("--cout", type=int, default=0, help="output channels (default: --channels)")
    cv.add_argument("--kernel", type=int, default=3)
    cv.add_argument("--stride", type=int, default=1)
    cv.add_argument("--pad", type=int, default=1)
    bw = sub.add_parser("bandwidth")
    bw.add_argument("--op", dest="case", choices=("axpb", "sum", "sum_axis0", "sum_axis1"), default="axpb")
    bw.add_argument("--numel", type=int, default=1 << 28)
    bw.add_argument("--rows", type=int, default=1024)
    for p in (mm, cv, bw):
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
    if args.op == "bandwidth":
        moved, seconds, copy_gbps = bench_bandwidth(np, args)
        print(json.dumps({"peer": "numpy", "numpy": np.__version__, "op": args.op, "case": args.case,
                          "seconds": seconds, "bytes": moved, "gbps": moved / seconds / 1e9,
                          "copy_gbps": copy_gbps}))
        return 0
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
