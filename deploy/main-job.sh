#!/usr/bin/env bash
# The README's main job: starts petaboxd on its built-in default config (gRPC on
# 127.0.0.1:7480, data in ~/.local/share/petabox), submits a job spec with
# `petabox submit --watch` (a live progress bar, then the final accuracy), and stops the
# daemon (SIGTERM: it drains and exits). Exits with the CLI's code: 0 when the job
# succeeded, 4 when it failed or was cancelled, 3 for a server error.
#
#   deploy/main-job.sh [SPEC.yaml]     default: configs/jobs/fashion-mnist-mlp.yaml
#
# BUILD_DIR (default build/) says where petaboxd and petabox were built.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${BUILD_DIR:-build}/bin"
SPEC="${1:-configs/jobs/fashion-mnist-mlp.yaml}"

"$BIN/petaboxd" &
daemon=$!
stop_daemon() {
  kill -TERM "$daemon" 2>/dev/null || true
  wait "$daemon" 2>/dev/null || true
}
trap stop_daemon EXIT

# Wait until the daemon answers (it creates its owner token, then serves).
for _ in $(seq 1 150); do
  if ! kill -0 "$daemon" 2>/dev/null; then
    echo "main-job: petaboxd exited at start (see its messages above)" >&2
    exit 1
  fi
  "$BIN/petabox" box >/dev/null 2>&1 && break
  sleep 0.2
done

"$BIN/petabox" submit --watch "$SPEC"
