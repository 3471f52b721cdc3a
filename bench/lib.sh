# What the bench scripts share; sourced, with ROOT set to the checkout and BENCH_NAME to the
# prefix of log lines.

log() { echo "[${BENCH_NAME:-bench} $(date +%T)] $*" >&2; }

# PORTMAN, or build-bench/portman, built in Release when missing (before any network namespace:
# the build needs nothing from the network, but the namespace has no route to anything).
ensure_portman() {
  PORTMAN=${PORTMAN:-$ROOT/build-bench/portman}
  if [[ ! -x $PORTMAN ]]; then
    log "building portman into $ROOT/build-bench"
    cmake -S "$ROOT" -B "$ROOT/build-bench" -G Ninja -DCMAKE_BUILD_TYPE=Release >&2
    cmake --build "$ROOT/build-bench" --target portman >&2
  fi
}

# What an agent benchmark needs before it enters its namespace: root, node_exporter (sets
# NODE_EXPORTER, default /usr/bin/prometheus-node-exporter) and each TOOL; else one line, exit 2.
require_agent_bench() {  # SCRIPT TOOL...
  local script=$1 tool
  shift
  [[ $(id -u) == 0 ]] || { echo "$script: needs root (unshare -n, every process's /proc)" >&2; exit 2; }
  NODE_EXPORTER=${NODE_EXPORTER:-/usr/bin/prometheus-node-exporter}
  [[ -x $NODE_EXPORTER ]] ||
    { echo "$script: $NODE_EXPORTER missing (apt-get install prometheus-node-exporter)" >&2; exit 2; }
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "$script: $tool is missing" >&2; exit 2; }
  done
}

# Every process a bench script starts, by pid, stopped on exit (`trap stop_all EXIT`): TERM, up
# to 3 s, then KILL. Inside a network namespace, the namespace goes with the last of them.
declare -A PIDS=()
track() { PIDS[$1]=1; }
stop_pid() {  # PID
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "PIDS[$pid]"
}
stop_all() {
  local pid
  for pid in "${!PIDS[@]}"; do stop_pid "$pid"; done
}

# The core benchmark's host state (bench/hoststate.cpp: 2,000 TCP + 200 UDP sockets over 50
# processes, 300 idle processes x 30 files, owners mixed among them) started in the background
# and its registry written: OUT/hoststate, OUT/layout, OUT/registry.json. Sets HS_PID.
start_hoststate() {  # OUT
  local out=$1
  g++ -std=c++20 -O2 -Wall -Wextra -o "$out/hoststate" "$ROOT/bench/hoststate.cpp"
  log "host state: 2,000 TCP + 200 UDP over 50 processes, 300 idle x 30 files"
  "$out/hoststate" --tcp 2000 --udp 200 --listeners 50 --idle 300 --files 30 \
    --seed "${HOSTSTATE_SEED:-42}" --layout "$out/layout" >"$out/hoststate.ready" &
  HS_PID=$!
  track "$HS_PID"
  for _ in $(seq 1200); do
    grep -q READY "$out/hoststate.ready" 2>/dev/null && break
    kill -0 "$HS_PID" 2>/dev/null || { log "hoststate failed"; return 1; }
    sleep 0.1
  done
  grep -q READY "$out/hoststate.ready" || { log "hoststate not ready after 120 s"; return 1; }
  python3 "$ROOT/bench/make_registry.py" "$out/layout" "$out/registry.json"
}

# Waits until URL answers (up to 10 s, or as long as PID lives under a slow tool like valgrind:
# up to WAIT_SECONDS, default 10).
wait_http() {  # URL PID
  local i
  for i in $(seq $((${WAIT_SECONDS:-10} * 10))); do
    curl -sf -o /dev/null --max-time 5 "$1" && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
