# Shared by tests/gpu/bench.sh and tests/gpu/multi.sh (sourced, not run): the engine-only
# build of petabox-bench and the per-case runner. The sourcing script sets build, out, log,
# jsonl and start, and may set show (an extended regex of the output lines to echo).

# bench_build: configures and builds petabox-bench into $build; exits on failure. Like
# check.sh it needs .deps/googletest and .deps/nlohmann (copied from /usr/include/nlohmann;
# CMake finds it there when the system has none), carried to the GPU machine.
bench_build() {
  cmake -S . -B "$build" -G Ninja -DPETABOX_ENGINE_ONLY=ON \
    -DPETABOX_GTEST_SOURCE_DIR="$PWD/.deps/googletest" >"$out/configure.log" 2>&1 ||
    { tail -30 "$out/configure.log"; exit 1; }
  cmake --build "$build" --target petabox-bench -j"$(nproc)" >"$out/build.log" 2>&1 ||
    { grep -m20 -E "error" "$out/build.log"; exit 1; }
  echo "built petabox-bench in $(($(date +%s) - start)) s"
  bench="$build/bin/petabox-bench"
  : >"$log"
  : >"$jsonl"
  failures=0
}

# run LIMIT_S ARGS...: one case under `timeout`; its JSON lines go to $jsonl, and a failure
# (exit status, timeout) is recorded there as an error line too.
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
  grep -E "${show:-^(engine|peer|ratio|check|petabox-bench:)}" "$tmp" | cut -c1-220
  if [ "$rc" -ne 0 ]; then
    failures=$((failures + 1))
    local why="exit status $rc"
    [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && why="timed out after ${limit} s"
    local err
    err=$(grep -m1 -E 'petabox-bench: |terminate|Assertion|Segmentation|FAILED' "$tmp" | tr '"\\' "'/" | cut -c1-300)
    echo "    FAILED ($why): $err"
    printf '{"op":"%s","case":"%s","error":"%s: %s"}\n' "$1" "$*" "$why" "$err" >>"$jsonl"
  fi
  rm -f "$tmp"
  echo "    ($(($(date +%s) - t0)) s)"
}
