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

Prints one JSON line: peer, blas, op, gflops, seconds (median of K after one warm-up), and
what the BLAS ran (see blas_report): blas_version, blas_core, blas_threads, blas_core_forced,
and blas_refuse (a reason, when the BLAS runs a generic fallback core on a CPU with
AVX2/AVX-512 that could not be fixed; the bench then prints no ratio for a BLAS op).
Exits 2 with a JSON line holding "error" when NumPy is missing or the dtype is unsupported.

OpenBLAS core: Debian's OpenBLAS 0.3.21 (DYNAMIC_ARCH) picks its kernels from the CPU's
family/model and falls back to the generic "Prescott" kernels for a CPU it does not know
(new CPUs, some VMs), 4-6x slower on an AVX2 machine. When it did, and the user set no
OPENBLAS_CORETYPE, the peer re-executes itself with OPENBLAS_CORETYPE chosen from the CPU
flags (core_for_flags) and reports blas_core_forced = true.
"""
import argparse
import ctypes
import json
import os
import statistics
import sys
import time

# OpenBLAS cores with AVX2+FMA kernels (or better) and with AVX-512 kernels.
AVX2_CORES = frozenset({"Haswell", "Zen", "Excavator", "SkylakeX", "Cooperlake", "SapphireRapids"})
AVX512_CORES = frozenset({"SkylakeX", "Cooperlake", "SapphireRapids"})
FORCED_MARK = "PETABOX_PEER_FORCED_CORE"  # set in the re-executed peer's environment


def cpu_flags(path="/proc/cpuinfo"):
    """The first "flags" line of /proc/cpuinfo as a set; empty when unreadable (not Linux x86)."""
    try:
        with open(path) as info:
            for line in info:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def core_for_flags(flags):
    """The OPENBLAS_CORETYPE that fits CPU flags: "SkylakeX" with AVX-512 (F and BW, what its
    kernels use), "Haswell" with AVX2 and FMA, else None (leave OpenBLAS's choice)."""
    if {"avx512f", "avx512bw"} <= flags:
        return "SkylakeX"
    if {"avx2", "fma"} <= flags:
        return "Haswell"
    return None


def is_fallback_core(core, flags):
    """True when OpenBLAS core `core` is generic for a CPU with `flags`: a pre-AVX2 core
    (Prescott, Nehalem, Sandybridge, ...) on a CPU with AVX2, or an unknown name there.
    An AVX2 core on an AVX-512 CPU is not a fallback (OpenBLAS picks Haswell on purpose for
    some of them)."""
    if core_for_flags(flags) is None:
        return False
    return core not in AVX2_CORES


def openblas_library():
    """ctypes handle of the loaded OpenBLAS (the mapped .so exporting openblas_get_corename)."""
    try:
        with open("/proc/self/maps") as maps:
            names = sorted({line.split()[-1] for line in maps if ".so" in line})
    except OSError:
        return None
    for name in names:
        if "blas" not in name and "lapack" not in name:
            continue
        try:
            lib = ctypes.CDLL(name)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            lib.openblas_get_config.restype = ctypes.c_char_p
            return lib
        except (OSError, AttributeError):
            continue
    return None


def blas_report(flags, forced):
    """What BLAS the process runs: blas_version, blas_core, blas_threads (None when not
    OpenBLAS), blas_core_forced, and blas_refuse (None, or why a BLAS ratio would mislead)."""
    lib = openblas_library()
    if lib is None:
        return {"blas_version": None, "blas_core": None, "blas_threads": None, "blas_core_forced": False,
                "blas_refuse": None}
    config = lib.openblas_get_config().decode(errors="replace")
    core = lib.openblas_get_corename().decode(errors="replace")
    report = {"blas_version": " ".join(config.split()[:2]), "blas_core": core,
              "blas_threads": int(lib.openblas_get_num_threads()), "blas_core_forced": forced, "blas_refuse": None}
    if is_fallback_core(core, flags):
        report["blas_refuse"] = (f"OpenBLAS runs its generic {core} core on a CPU with "
                                 f"{'AVX-512' if core_for_flags(flags) == 'SkylakeX' else 'AVX2'}"
                                 + (" (OPENBLAS_CORETYPE set by the user)" if not forced else " even when forced"))
    return report


def core_to_force(detected_core, flags, env):
    """The OPENBLAS_CORETYPE to re-execute with, or None: only when OpenBLAS detected a
    fallback core, the user set no OPENBLAS_CORETYPE and this is not already the re-run."""
    if env.get("OPENBLAS_CORETYPE") or env.get(FORCED_MARK) or detected_core is None:
        return None
    return core_for_flags(flags) if is_fallback_core(detected_core, flags) else None


def force_core_if_needed(flags):
    """Re-executes this peer with OPENBLAS_CORETYPE set when core_to_force says so; returns
    only when no re-execution is needed (or it failed: blas_refuse then reports the core)."""
    lib = openblas_library()
    detected = lib.openblas_get_corename().decode(errors="replace") if lib is not None else None
    core = core_to_force(detected, flags, os.environ)
    if core is None:
        return
    env = dict(os.environ, OPENBLAS_CORETYPE=core, **{FORCED_MARK: "1"})
    try:
        sys.stdout.flush()
        os.execve(sys.executable, [sys.executable] + sys.argv, env)
    except OSError:
        return


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
    flags = cpu_flags()
    force_core_if_needed(flags)
    blas_info = blas_report(flags, forced=bool(os.environ.get(FORCED_MARK)))
    if args.dtype != "float32":
        print(json.dumps({"peer": peer, "op": args.op, "error": f"peer supports float32 only, not {args.dtype}"}))
        return 2
    if args.op == "bandwidth":
        moved, seconds, copy_gbps = bench_bandwidth(np, args)
        print(json.dumps({"peer": "numpy", "numpy": np.__version__, "op": args.op, "case": args.case,
                          "seconds": seconds, "bytes": moved, "gbps": moved / seconds / 1e9,
                          "copy_gbps": copy_gbps, **blas_info}))
        return 0
    flops, seconds = (bench_matmul if args.op == "matmul" else bench_conv2d)(np, args)
    blas = blas_library()
    if blas and "openblas" in blas:
        peer = "numpy-openblas" if args.op == "matmul" else "numpy-im2col-openblas"
    elif args.op == "conv2d":
        peer = "numpy-im2col"
    print(json.dumps({"peer": peer, "blas": blas, "numpy": np.__version__, "op": args.op,
                      "gflops": flops / seconds / 1e9, "seconds": seconds, **blas_info}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
