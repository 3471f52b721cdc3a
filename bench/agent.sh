#!/usr/bin/env bash
# portman agent benchmark: `portman agent` against prometheus-node-exporter, side by side, in one run.
#
#   bench/agent.sh [--scrapes N] [--pause S] [--wrk-duration D] [--wrk-passes N]
#                  [--cpu-scrapes N] [--strace-scrapes N] [--no-profile] [--out DIR]
#
#   --scrapes N         single-client scrapes per target and encoding (default 200)
#   --pause S           pause after each round of single-client scrapes (default 0.05 s)
#   --wrk-duration D    length of each wrk run (default 15s)
#   --wrk-passes N      wrk passes, every other one in reverse target order (default 2)
#   --cpu-scrapes N     sequential scrapes per target for the CPU-per-scrape figures (default 100)
#   --strace-scrapes N  scrapes per target under strace -c (default 50)
#   --no-profile        skip strace and perf
#   --out DIR           where raw results go (default: a new /tmp/portman-agent-bench.XXXXXX)
#
# Environment: PORTMAN (binary; default build-bench/portman, built if missing), NODE_EXPORTER
# (default /usr/bin/prometheus-node-exporter), HOSTSTATE_SEED (default 42), BENCH_TIME_LIMIT
# (seconds, default 900: `timeout` stops the run after that, and the run cleans up),
# OWNERS_METHOD (default auto: the BPF iterator where the kernel loads it; procfs: the /proc walk),
# given to both portman agents as --owners.method.
#
# Inside a fresh network namespace (unshare -n, lo up; no traffic leaves it), on the core
# benchmark's host state (2,000 TCP + 200 UDP sockets over 50 processes, 300 idle processes x 30
# files; bench/hoststate.cpp, registry from bench/make_registry.py), three exporters run at once:
#   node_exporter  127.0.0.1:9100  default collectors
#   portman 2s     127.0.0.1:9097  portman agent, default --scan.min-interval 2s
#   portman 0s     127.0.0.1:9098  portman agent --scan.min-interval 0s (a fresh scan per scrape)
# and are measured in turn, interleaved where the measurement allows it:
#   1. single-client latency: rounds of one curl scrape of each target, plain and gzip, the order
#      rotated round by round, a short pause after each round; median and p99 of time_total;
#   2. throughput: wrk -t2 -c10 --latency against each target, plain and gzip, in passes of
#      alternating target order; requests/s, wrk's latency percentiles, CPU per request; and
#      once against portman's /healthz, the HTTP path alone;
#   3. resident memory (VmRSS, VmHWM, RssAnon, RssFile from /proc/PID/status, and smaps split
#      into heap, malloc arenas, other anonymous memory and mapped files) after the load;
#   4. scan work per scrape: CPU time per sequential scrape (/proc/PID/stat utime+stime), the
#      agent's own collector durations, against the netlink dump alone (bench/agent_netlink.cpp,
#      the same sock_diag requests in a loop) and `ss -Htlun`; strace -c and perf of each agent;
#   5. the size of each /metrics (bytes plain and gzip, series, families).
# Prints markdown (ratios against node_exporter, the issue's goals) on stdout; raw files stay in
# the out dir (bench/agent_report.py turns them into the tables). Needs root. About 5 minutes with
# the defaults on 2 cores. Every process it starts is stopped on exit, on error, on Ctrl-C and
# when BENCH_TIME_LIMIT runs out.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)

SCRAPES=200
PAUSE=0.05
WRK_DURATION=15s
WRK_PASSES=2
CPU_SCRAPES=100
STRACE_SCRAPES=50
PROFILE=1
OUT=
while [[ $# -gt 0 ]]; do
  case "$1" in
    --scrapes) SCRAPES=$2; shift ;;
    --pause) PAUSE=$2; shift ;;
    --wrk-duration) WRK_DURATION=$2; shift ;;
    --wrk-passes) WRK_PASSES=$2; shift ;;
    --cpu-scrapes) CPU_SCRAPES=$2; shift ;;
    --strace-scrapes) STRACE_SCRAPES=$2; shift ;;
    --no-profile) PROFILE=0 ;;
    --out) OUT=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "agent.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
for n in "$SCRAPES" "$WRK_PASSES" "$CPU_SCRAPES" "$STRACE_SCRAPES"; do
  [[ $n =~ ^[0-9]+$ && $n -ge 1 && $n -le 5000 ]] || { echo "agent.sh: counts must be 1..5000" >&2; exit 2; }
done
[[ $WRK_DURATION =~ ^[0-9]+s$ && ${WRK_DURATION%s} -ge 1 && ${WRK_DURATION%s} -le 120 ]] ||
  { echo "agent.sh: --wrk-duration must be 1s..120s" >&2; exit 2; }

BENCH_NAME=agent-bench
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"

if [[ ${BENCH_IN_NETNS:-} != 1 ]]; then
  require_agent_bench agent.sh curl wrk ss python3 g++ unshare ip
  ensure_portman
  [[ -n $OUT ]] || OUT=$(mktemp -d /tmp/portman-agent-bench.XXXXXX)
  mkdir -p "$OUT"
  export PORTMAN NODE_EXPORTER OUT OWNERS_METHOD=${OWNERS_METHOD:-auto}
  args=(--scrapes "$SCRAPES" --pause "$PAUSE" --wrk-duration "$WRK_DURATION" --wrk-passes "$WRK_PASSES"
        --cpu-scrapes "$CPU_SCRAPES" --strace-scrapes "$STRACE_SCRAPES" --out "$OUT")
  [[ $PROFILE == 0 ]] && args+=(--no-profile)
  # Bounded in time whatever happens: timeout sends TERM, the trap below stops everything.
  exec unshare -n timeout --kill-after=30 "${BENCH_TIME_LIMIT:-900}" env BENCH_IN_NETNS=1 bash "$0" "${args[@]}"
fi

# ---- inside the fresh network namespace ---------------------------------------------------
ip link set lo up
PM=$PORTMAN
NE=$NODE_EXPORTER
log "raw results in $OUT"

trap stop_all EXIT
trap 'log "stopped"; exit 130' INT TERM

g++ -std=c++20 -O2 -Wall -Wextra -o "$OUT/agent_netlink" "$HERE/agent_netlink.cpp"

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(date +%s)

# ---- host state ---------------------------------------------------------------------------
start_hoststate "$OUT" || exit 1
REG=$OUT/registry.json

# ---- the exporters ------------------------------------------------------------------------
declare -A URL PID_OF NAME_OF
URL[ne]=http://127.0.0.1:9100/metrics
URL[pm2]=http://127.0.0.1:9097/metrics
URL[pm0]=http://127.0.0.1:9098/metrics
NAME_OF[ne]="node_exporter"
NAME_OF[pm2]="portman, min-interval 2s"
NAME_OF[pm0]="portman, min-interval 0s"
TARGETS=(ne pm2 pm0)
declare -A READY_PATH=([ne]="" [pm2]=healthz [pm0]=healthz)  # not /metrics: no scrape before the first memory reading

"$NE" --web.listen-address=127.0.0.1:9100 2>"$OUT/ne.stderr" &
PID_OF[ne]=$!; track $!
PORTMAN_CONFIG=/dev/null "$PM" agent --web.listen-address 127.0.0.1:9097 --registry "$REG" \
  --owners.method "$OWNERS_METHOD" --log.level warn 2>"$OUT/pm2.stderr" &
PID_OF[pm2]=$!; track $!
PORTMAN_CONFIG=/dev/null "$PM" agent --web.listen-address 127.0.0.1:9098 --registry "$REG" \
  --owners.method "$OWNERS_METHOD" --scan.min-interval 0s --log.level warn 2>"$OUT/pm0.stderr" &
PID_OF[pm0]=$!; track $!
for t in "${TARGETS[@]}"; do
  ok=0
  for _ in $(seq 100); do
    if curl -sf -o /dev/null --max-time 5 "${URL[$t]%/metrics}/${READY_PATH[$t]}"; then ok=1; break; fi
    kill -0 "${PID_OF[$t]}" 2>/dev/null || break
    sleep 0.1
  done
  [[ $ok == 1 ]] || { log "${NAME_OF[$t]} did not answer; see $OUT/$t.stderr"; exit 1; }
done
log "exporters up: node_exporter ${PID_OF[ne]}, portman 2s ${PID_OF[pm2]}, portman 0s ${PID_OF[pm0]}"

CLK_TCK=$(getconf CLK_TCK)
status_of() {  # PID: "rss hwm anon file threads" in KiB (threads: count)
  awk '/^VmRSS:/ {r=$2} /^VmHWM:/ {h=$2} /^RssAnon:/ {a=$2} /^RssFile:/ {f=$2} /^Threads:/ {t=$2}
       END {print r, h, a, f, t}' "/proc/$1/status"
}
ticks_of() {  # PID: utime + stime of every thread, in clock ticks
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}
# Memory at start: up, and nothing scraped yet (the readiness check asked / or /healthz).
for t in "${TARGETS[@]}"; do echo "$t $(status_of "${PID_OF[$t]}")" >>"$OUT/memory.start.txt"; done

# A few scrapes each first: the agents' first scan walks /proc and fills the owners cache.
for _ in 1 2 3 4 5; do
  for t in "${TARGETS[@]}"; do curl -s -o /dev/null --max-time 10 "${URL[$t]}"; done
done

# ---- sizes and sanity ---------------------------------------------------------------------
for t in "${TARGETS[@]}"; do
  curl -s --max-time 10 -o "$OUT/$t.metrics.txt" "${URL[$t]}"
  curl -s --max-time 10 -H 'Accept-Encoding: gzip' -o "$OUT/$t.metrics.gz" "${URL[$t]}"
done
SS_SOCKETS=$(ss -Htlun | wc -l)
PM_SOCKETS=$(grep -c '^portman_listening_port_info{' "$OUT/pm0.metrics.txt" || true)
if [[ $PM_SOCKETS != "$SS_SOCKETS" ]]; then
  log "WARNING: portman reports $PM_SOCKETS listening sockets, ss -Htlun shows $SS_SOCKETS"
fi

for t in "${TARGETS[@]}"; do echo "$t $(status_of "${PID_OF[$t]}")" >>"$OUT/memory.before.txt"; done

# ---- 1. single-client latency ---------------------------------------------------------------
# One round: every target x encoding once, in an order rotated by one each round. Bodies of the
# portman scrapes are kept long enough to read the owners collector's duration, which changes
# with every fresh scan: that tells how many scrapes of the 2s agent got a fresh scan.
log "single-client latency: $SCRAPES rounds x 6 scrapes, ${PAUSE}s pause per round"
VARIANTS=(ne:plain pm2:plain pm0:plain ne:gzip pm2:gzip pm0:gzip)
: >"$OUT/latency.txt"
for ((i = 0; i < SCRAPES; i++)); do
  for ((j = 0; j < ${#VARIANTS[@]}; j++)); do
    v=${VARIANTS[$(((i + j) % ${#VARIANTS[@]}))]}
    t=${v%%:*} enc=${v#*:}
    hdr=()
    [[ $enc == gzip ]] && hdr=(-H 'Accept-Encoding: gzip')
    line=$(curl -s --max-time 10 "${hdr[@]}" -o "$OUT/body.tmp" -w '%{http_code} %{time_total} %{size_download}' "${URL[$t]}" || echo "000 0 0")
    scan=-
    if [[ $t != ne && $enc == plain ]]; then
      scan=$(grep -m1 'collector_duration_seconds{collector="owners"}' "$OUT/body.tmp" | awk '{print $2}' || true)
      scan=${scan:--}
    fi
    echo "$t $enc $line $scan" >>"$OUT/latency.txt"
  done
  sleep "$PAUSE"
done
rm -f "$OUT/body.tmp"

# ---- 2. throughput --------------------------------------------------------------------------
log "throughput: wrk -t2 -c10 -d$WRK_DURATION --latency, $WRK_PASSES passes x 6"
for ((p = 1; p <= WRK_PASSES; p++)); do
  order=("${VARIANTS[@]}")
  if ((p % 2 == 0)); then
    order=()
    for ((j = ${#VARIANTS[@]} - 1; j >= 0; j--)); do order+=("${VARIANTS[$j]}"); done
  fi
  for v in "${order[@]}"; do
    t=${v%%:*} enc=${v#*:}
    hdr=()
    [[ $enc == gzip ]] && hdr=(-H 'Accept-Encoding: gzip')
    f=$OUT/wrk.$t.$enc.$p.txt
    before=$(ticks_of "${PID_OF[$t]}")
    timeout $((${WRK_DURATION%s} + 30)) wrk -t2 -c10 -d"$WRK_DURATION" --latency "${hdr[@]}" "${URL[$t]}" >"$f" 2>&1 || true
    after=$(ticks_of "${PID_OF[$t]}")
    echo "cpu_ticks $((after - before))" >>"$f"
    sleep 1
  done
done

# For comparison: the agent's HTTP path alone (/healthz: no scan, no metrics), one run.
log "for comparison: wrk against portman's /healthz"
timeout $((${WRK_DURATION%s} + 30)) wrk -t2 -c10 -d"$WRK_DURATION" --latency http://127.0.0.1:9097/healthz >"$OUT/wrk.healthz.txt" 2>&1 || true

# ---- 3. memory after the load ---------------------------------------------------------------
# VmRSS/VmHWM, and where the resident pages are (smaps): the main heap, anonymous mappings of
# 1 MiB or more (glibc's per-thread malloc arenas; Go's heap), other anonymous memory (stacks,
# small mappings), and mapped files (the binary and its shared libraries).
for t in "${TARGETS[@]}"; do
  echo "$t $(status_of "${PID_OF[$t]}")" >>"$OUT/memory.after.txt"
  cp "/proc/${PID_OF[$t]}/smaps" "$OUT/smaps.$t.txt" 2>/dev/null || true
done

# ---- 4. scan work per scrape ----------------------------------------------------------------
# Sequential plain scrapes, one target at a time, no pause: CPU ticks of the whole process
# (every thread) over the batch. Two passes in opposite order.
log "CPU per scrape: $CPU_SCRAPES sequential scrapes per target, two passes"
: >"$OUT/cpu.txt"
for pass in fwd rev; do
  order=(ne pm2 pm0)
  [[ $pass == rev ]] && order=(pm0 pm2 ne)
  for t in "${order[@]}"; do
    : >"$OUT/cpu.$t.$pass.scans"
    before=$(ticks_of "${PID_OF[$t]}")
    t0=$(date +%s.%N)
    for ((i = 0; i < CPU_SCRAPES; i++)); do
      curl -s --max-time 10 -o "$OUT/body.tmp" "${URL[$t]}" || true
      if [[ $t != ne ]]; then
        { grep 'collector_duration_seconds{' "$OUT/body.tmp" || true; } | awk '{printf "%s ", $2} END {print ""}' >>"$OUT/cpu.$t.$pass.scans"
      fi
    done
    t1=$(date +%s.%N)
    after=$(ticks_of "${PID_OF[$t]}")
    echo "$t $pass $CPU_SCRAPES $((after - before)) $t0 $t1" >>"$OUT/cpu.txt"
  done
done
rm -f "$OUT/body.tmp"

log "netlink dump alone (agent_netlink, 200 rounds) and ss -Htlun"
"$OUT/agent_netlink" --runs 200 >"$OUT/netlink.txt"
if command -v hyperfine >/dev/null; then
  hyperfine -N --warmup 3 --runs 30 --style none --export-json "$OUT/ss.json" 'ss -Htlun' >/dev/null 2>&1 || true
fi

HAVE_STRACE=0 HAVE_PERF=0
if [[ $PROFILE == 1 ]] && command -v strace >/dev/null; then
  HAVE_STRACE=1
  for t in pm0 pm2 ne; do
    log "strace -c -f: $STRACE_SCRAPES scrapes of ${NAME_OF[$t]}"
    strace -f -c -o "$OUT/strace.$t.txt" -p "${PID_OF[$t]}" 2>/dev/null &
    sp=$!
    track "$sp"
    sleep 1
    for ((i = 0; i < STRACE_SCRAPES; i++)); do curl -s --max-time 20 -o /dev/null "${URL[$t]}" || true; done
    sleep 0.3
    kill -INT "$sp" 2>/dev/null || true
    wait "$sp" 2>/dev/null || true
    unset "PIDS[$sp]"
  done
fi
if [[ $PROFILE == 1 ]] && command -v perf >/dev/null; then
  for t in pm0 pm2; do
    log "perf: $CPU_SCRAPES scrapes of ${NAME_OF[$t]}"
    perf record -q -e cpu-clock -F 4999 -p "${PID_OF[$t]}" -o "$OUT/perf.$t.data" >/dev/null 2>&1 &
    pp=$!
    track "$pp"
    sleep 1
    for ((i = 0; i < CPU_SCRAPES; i++)); do curl -s --max-time 10 -o /dev/null "${URL[$t]}" || true; done
    kill -INT "$pp" 2>/dev/null || true
    wait "$pp" 2>/dev/null || true
    unset "PIDS[$pp]"
    if perf report -i "$OUT/perf.$t.data" --no-children --sort dso,sym --stdio >"$OUT/perf.$t.txt" 2>/dev/null; then
      HAVE_PERF=1
    fi
  done
fi

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
T_END=$(date +%s)
for t in "${TARGETS[@]}"; do
  kill -0 "${PID_OF[$t]}" 2>/dev/null || log "WARNING: ${NAME_OF[$t]} is gone; see $OUT/$t.stderr"
done
# Which owner source the agents ended up with (auto falls back to procfs where BPF is refused).
OWNER_SOURCE=$(curl -s --max-time 10 "${URL[pm0]}" | sed -n 's/^portman_owner_source_info{source="\([a-z]*\)"} 1$/\1/p' | head -1)
stop_all

# ---- report -----------------------------------------------------------------------------------
export OUT CLK_TCK SS_SOCKETS PM_SOCKETS HAVE_STRACE HAVE_PERF LOAD_START LOAD_END SCRAPES PAUSE \
  WRK_DURATION WRK_PASSES CPU_SCRAPES STRACE_SCRAPES
{
  echo "# portman agent against node_exporter"
  echo
  echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, kernel $(uname -r)"
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); run took $((T_END - T_START)) s; load average $LOAD_START at the start, $LOAD_END at the end"
  echo "- portman binary: \`$PM\` ($("$PM" version 2>/dev/null | head -1)); tree: HEAD $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown), $(git --no-optional-locks -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | wc -l) tracked files modified"
  echo "- node_exporter: $("$NE" --version 2>&1 | head -1 | sed 's/^node_exporter, //'), default collectors; $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2); $(curl --version | head -1 | cut -d' ' -f1-2)"
  echo "- owners: \`--owners.method $OWNERS_METHOD\`; source used: ${OWNER_SOURCE:-unknown}"
  echo "- command: \`OWNERS_METHOD=$OWNERS_METHOD bench/agent.sh --scrapes $SCRAPES --pause $PAUSE --wrk-duration $WRK_DURATION --wrk-passes $WRK_PASSES --cpu-scrapes $CPU_SCRAPES --strace-scrapes $STRACE_SCRAPES$([[ $PROFILE == 0 ]] && echo ' --no-profile')\`; raw results in \`$OUT\`"
  echo
  python3 "$HERE/agent_report.py" "$OUT"
} >"$OUT/results.md"
cat "$OUT/results.md"
log "done; raw results in $OUT"
