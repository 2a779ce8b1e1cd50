#!/usr/bin/env bash
# Telemetry overhead: the same training job through petaboxd with telemetry sampling every
# 1 s (workers report kernel time and FLOPs every 0.5 s, /metrics and /api/box scraped every
# 5 s as Prometheus and the status page would) and with telemetry off
# (telemetry.interval_seconds: 0). Prints each run's steady-state samples/s and the ratio
# on/off; the goal is >= 0.99.
#
#   tests/bench/telemetry_overhead.sh [BUILD_DIR] [ROUNDS] [STEPS]
#
# Each run also reports the CPU time petaboxd itself used per second of the job (all its
# threads: event storage, and in the "on" mode the sampler, usage events and scrapes), a
# low-noise view of what telemetry costs the box.
#
# BUILD_DIR (default build) holds bin/petaboxd, bin/petabox-worker and bin/petabox. Each
# round runs both modes, alternating which goes first, on a fresh daemon each time; the
# kernel cache ($PETABOX_CACHE_DIR, default a temporary one) is warmed first, so no run
# compiles. Samples/s are over the progress intervals after the first WARMUP_STEPS (JIT
# capture and first launches excluded): total examples / total step time. The job is
# Fashion-MNIST's MLP (Debian's dataset-fashion-mnist), batch 128, no evaluation, no
# checkpoints while training. Needs curl.
set -euo pipefail

BUILD=${1:-build}
ROUNDS=${2:-5}
STEPS=${3:-3000}
WARMUP_STEPS=${WARMUP_STEPS:-200}
BIN=$(cd "$BUILD/bin" && pwd)
WORK=$(mktemp -d /tmp/petabox-overhead-XXXXXX)
export PETABOX_CACHE_DIR=${PETABOX_CACHE_DIR:-$WORK/kernel-cache}
DAEMON_PID=""
SCRAPER_PID=""

cleanup() {
  [[ -n "$SCRAPER_PID" ]] && kill "$SCRAPER_PID" 2>/dev/null || true
  [[ -n "$DAEMON_PID" ]] && kill -TERM "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cat > "$WORK/job.yaml" <<EOF
name: telemetry-overhead
model: mlp
dataset: {name: fashion-mnist}
epochs: 1000
max_steps: $STEPS
global_batch_size: 128
optimizer: {name: adam, lr: 1.0e-3}
seed: 1
eval: {per_epoch: false}
device_count: 1
EOF

# CPU seconds (user + system) process PID has used so far.
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f\n", ($14 + $15) / hz }' "/proc/$1/stat"; }

# run MODE (on|off): prints "SAMPLES_PER_SECOND DAEMON_CPU_PER_SECOND" of one job on a fresh
# daemon.
run() {
  local mode=$1 interval=0 dir="$WORK/run-$RANDOM"
  [[ $mode == on ]] && interval=1
  local grpc http
  grpc=$(free_port)
  http=$(free_port)
  mkdir -p "$dir"
  cat > "$dir/petaboxd.yaml" <<EOF
listen: 127.0.0.1:$grpc
http_listen: 127.0.0.1:$http
data_dir: $dir/data
devices: [CPU:0]
workers: {checkpoint_interval_steps: 0}
telemetry: {interval_seconds: $interval}
EOF
  "$BIN/petaboxd" --config "$dir/petaboxd.yaml" 2> "$dir/petaboxd.log" &
  DAEMON_PID=$!
  for _ in $(seq 100); do [[ -s "$dir/data/owner.token" ]] && curl -sf "127.0.0.1:$http/healthz" >/dev/null && break; sleep 0.1; done
  if [[ $mode == on ]]; then
    (while sleep 5; do curl -sf "127.0.0.1:$http/metrics" >/dev/null; curl -sf "127.0.0.1:$http/api/box" >/dev/null; done) &
    SCRAPER_PID=$!
  fi
  local cli=("$BIN/petabox" --server "127.0.0.1:$grpc" --data-dir "$dir/data")
  local job cpu0 cpu1 t0 t1
  cpu0=$(cpu_seconds "$DAEMON_PID")
  t0=$(date +%s.%N)
  job=$("${cli[@]}" submit --watch "$WORK/job.yaml" | grep -o 'jobs/j-[0-9a-f]*' | head -1)
  t1=$(date +%s.%N)
  cpu1=$(cpu_seconds "$DAEMON_PID")
  [[ -n "$SCRAPER_PID" ]] && kill "$SCRAPER_PID" 2>/dev/null && wait "$SCRAPER_PID" 2>/dev/null || true
  SCRAPER_PID=""
  if [[ $mode == on ]]; then  # what the meter counted: kernels (observer calls) and kernel time
    curl -sf "127.0.0.1:$http/metrics" | awk '/^petabox_device_(kernels|busy_seconds)_total\{device="CPU:0"\}/ {printf "  %s %s\n", $1, $2}' >&2
  fi
  # Progress lines: "step S/T  epoch E  loss L  lr R  N samples/s ..." every 10 steps.
  "${cli[@]}" logs "$job" | awk -v warm="$WARMUP_STEPS" -v batch=128 '
    /^step [0-9]+\/[0-9]+ .* samples\/s/ {
      split($2, st, "/"); step = st[1] + 0
      for (i = 1; i < NF; i++) if ($(i + 1) == "samples/s") sps = $i + 0
      if (step > warm && sps > 0 && step > last) { samples += (step - last) * batch; secs += (step - last) * batch / sps }
      last = step
    }
    END { if (secs > 0) printf "%.1f ", samples / secs; else printf "nan " }'
  python3 -c "print(f'{($cpu1 - $cpu0) / ($t1 - $t0):.5f}')"
  kill -TERM "$DAEMON_PID" && wait "$DAEMON_PID" 2>/dev/null || true
  DAEMON_PID=""
}

echo "telemetry overhead: $ROUNDS rounds of $STEPS steps (mlp, batch 128, CPU:0), build $BIN" >&2
run off > /dev/null  # warms the kernel cache
results=()
for r in $(seq "$ROUNDS"); do
  if (( r % 2 )); then off=$(run off); on=$(run on); else on=$(run on); off=$(run off); fi
  read -r off_sps off_cpu <<< "$off"
  read -r on_sps on_cpu <<< "$on"
  results+=("$off_sps,$on_sps,$off_cpu,$on_cpu")
  echo "round $r: off $off_sps samples/s, on $on_sps samples/s, on/off $(python3 -c "print(f'{$on_sps / $off_sps:.4f}')");" \
       "petaboxd CPU per second: off $off_cpu, on $on_cpu"
done
python3 - "${results[@]}" <<'EOF'
import statistics, sys
rows = [tuple(float(v) for v in arg.split(",")) for arg in sys.argv[1:]]
r = [on / off for off, on, _, _ in rows]
print(f"on/off samples/s: median {statistics.median(r):.4f}, mean {statistics.mean(r):.4f}, "
      f"min {min(r):.4f}, max {max(r):.4f} over {len(r)} rounds (goal >= 0.99)")
off_cpu = statistics.mean(c for _, _, c, _ in rows)
on_cpu = statistics.mean(c for _, _, _, c in rows)
print(f"petaboxd CPU seconds per second of training: off {off_cpu:.4f}, on {on_cpu:.4f} "
      f"(telemetry adds {on_cpu - off_cpu:+.4f} of one core)")
EOF
