#!/usr/bin/env bash
# The agent under long load, and under Valgrind: is its memory flat, are there leaks or errors?
#
#   bench/agent_soak.sh load [--duration S] [--connections N] [--out DIR]
#   bench/agent_soak.sh valgrind [--duration S] [--out DIR]
#
#   load      wrk -t2 -cN --latency against /metrics for S seconds (default 300 s, 50
#             connections); the agent's VmRSS is read before the load, every 10 s during it and
#             after it. Prints requests/s, latency percentiles and the memory series.
#   valgrind  the agent under `valgrind --tool=memcheck --leak-check=full` for S seconds
#             (default 60 s) while wrk -t1 -c4 scrapes /metrics, then SIGTERM; prints Valgrind's
#             error and leak summaries. Exits 1 on any error or definitely/indirectly lost block.
#
# Inside a fresh network namespace, on the core benchmark's host state (bench/lib.sh
# start_hoststate), with the default --scan.min-interval (2 s), as Prometheus would scrape it.
# Environment: PORTMAN (default build-bench/portman, built if missing), OWNERS_METHOD (default
# auto), HOSTSTATE_SEED. Needs root, wrk, curl, g++, python3 (and valgrind for `valgrind`).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BENCH_NAME=soak
source "$HERE/lib.sh"

usage() { sed -n '3,5p' "$0" | sed 's/^# *//' >&2; exit 2; }
MODE=${1:-}
[[ $MODE == load || $MODE == valgrind ]] || usage
shift
DURATION=
CONNECTIONS=50
OUT=
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) DURATION=$2; shift ;;
    --connections) CONNECTIONS=$2; shift ;;
    --out) OUT=$2; shift ;;
    *) usage ;;
  esac
  shift
done
[[ -n $DURATION ]] || { [[ $MODE == load ]] && DURATION=300 || DURATION=60; }

if [[ ${BENCH_IN_NETNS:-} != 1 ]]; then
  [[ $(id -u) == 0 ]] || { echo "agent_soak.sh: needs root (unshare -n, every process's /proc)" >&2; exit 2; }
  tools=(curl wrk python3 g++ unshare ip)
  [[ $MODE == valgrind ]] && tools+=(valgrind)
  for tool in "${tools[@]}"; do
    command -v "$tool" >/dev/null || { echo "agent_soak.sh: $tool is missing" >&2; exit 2; }
  done
  ensure_portman
  [[ -n $OUT ]] || OUT=$(mktemp -d /tmp/portman-soak.XXXXXX)
  mkdir -p "$OUT"
  export PORTMAN OUT
  exec unshare -n timeout --kill-after=30 $((DURATION + 600)) env BENCH_IN_NETNS=1 \
    bash "$0" "$MODE" --duration "$DURATION" --connections "$CONNECTIONS" --out "$OUT"
fi

# ---- inside the fresh network namespace ---------------------------------------------------
ip link set lo up
trap stop_all EXIT
trap 'log "stopped"; exit 130' INT TERM
log "raw results in $OUT"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
start_hoststate "$OUT" || exit 1

URL=http://127.0.0.1:9097
agent=(agent --web.listen-address 127.0.0.1:9097 --registry "$OUT/registry.json"
       --owners.method "${OWNERS_METHOD:-auto}" --log.level warn)
rss_of() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

if [[ $MODE == load ]]; then
  PORTMAN_CONFIG=/dev/null "$PORTMAN" "${agent[@]}" 2>"$OUT/agent.stderr" &
  AGENT=$!; track "$AGENT"
  wait_http "$URL/healthz" "$AGENT" || { log "the agent did not answer; see $OUT/agent.stderr"; exit 1; }
  for _ in 1 2 3 4 5; do curl -s -o /dev/null --max-time 10 "$URL/metrics"; done
  SERIES=$(curl -s --max-time 10 "$URL/metrics" | grep -vc '^#')
  echo "0 $(rss_of "$AGENT")" >"$OUT/rss.txt"
  log "wrk -t2 -c$CONNECTIONS -d${DURATION}s against /metrics ($SERIES series)"
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s --latency "$URL/metrics" >"$OUT/wrk.txt" 2>&1 &
  WRK=$!; track "$WRK"
  T0=$(date +%s)
  while kill -0 "$WRK" 2>/dev/null; do
    sleep 10
    kill -0 "$AGENT" 2>/dev/null || { log "the agent died; see $OUT/agent.stderr"; exit 1; }
    echo "$(($(date +%s) - T0)) $(rss_of "$AGENT")" >>"$OUT/rss.txt"
  done
  wait "$WRK" || true
  sleep 5  # the connections closed: what the agent keeps
  echo "after $(rss_of "$AGENT")" >>"$OUT/rss.txt"
  echo "# portman agent: wrk -t2 -c$CONNECTIONS -d${DURATION}s on /metrics"
  echo
  echo "$(date -u +%F), $(nproc) cores, kernel $(uname -r), load average at start $LOAD_START, at end $(cut -d' ' -f1-3 /proc/loadavg); $SERIES series per scrape; owners: ${OWNERS_METHOD:-auto}"
  echo
  grep -E 'Requests/sec|requests in|Socket errors|Non-2xx|^ +(50|75|90|99)%' "$OUT/wrk.txt" | sed 's/^ */    /'
  echo
  echo "VmRSS (KiB) by second of the run: $(tr '\n' ' ' <"$OUT/rss.txt")"
  exit 0
fi

# ---- valgrind -----------------------------------------------------------------------------
VG_LOG=$OUT/valgrind.txt
WAIT_SECONDS=120
PORTMAN_CONFIG=/dev/null valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect \
  --errors-for-leak-kinds=definite,indirect --track-fds=no --log-file="$VG_LOG" \
  "$PORTMAN" "${agent[@]}" 2>"$OUT/agent.stderr" &
AGENT=$!; track "$AGENT"
wait_http "$URL/healthz" "$AGENT" || { log "the agent under valgrind did not answer; see $VG_LOG"; exit 1; }
log "wrk -t1 -c4 -d${DURATION}s against /metrics, the agent under memcheck"
wrk -t1 -c4 -d"${DURATION}s" --timeout 30s "$URL/metrics" >"$OUT/wrk.txt" 2>&1 || true
curl -s -o /dev/null --max-time 30 "$URL/api/scan" || true
kill -TERM "$AGENT"
for _ in $(seq 600); do kill -0 "$AGENT" 2>/dev/null || break; sleep 0.1; done
wait "$AGENT" 2>/dev/null && STATUS=0 || STATUS=$?
unset "PIDS[$AGENT]"
echo "# portman agent under Valgrind memcheck, ${DURATION}s of wrk -t1 -c4 on /metrics"
echo
echo "$(date -u +%F), $(valgrind --version), exit status after SIGTERM: $STATUS"
grep -E 'Requests/sec|requests in' "$OUT/wrk.txt" | sed 's/^ */    /'
grep -E 'ERROR SUMMARY|definitely lost|indirectly lost|possibly lost|still reachable|All heap blocks' "$VG_LOG" | sed 's/^==[0-9]*== */    /'
grep -q 'ERROR SUMMARY: 0 errors' "$VG_LOG" || { log "memcheck found errors: $VG_LOG"; exit 1; }
[[ $STATUS == 0 ]] || { log "the agent exited $STATUS after SIGTERM"; exit 1; }
