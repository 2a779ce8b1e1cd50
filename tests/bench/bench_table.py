#!/usr/bin/env python3
"""Prints a short table of petabox-bench JSON lines (one per case, as tests/gpu/bench.sh
collects them): bench_table.py results.jsonl

Per row: the case, the engine's rate over its wall time (graph build + realize, as
petabox-bench reports it) and over its kernel time alone, the peer's rate, both ratios
engine/peer, and the correctness check. matmul and conv2d rates are TFLOP/s; bandwidth rates
are GB/s, with the peer's copy ceiling and the engine's fraction of it. Lines that are not
JSON objects are skipped; a case that failed shows its error.
"""
import json
import sys


def fmt(v, digits=3):
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "ok" if v else "WRONG"
    return f"{v:.{digits}g}"


def tflops(gflops):
    return None if gflops is None else gflops / 1e3


def case_name(r):
    if r.get("op") == "matmul":
        return f"matmul {r.get('n')} {r.get('dtype')}"
    if r.get("op") == "conv2d":
        return f"conv2d {r.get('layer') or r.get('shape')} {r.get('dtype', '')}".strip()
    if r.get("op") == "bandwidth":
        return f"bandwidth {r.get('case')} {r.get('shape') or r.get('numel')}"
    return str(r.get("op"))


def kernel_gflops(r):
    if r.get("kernel_gflops") is not None:
        return r["kernel_gflops"]
    if r.get("kernel_seconds"):
        return r["flops"] / r["kernel_seconds"] / 1e9
    return None


def row(r):
    name = case_name(r)
    if " " in str(r.get("case", "")):  # tests/gpu/bench.sh's line for a failed command
        name = r["case"][:60]
    if "error" in r:
        return [name, "ERROR: " + r["error"][:90], "", "", "", "", "", "FAIL"]
    if r.get("op") == "bandwidth":
        return [name, fmt(r.get("gbps")), fmt(r.get("kernel_gbps")), fmt(r.get("peer_gbps")),
                fmt(r.get("ratio")), fmt(r.get("kernel_ratio")),
                f"copy {fmt(r.get('copy_gbps'))}; engine/copy {fmt(r.get('copy_ratio'))} "
                f"(kernels {fmt(r.get('kernel_copy_ratio'))})", fmt(r.get("correct"))]
    kg = kernel_gflops(r)
    peer = r.get("peer_gflops")
    kernel_ratio = r.get("kernel_ratio")
    if kernel_ratio is None and kg is not None and peer and not r.get("ratio_error"):
        kernel_ratio = kg / peer
    note = r.get("peer", "") if peer is not None else "peer: " + str(r.get("peer_error"))[:60]
    if r.get("peer_blas_core"):  # the CPU peer's BLAS: core and threads, as the ratio's context
        note += f" ({r['peer_blas_core']}{' forced' if r.get('peer_blas_core_forced') else ''}, " \
                f"{r.get('peer_blas_threads')} thr)"
    if peer is not None and r.get("ratio_error"):
        note += " " + str(r["ratio_error"])[:60]
    return [name, fmt(tflops(r.get("gflops"))), fmt(tflops(kg)), fmt(tflops(peer)), fmt(r.get("ratio")),
            fmt(kernel_ratio), note, fmt(r.get("correct"))]


def main():
    rows = []
    with open(sys.argv[1]) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                rows.append(row(json.loads(line)))
            except (ValueError, KeyError, TypeError) as e:
                rows.append([line[:60], f"unreadable: {e}", "", "", "", "", "", "FAIL"])
    head = ["case", "engine", "engine(kern)", "peer", "ratio", "ratio(kern)", "note", "check"]
    widths = [max(len(str(x[i])) for x in rows + [head]) for i in range(len(head))]
    print("matmul/conv2d in TFLOP/s, bandwidth in GB/s; engine = wall time, (kern) = kernel time only")
    for x in [head] + rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(x, widths)).rstrip())


if __name__ == "__main__":
    sys.exit(main())
