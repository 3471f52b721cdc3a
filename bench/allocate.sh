#!/usr/bin/env bash
# portman benchmark: one `portman allocate` on large registries against what the old scripts paid
# for the same file (python3 json.load + json.dump with indent=2), in one run; plus how long
# allocate holds the registry lock.
#
#   bench/allocate.sh [--sizes "1000 10000 100000"] [--runs N] [--large-runs N] [--out DIR]
#                     [--no-strace]
#
#   --sizes       registry sizes in entries (default 1000 10000 100000); each gets an archive of
#                 half as many released entries (bench/make_registry.py --synthetic)
#   --runs N      timed runs per command for sizes up to 10,000 (default 10)
#   --large-runs  timed runs per command above 10,000 (default 5)
#   --out DIR     where raw results go (default: a new /tmp/portman-bench-allocate.XXXXXX)
#   --no-strace   skip the lock hold times
#
# Environment: PORTMAN (binary; default build-bench/portman, built in Release if missing).
#
# Every portman run works on a fresh copy of the registry (hyperfine --prepare), so that each
# one allocates the same port from the same file; the copy is not timed. The config gives the
# dynamic type the free range 60000-60999 and no quarantine. As root, everything runs in a fresh
# network namespace (unshare -n), so that the scan allocate makes sees no listener of the
# machine. Lock hold time: strace -tt of the lock file's flock(LOCK_EX) and of the close of its
# fd, medians over the runs (strace stops the process only at those syscalls: --seccomp-bpf).
# Prints markdown on stdout; raw files stay in the out dir.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)

SIZES="1000 10000 100000"
RUNS=10
LARGE_RUNS=5
OUT=
STRACE=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sizes) SIZES=$2; shift ;;
    --runs) RUNS=$2; shift ;;
    --large-runs) LARGE_RUNS=$2; shift ;;
    --out) OUT=$2; shift ;;
    --no-strace) STRACE=0 ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "allocate.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

BENCH_NAME=bench
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"

if [[ ${BENCH_IN_NETNS:-} != 1 ]]; then
  for tool in python3; do
    command -v "$tool" >/dev/null || { echo "allocate.sh: $tool is missing" >&2; exit 2; }
  done
  # Network access is gone inside the namespace: install and build before entering it.
  if ! command -v hyperfine >/dev/null; then
    log "hyperfine missing: apt-get install -y hyperfine"
    apt-get install -y hyperfine >/dev/null 2>&1 || { echo "allocate.sh: needs hyperfine" >&2; exit 2; }
  fi
  if [[ $STRACE == 1 ]] && ! command -v strace >/dev/null; then
    log "strace missing: apt-get install -y strace"
    apt-get install -y strace >/dev/null 2>&1 || { log "no strace: no lock hold times"; STRACE=0; }
  fi
  ensure_portman
  [[ -n $OUT ]] || OUT=$(mktemp -d /tmp/portman-bench-allocate.XXXXXX)
  mkdir -p "$OUT"
  export PORTMAN OUT
  args=(--sizes "$SIZES" --runs "$RUNS" --large-runs "$LARGE_RUNS" --out "$OUT")
  [[ $STRACE == 0 ]] && args+=(--no-strace)
  if [[ $(id -u) == 0 ]] && command -v unshare >/dev/null; then
    exec unshare -n env BENCH_IN_NETNS=1 bash "$0" "${args[@]}"
  fi
  log "not root: running in the machine's own network namespace"
  export BENCH_NETNS=shared
  exec env BENCH_IN_NETNS=1 bash "$0" "${args[@]}"
fi

# ---- inside the fresh network namespace (as root) ---------------------------------------------
[[ ${BENCH_NETNS:-} == shared ]] || ip link set lo up 2>/dev/null || true
PM=$PORTMAN
log "raw results in $OUT"

CONFIG=$OUT/portman.yml
cat >"$CONFIG" <<'EOF'
types:
  dynamic: { range: 60000-60999 }
quarantine: 0s
EOF
PY_DUMP='import json, sys; d = json.load(open(sys.argv[1])); json.dump(d, open(sys.argv[2], "w"), indent=2)'
# The interpreter itself: a pyenv shim in front of it costs hundreds of ms per start.
PYTHON=$(python3 -c 'import sys; print(sys.executable)')

# stats FILE: "median p25 p75" in seconds of a list of numbers, one per line.
stats() {
  python3 - "$1" <<'EOF'
import statistics, sys
t = sorted(float(x) for x in open(sys.argv[1]) if x.strip())
q = statistics.quantiles(t, n=4) if len(t) > 1 else [t[0]] * 3
print(f"{statistics.median(t)} {q[0]} {q[2]}")
EOF
}
# times NAME LABEL: the hyperfine run times of LABEL, one per line, into NAME.LABEL.times.
times() {
  python3 - "$OUT/$1.hyperfine.json" "$2" >"$OUT/$1.$2.times" <<'EOF'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    if r["command"] == sys.argv[2]:
        print("\n".join(str(t) for t in r["times"]))
EOF
}
ms() { python3 -c "import sys; print(f'{float(sys.argv[1]) * 1000:,.0f}')" "$1"; }
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$1" "$2"; }

# lock_hold NAME REG RUNS: strace's view of allocate; one hold time (seconds) per run.
lock_hold() {
  local name=$1 reg=$2 runs=$3 i
  : >"$OUT/$name.lock.times"
  for ((i = 0; i < runs; i++)); do
    cp "$reg" "$OUT/work.json"
    rm -f "$OUT/work.json.bak"
    PORTMAN_CONFIG=$CONFIG strace -f -tt --seccomp-bpf -e trace=openat,flock,close \
      -o "$OUT/$name.strace.$i" "$PM" --registry "$OUT/work.json" allocate bench -t dynamic \
      >/dev/null 2>&1
    # The fd that openat gave the .lock file; from its flock(LOCK_EX) to its close.
    awk '
      function secs(t,  p) { split(t, p, ":"); return p[1] * 3600 + p[2] * 60 + p[3] }
      /openat\(.*\.lock"/ { fd = $NF }
      fd != "" && $3 ~ "^flock\\(" fd "," && /LOCK_EX/ && / = 0$/ && !start { start = secs($2) }
      start && $3 ~ "^close\\(" fd "\\)" && !stop { stop = secs($2) }
      END { if (start && stop) printf "%.6f\n", stop - start }' \
      "$OUT/$name.strace.$i" >>"$OUT/$name.lock.times"
  done
}

declare -A FILE_MB PM_MED PM_SPREAD PY_MED PY_SPREAD RATIO LOCK_MED LOCK_SPREAD TOTAL_UNDER_STRACE
for n in $SIZES; do
  name=reg$n
  reg=$OUT/$name.json
  log "registry of $n entries"
  python3 "$HERE/make_registry.py" --synthetic "$n" "$reg"
  FILE_MB[$n]=$(python3 -c "import os, sys; print(f'{os.path.getsize(sys.argv[1]) / 1e6:.1f}')" "$reg")
  runs=$RUNS
  ((n > 10000)) && runs=$LARGE_RUNS
  # Sanity: allocate works on this file and gives the port the config leaves free.
  cp "$reg" "$OUT/work.json"
  got=$(PORTMAN_CONFIG=$CONFIG "$PM" --registry "$OUT/work.json" allocate bench -t dynamic 2>"$OUT/$name.sanity")
  [[ $got == 60000 ]] || { log "allocate on $name gave '$got': $(cat "$OUT/$name.sanity")"; exit 1; }
  log "timing allocate and python load+dump, $runs runs each"
  hyperfine -N --runs "$runs" --warmup 1 --style none --export-json "$OUT/$name.hyperfine.json" \
    -n portman --prepare "cp $reg $OUT/work.json" \
    "env PORTMAN_CONFIG=$CONFIG $PM --registry $OUT/work.json allocate bench -t dynamic" \
    -n python --prepare "rm -f $OUT/py-out.json" \
    "$PYTHON -c '$PY_DUMP' $reg $OUT/py-out.json" >"$OUT/$name.log" 2>&1
  times "$name" portman
  times "$name" python
  read -r pm pm25 pm75 < <(stats "$OUT/$name.portman.times")
  read -r py py25 py75 < <(stats "$OUT/$name.python.times")
  PM_MED[$n]=$(ms "$pm")
  PM_SPREAD[$n]="$(ms "$pm25")–$(ms "$pm75")"
  PY_MED[$n]=$(ms "$py")
  PY_SPREAD[$n]="$(ms "$py25")–$(ms "$py75")"
  RATIO[$n]=$(ratio "$pm" "$py")
  LOCK_MED[$n]="–"
  LOCK_SPREAD[$n]=""
  if [[ $STRACE == 1 ]]; then
    log "lock hold times under strace"
    lock_hold "$name" "$reg" "$runs"
    if [[ -s $OUT/$name.lock.times ]]; then
      read -r lk lk25 lk75 < <(stats "$OUT/$name.lock.times")
      LOCK_MED[$n]=$(ms "$lk")
      LOCK_SPREAD[$n]=" ($(ms "$lk25")–$(ms "$lk75"))"
    fi
  fi
done

echo "## allocate on large registries against python3 json.load + json.dump"
echo
echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- portman: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown) ($("$PM" version 2>/dev/null | head -1)); $("$PYTHON" --version) ($PYTHON)"
echo "- timing: $(hyperfine --version), medians (p25–p75) of $RUNS runs (sizes above 10,000: $LARGE_RUNS); network namespace: ${BENCH_NETNS:-fresh}; raw results in \`$OUT\`"
echo
echo "| entries (+ archive) | file | portman allocate, ms | python load+dump, ms | ratio | goal ≤ 2 | lock held, ms |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for n in $SIZES; do
  met=met
  python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) <= 2 else 1)" "${RATIO[$n]}" || met="**missed**"
  printf '| %s (+ %s) | %s MB | %s (%s) | %s (%s) | %s | %s | %s%s |\n' \
    "$n" "$((n / 2))" "${FILE_MB[$n]}" "${PM_MED[$n]}" \
    "${PM_SPREAD[$n]}" "${PY_MED[$n]}" "${PY_SPREAD[$n]}" "${RATIO[$n]}" "$met" \
    "${LOCK_MED[$n]}" "${LOCK_SPREAD[$n]}"
done
