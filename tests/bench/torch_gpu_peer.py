#!/usr/bin/env python3
"""GPU benchmark peer for petabox-bench: runs the same op with PyTorch on a CUDA device.

  torch_gpu_peer.py matmul --n N [--dtype float32|float16|bfloat16] [--iters K] [--device cuda:0]
  torch_gpu_peer.py conv2d --batch B --channels CIN [--cout COUT] --size S [--kernel 3] [--stride 1]
                    [--pass forward|input-grad|weight-grad] [--channels-last|--nchw]
                    [--pad 1] [--dtype float32] [--iters K] [--device cuda:0]
  torch_gpu_peer.py bandwidth --op axpb|sum|sum_axis0|sum_axis1 --numel N [--rows R] [--iters K]
                    [--device cuda:0]

matmul is `a @ b` (cuBLAS), conv2d is torch.nn.functional.conv2d in NCHW without bias
(cuDNN, with cudnn.benchmark on so it picks its fastest algorithm during the warm-up). For
float32, TF32 is off for both (torch.backends.*.allow_tf32 = False), so float32 means IEEE
float32 arithmetic as the engine does it; the matmul report also gives the TF32 rate as
`tf32_gflops` for reference. 16-bit types use the tensor cores as PyTorch does by default.
bandwidth times the engine's memory-bound ops: axpb is y = x * 0.75 - 0.25 as one kernel
(torch.add(b, x, alpha=a, out=y)), the sums are x.sum(), x.view(R, N/R).sum(0) and .sum(1);
it also times y.copy_(x) of the same numel (float32), the device-to-device copy ceiling.

Timing: inputs are uniform random (never zeros); a few untimed warm-up calls, then each of
`--iters` calls (at least 10) is timed alone with CUDA events; the median is reported.

Prints one JSON line: peer, torch, gpu, op, seconds, and gflops (matmul, conv2d) or gbps,
copy_seconds, copy_gbps (bandwidth). Exits 2 with a JSON line holding "error" when torch or
CUDA is missing or the arguments are unsupported.
"""
import argparse
import json
import statistics
import sys

AXPB_A, AXPB_B = 0.75, -0.25
MIN_ITERS = 10


def median_seconds(torch, fn, iters, warmup=3):
    """Median over max(iters, MIN_ITERS) calls of fn, each timed alone with CUDA events."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(max(iters, MIN_ITERS)):
        start = torch.cuda.Event(enable_timing=True)
        stop = torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop) * 1e-3)
    return statistics.median(times)


def uniform(torch, shape, dtype, device, seed):
    gen = torch.Generator(device=device).manual_seed(seed)
    return (torch.rand(shape, generator=gen, device=device, dtype=torch.float32) * 2 - 1).to(dtype)


def bench_matmul(torch, args, dtype):
    n = args.n
    a = uniform(torch, (n, n), dtype, args.device, 1)
    b = uniform(torch, (n, n), dtype, args.device, 2)
    flops = 2.0 * n ** 3
    result = {"seconds": median_seconds(torch, lambda: a @ b, args.iters)}
    result["gflops"] = flops / result["seconds"] / 1e9
    if dtype == torch.float32:  # for reference only: the matrix units' float32 mode
        torch.backends.cuda.matmul.allow_tf32 = True
        result["tf32_gflops"] = flops / median_seconds(torch, lambda: a @ b, args.iters) / 1e9
        torch.backends.cuda.matmul.allow_tf32 = False
    return "torch-cuda-cublas", result


def bench_conv2d(torch, args, dtype):
    cout = args.cout or args.channels
    out = (args.size + 2 * args.pad - args.kernel) // args.stride + 1
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    x = uniform(torch, (args.batch, args.channels, args.size, args.size), dtype, args.device, 1).to(memory_format=fmt)
    w = uniform(torch, (cout, args.channels, args.kernel, args.kernel), dtype, args.device, 2).to(memory_format=fmt)
    g = uniform(torch, (args.batch, cout, out, out), dtype, args.device, 3).to(memory_format=fmt)
    nn_grad = torch.nn.grad
    if args.pass_ == "forward":
        fn = lambda: torch.nn.functional.conv2d(x, w, stride=args.stride, padding=args.pad)  # noqa: E731
    elif args.pass_ == "input-grad":
        fn = lambda: nn_grad.conv2d_input(x.shape, w, g, stride=args.stride, padding=args.pad)  # noqa: E731
    else:
        fn = lambda: nn_grad.conv2d_weight(x, w.shape, g, stride=args.stride, padding=args.pad)  # noqa: E731
    flops = 2.0 * args.batch * cout * out * out * args.channels * args.kernel ** 2
    seconds = median_seconds(torch, fn, args.iters, warmup=5)
    layout = "channels-last" if args.channels_last else "nchw"
    return "torch-cuda-cudnn", {"seconds": seconds, "gflops": flops / seconds / 1e9, "pass": args.pass_,
                                "layout": layout}


def bench_bandwidth(torch, args):
    numel, rows = args.numel, args.rows
    x = uniform(torch, (numel,), torch.float32, args.device, 1)
    if args.op == "axpb":
        y = torch.empty_like(x)
        b = torch.tensor(AXPB_B, device=args.device)
        fn = lambda: torch.add(b, x, alpha=AXPB_A, out=y)  # noqa: E731  b + a*x in one kernel
        moved = 8.0 * numel
        fn()
        check = y[:4096] - (x[:4096] * AXPB_A + AXPB_B)
        if check.abs().max().item() > 1e-5:
            raise RuntimeError("torch axpb check failed")
    elif args.op == "sum":
        fn = lambda: x.sum()  # noqa: E731
        moved = 4.0 * numel + 4
    else:
        if rows <= 0 or numel % rows:
            raise ValueError(f"rows {rows} must divide numel {numel}")
        view = x.view(rows, numel // rows)
        axis = 0 if args.op == "sum_axis0" else 1
        fn = lambda: view.sum(axis)  # noqa: E731
        moved = 4.0 * numel + 4.0 * (numel // rows if axis == 0 else rows)
    seconds = median_seconds(torch, fn, args.iters)
    dst = torch.empty_like(x)
    copy_seconds = median_seconds(torch, lambda: dst.copy_(x), args.iters)
    return "torch-cuda", {"seconds": seconds, "bytes": moved, "gbps": moved / seconds / 1e9,
                          "copy_seconds": copy_seconds, "copy_gbps": 8.0 * numel / copy_seconds / 1e9}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="op_kind", required=True)
    mm = sub.add_parser("matmul")
    mm.add_argument("--n", type=int, required=True)
    cv = sub.add_parser("conv2d")
    cv.add_argument("--batch", type=int, default=8)
    cv.add_argument("--channels", type=int, default=64, help="input channels")
    cv.add_argument("--cout", type=int, default=0, help="output channels (default: --channels)")
    cv.add_argument("--size", type=int, default=56)
    cv.add_argument("--kernel", type=int, default=3)
    cv.add_argument("--stride", type=int, default=1)
    cv.add_argument("--pad", type=int, default=1)
    cv.add_argument("--pass", dest="pass_", choices=("forward", "input-grad", "weight-grad"), default="forward")
    layout = cv.add_mutually_exclusive_group()
    layout.add_argument("--channels-last", dest="channels_last", action="store_true",
                        help="NHWC tensors (cuDNN's fast layout for 16-bit tensor cores)")
    layout.add_argument("--nchw", dest="channels_last", action="store_false")
    bw = sub.add_parser("bandwidth")
    bw.add_argument("--op", choices=("axpb", "sum", "sum_axis0", "sum_axis1"), default="axpb")
    bw.add_argument("--numel", type=int, default=1 << 28)
    bw.add_argument("--rows", type=int, default=1024)
    for p in (mm, cv, bw):
        p.add_argument("--dtype", default="float32")
        p.add_argument("--iters", type=int, default=5)
        p.add_argument("--device", default="cuda:0")
    return parser.parse_args()


def main():
    args = parse_args()
    head = {"peer": "torch-cuda", "op": args.op_kind}
    try:
        import torch
    except ImportError as e:
        print(json.dumps({**head, "error": f"torch not importable: {e}"}))
        return 2
    if not torch.cuda.is_available():
        print(json.dumps({**head, "error": "torch sees no CUDA device"}))
        return 2
    dtypes = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
    if args.dtype not in dtypes or (args.op_kind == "bandwidth" and args.dtype != "float32"):
        print(json.dumps({**head, "error": f"unsupported dtype {args.dtype} for {args.op_kind}"}))
        return 2
    torch.cuda.set_device(torch.device(args.device))
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    try:
        if args.op_kind == "matmul":
            peer, result = bench_matmul(torch, args, dtypes[args.dtype])
        elif args.op_kind == "conv2d":
            peer, result = bench_conv2d(torch, args, dtypes[args.dtype])
        else:
            peer, result = bench_bandwidth(torch, args)
    except Exception as e:  # noqa: BLE001  report any failure (OOM, bad shape) as the peer's error
        message = f"{type(e).__name__}: {e}".replace('"', "'").replace("\\", "/")  # petabox-bench reads no escapes
        print(json.dumps({**head, "error": message}))
        return 2
    print(json.dumps({**head, "peer": peer, "torch": torch.__version__,
                      "gpu": torch.cuda.get_device_name(torch.device(args.device)),
                      "dtype": args.dtype, **result}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
