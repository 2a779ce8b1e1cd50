#!/usr/bin/env bash
# Runs on a lent multi-GPU machine (nvidia-h200-x4; -x2 runs the 2-GPU half, -x8 adds six of
# its GPUs, the reference box's count), in one call:
# builds petabox-bench in the engine-only configuration (as tests/gpu/bench.sh does), then
#   - all-reduce (engine two-shot, ring and direct) on 2, 4 and 6 GPUs (those the machine
#     has) for 1, 16 and 256 MB per GPU, against NCCL through torch.distributed on the same GPUs
#     (tests/bench/nccl_peer.py), and two-shot at 256 MB with other piece sizes (PIECES);
#   - data-parallel training steps (cnn with 256 and mlp with 1024 examples per GPU; Adam) on
#     1, 2, 4 and 6 GPUs: samples/s and scaling efficiency (samples/s on N over N times
#     samples/s on 1).
# NVLink multicast stays off (NCCL_NVLS_ENABLE=0). Writes under $OUT: env.txt (GPUs, driver,
# link topology, torch, NCCL), configure.log, build.log, multi.log (all output) and
# multi.jsonl (one JSON line per case); prints a summary table last.
# Usage, from the repository root: bash tests/gpu/multi.sh [quick]
#   quick: small sizes and few steps (to try the script itself).
set -uo pipefail
build=${BUILD_DIR:-/tmp/pb-build}
out=${OUT:-/tmp/pb-out}
mkdir -p "$out"
export PETABOX_CACHE_DIR=${PETABOX_CACHE_DIR:-/tmp/pb-cache}
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
export PYTHONUNBUFFERED=1
start=$(date +%s)

{
  date -u +"date %Y-%m-%dT%H:%M:%SZ"
  nvidia-smi --query-gpu=index,name,driver_version,memory.total,pci.bus_id --format=csv,noheader || true
  nvidia-smi topo -m 2>&1 | head -12 || true
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "nccl", ".".join(map(str, torch.cuda.nccl.version())), "gpus", torch.cuda.device_count()); print("p2p 0->1", torch.cuda.can_device_access_peer(0, 1) if torch.cuda.device_count() > 1 else None)' 2>&1 || true
  lscpu | grep -m1 "Model name" || true
} | tee "$out/env.txt"
gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || echo 0)

log="$out/multi.log"
jsonl="$out/multi.jsonl"
show='^(engine|peer|petabox-bench:)'
source tests/gpu/bench_common.sh
bench_build
echo "$gpus GPUs"

devices() {  # devices N -> CUDA:0,...,CUDA:N-1
  local list="" i
  for ((i = 0; i < $1; i++)); do list+="${list:+,}CUDA:$i"; done
  echo "$list"
}

if [ "${1:-}" = quick ]; then
  run 120 allreduce --devices "$(devices 2)" --sizes 1M --algo twoshot,ring,direct --iters 3
  run 240 train-step --model mlp --batch 64 --steps 3 --devices "$(devices 1)"
  run 240 train-step --model mlp --batch 64 --steps 3 --devices "$(devices 2)"
else
  for n in 2 4 6; do
    [ "$gpus" -ge "$n" ] || continue
    run 300 allreduce --devices "$(devices $n)" --sizes 1M,16M,256M --algo twoshot,ring,direct --iters 20
    for piece in ${PIECES:-8M 16M 64M 128M}; do  # two-shot piece sizes (32M ran above)
      run 200 allreduce --devices "$(devices $n)" --sizes 256M --algo twoshot --piece-bytes "$piece" --iters 20 --peer 0
    done
  done
  for model in cnn mlp; do
    for n in 1 2 4 6; do
      [ "$gpus" -ge "$n" ] || continue
      batch=${BATCH:-256}
      [ "$model" = mlp ] && batch=${MLP_BATCH:-1024}
      run 300 train-step --model "$model" --batch "$batch" --steps 20 --devices "$(devices $n)"
    done
  done
fi

echo "total $(($(date +%s) - start)) s; $failures case(s) failed"
python3 - "$jsonl" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
print("all-reduce (busbw GB/s; ratio = engine / NCCL)")
print(f"{'GPUs':>4} {'size':>6} {'algo':>6} {'piece':>6} {'engine':>8} {'nccl':>8} {'ratio':>6}  ms")
for r in rows:
    if r.get("op") != "allreduce" or "bytes" not in r:
        continue
    f = lambda v, p=1: "-" if v is None else f"{v:.{p}f}"
    print(f"{r['n']:>4} {r['bytes'] >> 20:>5}M {r['algo']:>6} {r['piece_bytes'] >> 20:>5}M {f(r['busbw_gbs']):>8} "
          f"{f(r['peer_busbw_gbs']):>8} {f(r['ratio'], 2):>6}  {f(r['seconds'] and r['seconds'] * 1e3, 3)}"
          f"{'' if r.get('correct') else '  WRONG'}")
steps = {(r["model"], r["n_devices"]): r for r in rows if r.get("op") == "train-step" and "n_devices" in r}
if steps:
    print("data-parallel train-step: samples/s, scaling efficiency = samples/s / (N x samples/s on 1 GPU)")
for (model, n), r in sorted(steps.items()):
    one = steps.get((model, 1), {}).get("samples_per_second")
    eff = r["samples_per_second"] / (n * one) if one else None
    print(f"{model:>4} {n:>2} GPUs  batch {r['global_batch']:>5}  {r['samples_per_second']:>10.1f} samples/s  "
          f"{r['seconds'] * 1e3:8.2f} ms/step  {r['kernels']:>4} kernels  efficiency {'-' if eff is None else f'{eff:.3f}'}")
for r in rows:
    if "error" in r and r.get("error"):
        print("FAILED:", r.get("case", r.get("op")), r["error"])
EOF
[ "$failures" -eq 0 ]
