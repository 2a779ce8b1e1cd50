#!/usr/bin/env bash
# Runs here (a Debian 12 machine with apt), before tests/gpu/worker.sh is carried to the GPU
# machine: downloads the Debian packages petabox-worker builds against beyond the engine
# (yaml-cpp, zlib, and protobuf: headers, libprotobuf, protoc and the libprotoc it runs on)
# and extracts them into .deps/sysroot. The worker needs no gRPC (PETABOX_WORKER_ONLY).
# Usage, from the repository root: bash tests/gpu/sysroot.sh
set -euo pipefail
packages=(libyaml-cpp-dev libyaml-cpp0.7 zlib1g-dev libprotobuf-dev libprotobuf32 protobuf-compiler libprotoc32)
root="$PWD/.deps/sysroot"
debs="$PWD/.deps/debs"
mkdir -p "$root" "$debs"
(cd "$debs" && apt-get download "${packages[@]}")
for deb in "$debs"/*.deb; do dpkg -x "$deb" "$root"; done
echo "extracted ${#packages[@]} packages into $root"
