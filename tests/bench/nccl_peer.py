#!/usr/bin/env python3
"""All-reduce peer for petabox-bench: NCCL through torch.distributed on the same GPUs.

  nccl_peer.py allreduce --devices N --sizes BYTES[,BYTES...] [--iters 20] [--warmup 5]

One process per GPU (cuda:0 .. cuda:N-1), the NCCL backend, a float32 sum all-reduce of
each size (bytes per GPU). Per size: --warmup untimed all-reduces, then --iters timed
ones, each between a barrier and torch.cuda.synchronize() on every rank, timed with CUDA
events on rank 0; the median is reported. busbw = bytes / seconds * 2(n-1)/n (NCCL's bus
bandwidth, as nccl-tests reports it). The sum is checked on every rank.

NVLink multicast (NVLS) stays off: NCCL_NVLS_ENABLE=0 is set for every rank (this
workplace's GPU machines require it).

Prints one JSON line: peer, torch, nccl, devices, and per size seconds_<bytes> and
busbw_gbs_<bytes>; "seconds" is the last size's. Exits 2 with a JSON line holding "error"
when torch, CUDA or enough GPUs are missing.
"""
import argparse
import json
import os
import statistics
import sys


def run_rank(rank, world, sizes, iters, warmup, port, queue):
    import torch
    import torch.distributed as dist
    os.environ["NCCL_NVLS_ENABLE"] = "0"
    torch.cuda.set_device(rank)
    dist.init_process_group("nccl", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                            device_id=torch.device("cuda", rank))
    out = {}
    try:
        for size in sizes:
            numel = size // 4
            x = torch.full((numel,), float(rank + 1), device="cuda", dtype=torch.float32)
            for _ in range(warmup):
                y = x.clone()
                dist.all_reduce(y)
            torch.cuda.synchronize()
            ok = bool(torch.all(y == world * (world + 1) / 2).item())
            times = []
            start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            for _ in range(iters):
                dist.barrier()
                torch.cuda.synchronize()
                start.record()
                dist.all_reduce(x)
                stop.record()
                torch.cuda.synchronize()
                times.append(start.elapsed_time(stop) / 1e3)
            out[size] = (statistics.median(times), ok)
    finally:
        dist.destroy_process_group()
    if rank == 0:
        queue.put(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="op", required=True)
    ar = sub.add_parser("allreduce")
    ar.add_argument("--devices", type=int, required=True)
    ar.add_argument("--sizes", required=True)
    ar.add_argument("--iters", type=int, default=20)
    ar.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()
    os.environ["NCCL_NVLS_ENABLE"] = "0"
    sizes = [int(s) for s in args.sizes.split(",") if s]
    head = {"peer": "nccl", "op": "allreduce", "devices": args.devices}
    try:
        import torch
        import torch.multiprocessing as mp
    except ImportError as e:
        print(json.dumps({**head, "error": f"torch unavailable: {e}"}))
        return 2
    if not torch.cuda.is_available() or torch.cuda.device_count() < args.devices:
        print(json.dumps({**head, "error": f"need {args.devices} CUDA GPUs, torch sees "
                          f"{torch.cuda.device_count() if torch.cuda.is_available() else 0}"}))
        return 2
    ctx = mp.get_context("spawn")
    queue = ctx.SimpleQueue()
    port = 29500 + os.getpid() % 1000
    mp.start_processes(run_rank, args=(args.devices, sizes, args.iters, args.warmup, port, queue),
                       nprocs=args.devices, join=True, start_method="spawn")
    results = queue.get()
    report = {**head, "torch": torch.__version__, "nccl": ".".join(map(str, torch.cuda.nccl.version()))}
    n = args.devices
    for size in sizes:
        seconds, ok = results[size]
        report[f"seconds_{size}"] = seconds
        report[f"busbw_gbs_{size}"] = size / seconds * 2 * (n - 1) / n / 1e9
        report[f"correct_{size}"] = ok
        report["seconds"] = seconds
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
