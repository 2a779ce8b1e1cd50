#!/usr/bin/env bash
# Runs on the lent GPU machine: builds petabox-worker alone (-DPETABOX_WORKER_ONLY=ON: the
# engine plus protobuf and yaml-cpp, no gRPC) against yaml-cpp, zlib and protobuf (headers,
# libprotobuf, protoc) carried in .deps/sysroot, which tests/gpu/sysroot.sh extracts from
# Debian's packages; nlohmann/json's headers in .deps/nlohmann; Fashion-MNIST carried in
# .deps/fashion-mnist. Then it trains the example job specs on CUDA:0, the events as JSON
# lines in $OUT/<model>-events.jsonl.
# Usage, from the repository root: bash tests/gpu/worker.sh [mlp|cnn ...]
set -uo pipefail
out=${OUT:-/tmp/pb-out}
build=${BUILD_DIR:-/tmp/pb-worker-build}
sys="$PWD/.deps/sysroot/usr"
mkdir -p "$out"
export PETABOX_CACHE_DIR=${PETABOX_CACHE_DIR:-/tmp/pb-cache}
export LD_LIBRARY_PATH="$sys/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
zlib=()
if [[ ! -f /usr/include/zlib.h ]]; then
  zlib=(-DZLIB_INCLUDE_DIR="$sys/include" -DZLIB_LIBRARY="$(ls /usr/lib/x86_64-linux-gnu/libz.so.1 /lib/x86_64-linux-gnu/libz.so.1 2>/dev/null | head -1)")
fi
# protoc runs at build time from the sysroot (its libprotoc and libprotobuf through
# LD_LIBRARY_PATH above).
protobuf=(-DProtobuf_INCLUDE_DIR="$sys/include" -DProtobuf_LIBRARY="$sys/lib/x86_64-linux-gnu/libprotobuf.so"
          -DProtobuf_PROTOC_EXECUTABLE="$sys/bin/protoc")
cmake -S . -B "$build" -G Ninja -DPETABOX_WORKER_ONLY=ON -DPETABOX_BUILD_TESTS=OFF \
  -Dyaml-cpp_DIR="$sys/lib/x86_64-linux-gnu/cmake/yaml-cpp" "${protobuf[@]}" \
  "${zlib[@]}" >"$out/worker-configure.log" 2>&1 || { tail -30 "$out/worker-configure.log"; exit 1; }
cmake --build "$build" -j"$(nproc)" --target petabox-worker >"$out/worker-build.log" 2>&1 ||
  { grep -m20 error "$out/worker-build.log"; exit 1; }
for model in "${@:-mlp cnn}"; do
  for m in $model; do
    spec="$out/fashion-mnist-$m-cuda.yaml"
    sed -e 's|devices: \["CPU:0"\]|devices: ["CUDA:0"]|' \
        -e "s|^  name: fashion-mnist.*|  name: fashion-mnist\n  dir: $PWD/.deps/fashion-mnist|" \
        "configs/jobs/fashion-mnist-$m.yaml" >"$spec"
    start=$(date +%s)
    "$build/bin/petabox-worker" --job "$spec" --json --events "$out/$m-events.jsonl" >"$out/$m.out" 2>&1
    echo "$m on CUDA:0: exit $? in $(( $(date +%s) - start )) s: $(tail -1 "$out/$m.out")"
  done
done
