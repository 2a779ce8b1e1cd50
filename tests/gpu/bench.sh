#!/usr/bin/env bash
# Runs on the lent GPU machine (see README "GPUs"), in one call: builds petabox-bench in the
# engine-only configuration (as tests/gpu/check.sh does) and runs the GPU benchmark set on
# the default device (CUDA:0) against PyTorch there (tests/bench/torch_gpu_peer.py):
# matmul 4096 and 8192 in float32, float16 and bfloat16; the bandwidth ops (y = x*a+b and
# the sums) against torch and its copy ceiling; the ResNet-50 conv2d layers at batch 32.
# Each case runs under `timeout`, so one slow or hung case costs at most its limit.
# Writes under $OUT: env.txt (GPU, driver, torch), configure.log, build.log, bench.log (all
# output) and bench.jsonl (one JSON line per case); prints a short table last.
# Usage, from the repository root: bash tests/gpu/bench.sh [quick]
#   quick: small sizes (seconds), to try the script itself.
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

cmake -S . -B "$build" -G Ninja -DPETABOX_ENGINE_ONLY=ON \
  -DPETABOX_GTEST_SOURCE_DIR="$PWD/.deps/googletest" >"$out/configure.log" 2>&1 ||
  { tail -30 "$out/configure.log"; exit 1; }
cmake --build "$build" --target petabox-bench -j"$(nproc)" >"$out/build.log" 2>&1 ||
  { grep -m20 -E "error" "$out/build.log"; exit 1; }
echo "built petabox-bench in $(($(date +%s) - start)) s"

bench="$build/bin/petabox-bench"
log="$out/bench.log"
jsonl="$out/bench.jsonl"
: >"$log"
: >"$jsonl"
failures=0

# run LIMIT_S ARGS...: one case under `timeout`; its JSON lines go to bench.jsonl, and a
# failure (exit status, timeout) is recorded there as an error line too.
run() {
  local limit=$1
  shift
  local t0 tmp rc
  t0=$(date +%s)
  tmp=$(mktemp)
  echo "=== petabox-bench $*" | tee -a "$log"
  timeout --kill-after=10 "$limit" "$bench" "$@" >"$tmp" 2>&1
  rc=$?
  cat "$tmp" >>"$log"
  grep '^{' "$tmp" >>"$jsonl"
  grep -E '^(engine|peer|ratio|check|petabox-bench:)' "$tmp" | cut -c1-220
  if [ "$rc" -ne 0 ]; then
    failures=$((failures + 1))
    local why="exit status $rc"
    [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && why="timed out after ${limit} s"
    local err
    err=$(grep -m1 -E 'petabox-bench: |terminate|Assertion|Segmentation' "$tmp" | tr '"\\' "'/" | cut -c1-300)
    echo "    FAILED ($why): $err"
    printf '{"op":"%s","case":"%s","error":"%s: %s"}\n' "$1" "$*" "$why" "$err" >>"$jsonl"
  fi
  rm -f "$tmp"
  echo "    ($(($(date +%s) - t0)) s)"
}

if [ "${1:-}" = quick ]; then
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
