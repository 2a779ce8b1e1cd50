#!/usr/bin/env bash
# Installs the Debian 12 packages Petabox needs to build, test and benchmark.
# Idempotent: only missing packages are installed, and `apt-get update` runs only when
# something is missing. Runs as root, or through sudo when not root.
#
#   deploy/install-deps.sh           the default set (what CI installs)
#   deploy/install-deps.sh --bench   also the benchmark peers: python3-torch for
#                                    `petabox-bench train-step`, python3-torchvision and
#                                    python3-pil for `petabox-bench jpeg-loader` (python3-numpy,
#                                    the op peer, is in the default set; so is torch now, for
#                                    the ONNX tests).
set -euo pipefail

WITH_BENCH=0
for arg in "$@"; do
  case "$arg" in
    --bench) WITH_BENCH=1 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install-deps: unknown argument '$arg' (known: --bench)" >&2; exit 2 ;;
  esac
done

PACKAGES=(
  build-essential      # gcc, g++, make; the CPU device also compiles kernels with cc
  cmake
  ninja-build
  libgtest-dev         # GoogleTest
  python3              # benchmark peer (tests/bench/peer.py)
  python3-numpy        # benchmark peer
  libopenblas0-pthread # makes NumPy's BLAS OpenBLAS (the matmul peer)
  zlib1g-dev           # engine/data reads gzip-compressed datasets
  libturbojpeg0-dev    # engine/data decodes JPEG datasets (ImageNet layout) with TurboJPEG
  nlohmann-json3-dev   # JSON (header-only; engine/nn/json.h): safetensors headers, the HTTP API, --json
  libyaml-cpp-dev      # job specs and the daemon config
  # petaboxd and the petabox CLI:
  libgrpc++-dev        # gRPC (with reflection and the health service)
  protobuf-compiler-grpc # grpc_cpp_plugin
  libprotobuf-dev
  protobuf-compiler    # protoc
  libsqlite3-dev       # the job store
  libboost-dev         # Boost.Asio (header-only): the daemon's event loop
  prometheus-cpp-dev   # /metrics
  libcli11-dev         # the CLI's argument parser
  openssl              # tests make a self-signed certificate for the TLS test
  # Tests of metrics and the status page (tests/daemon/integration/metrics_test.cc and
  # status_page_test.cc start them on loopback; they fail, not skip, when these are missing):
  prometheus           # scrapes petaboxd with deploy/prometheus/prometheus.yml; PromQL checks
  chromium             # headless browser: loads the status page, takes a screenshot
  dataset-fashion-mnist # /usr/share/datasets/fashion-mnist: the example jobs' data
  # HIP toolchain, for checks that need no AMD GPU (~45 MB download, ~260 MB installed):
  # tests/engine/codegen/hip_compile_test.cc compiles the HIP dialect's kernels for gfx1100
  # with clang-15 + lld-15 + the ROCm device libraries + libamdhip64-dev's headers, and
  # runs Debian's hiprtc (ROCm 5.2, part of libamdhip64-5, pulled in by the -dev package).
  clang-15
  lld-15
  rocm-device-libs
  libamdhip64-dev
  # tests/fuzz (graph import under libFuzzer): clang-15's fuzzer, ASan and UBSan runtimes.
  libclang-common-15-dev
  # ONNX import (daemon/graph/onnx_import.*) compiles Debian's onnx.proto; its tests export
  # models with PyTorch (tests/daemon/graph/onnx_export_models.py) and generate ONNX's own
  # node tests (tests/daemon/graph/onnx_conformance/generate.py), and fail, not skip,
  # without these (python3-torch is a large download).
  libonnx-dev
  python3-torch
  python3-onnx
  libstb-dev           # stb_image: `petabox upload` decodes image folders (client/lib/image_folder.*)
)

# Benchmark peers, only with --bench (python3-numpy, the op peer, is in the default set).
BENCH_PACKAGES=(
  python3-torch        # training-step peer (tests/bench/torch_peer.py); pulls in numpy too
  python3-torchvision  # JPEG loader peer (tests/bench/jpeg_peer.py): torchvision transforms
  python3-pil          # ... and PIL's decoding and resizing
)
if [[ $WITH_BENCH -eq 1 ]]; then
  PACKAGES+=("${BENCH_PACKAGES[@]}")
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != "installed" ]]; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: not root and sudo is not available; install them as root" >&2
  exit 1
fi

echo "install-deps: installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
