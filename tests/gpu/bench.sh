#!/usr/bin/env bash
# Runs on the lent GPU machine (see README "GPUs"), in one call: builds petabox-bench in the
# engine-only configuration (as tests/gpu/check.sh does) and runs the GPU benchmark set on
# the default device (CUDA:0) against PyTorch there (tests/bench/torch_gpu_peer.py):
# matmul 4096 and 8192 in float32, float16 and bfloat16; the bandwidth ops (y = x*a+b and
# the sums) against torch and its copy ceiling; the ResNet-50 conv2d layers at batch 32.
# Each case runs under `timeout`, so one slow or hung case costs at most its limit.
# Writes under $OUT: env.txt (GPU, driver, torch), configure.log, build.log, bench.log (all
# output) and bench.jsonl (one JSON line per case); prints a short table last.
# Usage, from the repository root: bash tests/gpu/bench.sh [quick|tc]
#   quick: small sizes (seconds), to try the script itself.
#   tc:    the tensor-core set (issue 14): 16-bit matmul 4096 and 8192 with the tensor cores
#          (PETABOX_TENSOR_CORES=1) and without, then every ResNet-50 convolution at batch 256
#          in bfloat16, forward and both gradients, with the tensor cores. About 8 minutes.
set -uo pipefail
build=${BUILD_DIR:-/tmp/pb-build}
out=${OUT:-/tmp/pb-out}
mkdir -p "$out"
export PETABOX_CACHE_DIR=${PETABOX_CACHE_DIR:-/tmp/pb-cache}
export PYTHONUNBUFFERED=1
start=$(date +%s)

{
  date -u +"date %Y-%m-%dT%H:%M:%SZ"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv,noheader || true
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version(), torch.cuda.get_device_name(0))' 2>&1 || true
  lscpu | grep -m1 "Model name" || true
} | tee "$out/env.txt"

log="$out/bench.log"
jsonl="$out/bench.jsonl"
source tests/gpu/bench_common.sh
bench_build

if [ "${1:-}" = tc ]; then
  for n in 4096 8192; do
    for dtype in bfloat16 float16; do
      PETABOX_TENSOR_CORES=1 run 90 matmul --n "$n" --dtype "$dtype" --iters 5
    done
  done
  run 90 matmul --n 4096 --dtype bfloat16 --iters 3  # CUDA cores, for the record
  PETABOX_TENSOR_CORES=1 run 420 conv2d --resnet50 --batch 256 --dtype bfloat16 --pass all --iters 3
elif [ "${1:-}" = quick ]; then
  run 60 matmul --n 256 --dtype float32 --iters 2
  run 60 matmul --n 256 --dtype bfloat16 --iters 2
  run 60 bandwidth --op axpb,sum_axis0,sum_axis1,sum --numel 1048576 --rows 256 --iters 2
  run 120 conv2d --resnet50 --batch 2 --iters 1
else
  for dtype in float32 float16 bfloat16; do run 90 matmul --n 4096 --dtype "$dtype" --iters 5; done
  run 150 bandwidth --op axpb,sum_axis0,sum_axis1 --numel 268435456 --rows 1024 --iters 10
  run 240 conv2d --resnet50 --batch 32 --iters 5
  for dtype in float32 float16 bfloat16; do run 150 matmul --n 8192 --dtype "$dtype" --iters 3; done
  # The whole-tensor sum last: the engine reduces it to one value in a single GPU thread.
  run 60 bandwidth --op sum --numel 16777216 --iters 2
fi

echo "total $(($(date +%s) - start)) s; $failures case(s) failed"
python3 tests/bench/bench_table.py "$jsonl"
[ "$failures" -eq 0 ]
