#!/usr/bin/env bash
# Runs on the lent GPU machine (see README "GPUs"): builds the engine-only configuration
# with CMake alone and runs the device and engine suites, where the default device is
# CUDA:0. Needs GoogleTest's sources in .deps/googletest and nlohmann/json's headers in
# .deps/nlohmann (a copy of /usr/include/nlohmann; both carried, see README "GPUs"), unless
# the machine has them installed.
# Usage, from the repository root: bash tests/gpu/check.sh [gtest filter]
set -uo pipefail
build=${BUILD_DIR:-/tmp/pb-build}
out=${OUT:-/tmp/pb-out}
mkdir -p "$out"
export PETABOX_CACHE_DIR=${PETABOX_CACHE_DIR:-/tmp/pb-cache}
cmake -S . -B "$build" -G Ninja -DPETABOX_ENGINE_ONLY=ON -DPETABOX_GTEST_SOURCE_DIR="$PWD/.deps/googletest" \
  >"$out/configure.log" 2>&1 || { tail -30 "$out/configure.log"; exit 1; }
cmake --build "$build" -j"$(nproc)" >"$out/build.log" 2>&1 || { grep -m20 -E "error" "$out/build.log"; exit 1; }
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
"$build/bin/petabox_devices_tests" >"$out/devices_tests.log" 2>&1
echo "devices: $(tail -1 "$out/devices_tests.log")"
# The engine suite runs with the tensor-core path on (PETABOX_TENSOR_CORES=1): every 16-bit
# matmul and convolution of the suite then runs on the tensor cores of sm_80+ cards.
PETABOX_TENSOR_CORES=1 "$build/bin/petabox_engine_tests" --gtest_filter="${1:-*}" >"$out/engine_tests.log" 2>&1
echo "engine: $(grep -E '^\[  (PASSED|FAILED) ' "$out/engine_tests.log" | head -2 | tr '\n' ' ')"
grep -E '^\[  FAILED  \]' "$out/engine_tests.log" | sort -u | head -60
