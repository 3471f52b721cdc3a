#!/usr/bin/env bash
# Two portman agents and node_exporter side by side: single-client scrape latency of a "before"
# and an "after" binary against node_exporter, in one run, on the benchmark's host state.
#
#   bench/agent_ab.sh BEFORE AFTER [--rounds N] [--pause S] [--out DIR]
#
#   BEFORE, AFTER   portman binaries (built from two revisions); both run with
#                   --scan.min-interval 0s, so that every scrape is a fresh scan
#   --rounds N      rounds (default 200); each scrapes every target once plain and once with
#                   gzip, one curl each, the order rotated round by round
#   --pause S       pause after each round (default 0.05 s): the machine idles between rounds as
#                   it does between Prometheus's scrapes, and a scrape after an idle spell costs
#                   more here than one right after another (docs/benchmarks.md)
#   --out DIR       where the raw times go (default: a new /tmp/portman-agent-ab.XXXXXX)
#
# bench/agent.sh measures one binary in depth (throughput, memory, CPU); this one answers
# "did this change make a fresh scrape faster", with both binaries exposed to the same noise.
# Prints markdown: median and p90 time_total per target and encoding, and the ratio of medians
# to node_exporter's. Needs root (unshare -n). About 2 minutes with the defaults.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)

ROUNDS=200
PAUSE=0.05
OUT=
ARGS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift ;;
    --pause) PAUSE=$2; shift ;;
    --out) OUT=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "agent_ab.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    *) ARGS+=("$1") ;;
  esac
  shift
done
[[ ${#ARGS[@]} == 2 ]] || { echo "agent_ab.sh: give two binaries, BEFORE and AFTER (see --help)" >&2; exit 2; }
BEFORE=$(realpath "${ARGS[0]}")
AFTER=$(realpath "${ARGS[1]}")
[[ -x $BEFORE && -x $AFTER ]] || { echo "agent_ab.sh: $BEFORE or $AFTER is not executable" >&2; exit 2; }
[[ $ROUNDS =~ ^[0-9]+$ && $ROUNDS -ge 10 && $ROUNDS -le 5000 ]] ||
  { echo "agent_ab.sh: --rounds must be 10..5000" >&2; exit 2; }
[[ $PAUSE =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "agent_ab.sh: --pause must be seconds, such as 0.05" >&2; exit 2; }

BENCH_NAME=agent-ab
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"

if [[ ${BENCH_IN_NETNS:-} != 1 ]]; then
  require_agent_bench agent_ab.sh curl python3 g++ unshare ip
  [[ -n $OUT ]] || OUT=$(mktemp -d /tmp/portman-agent-ab.XXXXXX)
  mkdir -p "$OUT"
  export NODE_EXPORTER
  exec unshare -n timeout --kill-after=30 "${BENCH_TIME_LIMIT:-900}" env BENCH_IN_NETNS=1 \
    bash "$0" "$BEFORE" "$AFTER" --rounds "$ROUNDS" --pause "$PAUSE" --out "$OUT"
fi

# ---- inside the fresh network namespace ---------------------------------------------------
ip link set lo up
trap stop_all EXIT
trap 'log "stopped"; exit 130' INT TERM
start_hoststate "$OUT" || exit 1

declare -A PORT_OF=([before]=9097 [after]=9098 [node_exporter]=9100)
PORTMAN_CONFIG=/dev/null "$BEFORE" agent --web.listen-address 127.0.0.1:9097 --registry "$OUT/registry.json" \
  --scan.min-interval 0s --log.level warn 2>"$OUT/before.stderr" &
track $!
PORTMAN_CONFIG=/dev/null "$AFTER" agent --web.listen-address 127.0.0.1:9098 --registry "$OUT/registry.json" \
  --scan.min-interval 0s --log.level warn 2>"$OUT/after.stderr" &
track $!
"$NODE_EXPORTER" --web.listen-address=127.0.0.1:9100 2>"$OUT/node_exporter.stderr" &
track $!
for target in before after node_exporter; do
  ok=0
  for _ in $(seq 100); do
    curl -sf -o /dev/null --max-time 5 "http://127.0.0.1:${PORT_OF[$target]}/metrics" && { ok=1; break; }
    sleep 0.1
  done
  [[ $ok == 1 ]] || { log "$target did not answer"; exit 1; }
done
for _ in $(seq 10); do  # warm-up, not counted
  for target in before after node_exporter; do curl -s -o /dev/null "http://127.0.0.1:${PORT_OF[$target]}/metrics"; done
done

log "$ROUNDS rounds, pause $PAUSE s"
TARGETS=(before after node_exporter)
: >"$OUT/times"
for round in $(seq "$ROUNDS"); do
  for k in 0 1 2; do
    target=${TARGETS[$(((k + round) % 3))]}
    url=http://127.0.0.1:${PORT_OF[$target]}/metrics
    echo "$target plain $(curl -s -o /dev/null -w '%{time_total}' "$url")" >>"$OUT/times"
    echo "$target gzip $(curl -s --compressed -o /dev/null -w '%{time_total}' "$url")" >>"$OUT/times"
  done
  sleep "$PAUSE"
done

python3 - "$OUT/times" "$BEFORE" "$AFTER" "$ROUNDS" "$PAUSE" <<'PY'
import collections, statistics, sys
times = collections.defaultdict(list)
for line in open(sys.argv[1]):
    target, encoding, seconds = line.split()
    times[(target, encoding)].append(float(seconds) * 1000)
print(f"before: `{sys.argv[2]}`; after: `{sys.argv[3]}`; {sys.argv[4]} rounds, pause {sys.argv[5]} s\n")
print("| target | encoding | median ms | p90 ms | ratio of medians to node_exporter |")
print("| --- | --- | ---: | ---: | ---: |")
for encoding in ("plain", "gzip"):
    base = statistics.median(times[("node_exporter", encoding)])
    for target in ("before", "after", "node_exporter"):
        t = sorted(times[(target, encoding)])
        median = statistics.median(t)
        print(f"| {target} | {encoding} | {median:.2f} | {t[int(len(t) * 0.9)]:.2f} | {median / base:.2f} |")
PY
