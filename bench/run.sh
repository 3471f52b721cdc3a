#!/usr/bin/env bash
# portman benchmark: portman scan/check against `ss -Htlunp` on the same host state, in one run,
# with both owner sources side by side: the BPF iterator (owners.method auto, where the kernel
# loads it) and the /proc walk (owners.method procfs).
#
#   bench/run.sh [--quick | --sweep] [--runs N] [--sweep-runs N] [--out DIR] [--no-strace]
#
#   (default)     the main case, then the sweep (about 3-5 minutes on 2 cores)
#   --quick       only the main case: 2,000 TCP + 200 UDP over 50 processes, 300 idle x 30 files
#                 (scan, check for two ports, syscall counts, perf split, pid-order sensitivity)
#   --sweep       only the sweep: sockets 1,000 / 10,000 / 50,000 (processes fixed), then idle
#                 processes 500 / 2,000 / 5,000 (sockets fixed at 2,200), plus 5,000 with the
#                 owners forked first
#   --runs N      timed runs per command in the main case (default 30, split over two passes)
#   --sweep-runs  timed runs per command in each sweep case (default 20)
#   --out DIR     where raw results go (default: a new /tmp/portman-bench.XXXXXX)
#   --no-strace   skip the syscall counts and the perf profile of the main case
#
# Environment: PORTMAN (binary; default build-bench/portman, built if missing), HOSTSTATE_SEED,
# SWEEP_50K=0 to leave out the 50,000-socket case of the sweep, PORTMAN_BEFORE=another portman
# binary (e.g. a build of the previous commit) timed in the same passes of the main case, for a
# before/after table.
#
# Everything runs in a fresh network namespace (unshare -n, lo up), so that no other listener
# of the machine is in the sockets' view; /proc still shows every process of the host, as on a
# real server. Timing uses hyperfine (-N, warmup, JSON export) when it is installed, in two passes
# of opposite command order so that a drift of the machine's load hits both tools alike; the
# figures are medians. Needs root. Prints markdown on stdout; raw files stay in the out dir.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)

MODE=all
RUNS=30
SWEEP_RUNS=20
OUT=
STRACE=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) MODE=main ;;
    --sweep) MODE=sweep ;;
    --runs) RUNS=$2; shift ;;
    --sweep-runs) SWEEP_RUNS=$2; shift ;;
    --out) OUT=$2; shift ;;
    --no-strace) STRACE=0 ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

BENCH_NAME=bench
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"

if [[ ${BENCH_IN_NETNS:-} != 1 ]]; then
  [[ $(id -u) == 0 ]] || { echo "run.sh: needs root (unshare -n, every process's /proc)" >&2; exit 2; }
  for tool in ss jq python3 g++ unshare ip; do
    command -v "$tool" >/dev/null || { echo "run.sh: $tool is missing" >&2; exit 2; }
  done
  # Network access is gone inside the namespace: install and build before entering it.
  if ! command -v hyperfine >/dev/null; then
    log "hyperfine missing: apt-get install -y hyperfine"
    apt-get install -y hyperfine >/dev/null 2>&1 || log "could not install hyperfine; using own loop"
  fi
  ensure_portman
  [[ -n $OUT ]] || OUT=$(mktemp -d /tmp/portman-bench.XXXXXX)
  mkdir -p "$OUT"
  [[ -z ${PORTMAN_BEFORE:-} || -x ${PORTMAN_BEFORE:-} ]] || {
    echo "run.sh: PORTMAN_BEFORE=$PORTMAN_BEFORE is not an executable" >&2
    exit 2
  }
  export PORTMAN OUT PORTMAN_BEFORE
  args=(--runs "$RUNS" --sweep-runs "$SWEEP_RUNS" --out "$OUT")
  [[ $MODE == main ]] && args+=(--quick)
  [[ $MODE == sweep ]] && args+=(--sweep)
  [[ $STRACE == 0 ]] && args+=(--no-strace)
  exec unshare -n env BENCH_IN_NETNS=1 bash "$0" "${args[@]}"
fi

# ---- inside the fresh network namespace ---------------------------------------------------
ip link set lo up
PM=$PORTMAN
log "raw results in $OUT"
g++ -std=c++20 -O2 -Wall -Wextra -o "$OUT/hoststate" "$HERE/hoststate.cpp"
HAVE_HYPERFINE=0
command -v hyperfine >/dev/null && HAVE_HYPERFINE=1

HS_PID=
stop_state() {
  if [[ -n $HS_PID ]]; then
    kill -TERM "$HS_PID" 2>/dev/null || true
    wait "$HS_PID" 2>/dev/null || true
    HS_PID=
  fi
}
trap stop_state EXIT
trap 'stop_state; exit 130' INT TERM

# start_state NAME TCP UDP LISTENERS IDLE FILES [ORDER]: builds the state, a registry, and the
# variables LAYOUT, REG. Waits for READY (2 minutes at most).
start_state() {
  local name=$1 tcp=$2 udp=$3 listeners=$4 idle=$5 files=$6 order=${7:-shuffled}
  LAYOUT=$OUT/$name.layout
  REG=$OUT/$name.registry.json
  "$OUT/hoststate" --tcp "$tcp" --udp "$udp" --listeners "$listeners" --idle "$idle" \
    --files "$files" --seed "${HOSTSTATE_SEED:-42}" --order "$order" --layout "$LAYOUT" >"$OUT/$name.ready" &
  HS_PID=$!
  local i
  for ((i = 0; i < 1200; i++)); do
    grep -q READY "$OUT/$name.ready" 2>/dev/null && break
    kill -0 "$HS_PID" 2>/dev/null || { log "hoststate failed for $name"; HS_PID=; exit 1; }
    sleep 0.1
  done
  grep -q READY "$OUT/$name.ready" || { log "hoststate not ready after 120 s"; exit 1; }
  python3 "$HERE/make_registry.py" "$LAYOUT" "$REG"
}

# layout_facts LAYOUT: pid-order facts of the state (key=value lines), and the two check ports.
layout_facts() {
  python3 - "$1" "$2" <<'EOF'
import json, sys
layout, reg = sys.argv[1], sys.argv[2]
idle, owned = set(), {}
for line in open(layout):
    p = line.split()
    if p[1] == "idle":
        idle.add(int(p[0]))
    else:
        owned.setdefault(int(p[0]), []).append((p[1], p[2], int(p[3])))
registered = set(json.load(open(reg))["allocations"])
order = sorted(idle | set(owned))
listeners = [pid for pid in order if pid in owned]
last = listeners[-1]
mid = listeners[(len(listeners) - 1) // 2]
def idle_before(pid):
    return sum(1 for q in order if q < pid and q in idle)
def port_of(pid):
    tcp = [port for proto, addr, port in owned[pid] if proto == "tcp"]
    reg_tcp = [port for port in tcp if str(port) in registered]
    return (reg_tcp or tcp)[0]
print(f"FIRST_OWNER_POS={order.index(listeners[0]) + 1}")
print(f"IDLE_TOTAL={len(idle)}")
print(f"IDLE_BEFORE_MID={idle_before(mid)}")
print(f"IDLE_BEFORE_LAST={idle_before(last)}")
print(f"PORT_MID={port_of(mid)}")
print(f"PORT_LAST={port_of(last)}")
EOF
}

# measure NAME RUNS LABEL=CMD...: times every command; writes $OUT/NAME.times.json
# ({label: [seconds...]}) from two passes in opposite orders, RUNS runs per command in all.
measure() {
  local name=$1 runs=$2
  shift 2
  local labels=() cmds=() kv
  for kv in "$@"; do
    labels+=("${kv%%=*}")
    cmds+=("${kv#*=}")
  done
  local half=$(((runs + 1) / 2))
  if [[ $HAVE_HYPERFINE == 1 ]]; then
    local pass order i
    for pass in fwd rev; do
      local hargs=(-N -i --warmup 3 --runs "$half" --style none --export-json "$OUT/$name.$pass.json")
      if [[ $pass == fwd ]]; then order=$(seq 0 $((${#cmds[@]} - 1))); else order=$(seq $((${#cmds[@]} - 1)) -1 0); fi
      for i in $order; do hargs+=(-n "${labels[$i]}" "${cmds[$i]}"); done
      hyperfine "${hargs[@]}" >"$OUT/$name.$pass.log" 2>&1
    done
    python3 - "$OUT/$name" <<'EOF'
import json, sys
base = sys.argv[1]
out = {}
for p in ("fwd", "rev"):
    for r in json.load(open(f"{base}.{p}.json"))["results"]:
        out.setdefault(r["command"], []).extend(r["times"])
        out.setdefault(r["command"] + ":user", []).append(r["user"])
        out.setdefault(r["command"] + ":system", []).append(r["system"])
json.dump(out, open(f"{base}.times.json", "w"))
EOF
  else
    # No hyperfine: our own loop, commands alternating run by run, after 3 warmup rounds.
    python3 - "$OUT/$name" "$runs" "${labels[@]}" -- "${cmds[@]}" <<'EOF'
import json, shlex, subprocess, sys, time
base, runs = sys.argv[1], int(sys.argv[2])
rest = sys.argv[3:]
sep = rest.index("--")
labels, cmds = rest[:sep], [shlex.split(c) for c in rest[sep + 1:]]
out = {l: [] for l in labels}
for i in range(runs + 3):
    for l, c in zip(labels, cmds):
        t = time.perf_counter()
        subprocess.run(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if i >= 3:
            out[l].append(time.perf_counter() - t)
json.dump(out, open(f"{base}.times.json", "w"))
EOF
  fi
}

# median NAME LABEL [scale]: median of LABEL's times, in ms (or scale given, e.g. 1e6 for us).
median() {
  python3 - "$OUT/$1.times.json" "$2" "${3:-1000}" <<'EOF'
import json, statistics, sys
t = json.load(open(sys.argv[1]))[sys.argv[2]]
print(f"{statistics.median(t) * float(sys.argv[3]):.2f}")
EOF
}
# spread NAME LABEL: "p25-p75" in ms, and the number of runs.
spread() {
  python3 - "$OUT/$1.times.json" "$2" <<'EOF'
import json, statistics, sys
t = sorted(json.load(open(sys.argv[1]))[sys.argv[2]])
q = statistics.quantiles(t, n=4) if len(t) > 1 else [t[0]] * 3
print(f"{q[0]*1000:.1f}–{q[2]*1000:.1f} | {len(t)}")
EOF
}
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$1" "$2"; }

# sanity NAME: sockets and owned sockets as seen by portman and by ss, on the current state.
sanity() {
  local name=$1
  "$PM" --registry "$REG" scan --json >"$OUT/$name.scan.json" || true
  ss -Htlunp >"$OUT/$name.ss.txt"
  PM_SOCKETS=$(jq '.listening|length' "$OUT/$name.scan.json")
  PM_OWNED=$(jq '[.listening[]|select(.pid != null and .pid != 0)]|length' "$OUT/$name.scan.json")
  PM_FINDINGS=$(jq '.findings|length' "$OUT/$name.scan.json")
  SS_SOCKETS=$(ss -Htlun | wc -l)
  SS_OWNED=$(grep -c 'users:' "$OUT/$name.ss.txt" || true)
  if [[ $PM_SOCKETS != "$SS_SOCKETS" || $PM_OWNED != "$SS_OWNED" ]]; then
    log "WARNING $name: portman saw $PM_SOCKETS sockets ($PM_OWNED with owner), ss $SS_SOCKETS ($SS_OWNED)"
  fi
}

# syscalls NAME LABEL CMD...: strace -c -f summary of one run, and how many /proc/PID/fd
# directories the command opened.
syscalls() {
  local name=$1 label=$2
  shift 2
  strace -f -c -o "$OUT/$name.strace-c.$label.txt" "$@" >/dev/null 2>&1 || true
  strace -f -e trace=openat,open -o "$OUT/$name.strace-open.$label.txt" "$@" >/dev/null 2>&1 || true
}
count_calls() {  # FILE SYSCALL...: sum of the calls column for these syscalls
  local file=$1
  shift
  awk -v want=" $* " '
    $NF ~ /^[a-z_0-9]+$/ && index(want, " " $NF " ") {
      s += $4   # % time, seconds, usecs/call, calls, [errors], syscall
    }
    END { print s + 0 }' "$file"
}
count_fd_dirs() { grep -Ec '"(/proc/)?[0-9]+/fd/?"' "$1" || true; }
count_total() { awk '$NF == "total" { print $4 }' "$1"; }

machine() {
  echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, kernel $(uname -r)"
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- portman: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown) ($("$PM" version 2>/dev/null | head -1)); ss: $(ss -V 2>&1 | head -1)"
  echo "- timing: $([[ $HAVE_HYPERFINE == 1 ]] && hyperfine --version || echo 'own loop (no hyperfine)'), medians; raw results in \`$OUT\`"
  if [[ -e /proc/self/task/$BASHPID/children ]]; then
    echo "- /proc/PID/task/TID/children: present"
  else
    echo "- /proc/PID/task/TID/children: absent (CONFIG_PROC_CHILDREN off)"
  fi
  echo "- processes on the host outside the benchmark: $(($(ls -d /proc/[0-9]* | wc -l) - 1))"
}

main_case() {
  log "main case: 2,000 TCP + 200 UDP over 50 processes, 300 idle x 30 files"
  start_state main 2000 200 50 300 30
  eval "$(layout_facts "$LAYOUT" "$REG")"
  sanity main
  AUTO_SOURCE=$(jq -r '.owner_source' "$OUT/main.scan.json")
  log "timing ($RUNS runs per command)"
  local before=()
  if [[ -n ${PORTMAN_BEFORE:-} ]]; then
    local B=$PORTMAN_BEFORE
    before=("before: portman version=$B version"
      "before: portman scan=$B --registry $REG scan --json"
      "before: portman check mid=$B --registry $REG check $PORT_MID --json"
      "before: portman scan procfs=$B --registry $REG --owners.method procfs scan --json"
      "before: portman check mid procfs=$B --registry $REG --owners.method procfs check $PORT_MID --json")
  fi
  measure main "$RUNS" "${before[@]}" \
    "portman scan=$PM --registry $REG scan --json" \
    "portman check mid=$PM --registry $REG check $PORT_MID --json" \
    "portman check last=$PM --registry $REG check $PORT_LAST --json" \
    "ss=ss -Htlunp" \
    "portman scan procfs=$PM --registry $REG --owners.method procfs scan --json" \
    "portman check mid procfs=$PM --registry $REG --owners.method procfs check $PORT_MID --json" \
    "portman check last procfs=$PM --registry $REG --owners.method procfs check $PORT_LAST --json" \
    "portman scan table=$PM --registry $REG scan" \
    "ss no owners=ss -Htlun" \
    "portman version=$PM version"
  local ss scan cmid clast
  ss=$(median main ss)
  scan=$(median main "portman scan")
  cmid=$(median main "portman check mid")
  clast=$(median main "portman check last")

  echo "## Main case"
  echo
  echo "2,000 TCP listeners + 200 UDP sockets over 50 listener processes, 300 idle processes × 30"
  echo "files; owners mixed among idle processes in pid order (first owner at position"
  echo "$FIRST_OWNER_POS of $((IDLE_TOTAL + 50)); $IDLE_BEFORE_MID idle processes before the median owner,"
  echo "$IDLE_BEFORE_LAST of $IDLE_TOTAL before the last one). Registry: $(jq '.allocations|length' "$REG") entries,"
  echo "$PM_FINDINGS findings. Sockets seen: portman $PM_SOCKETS ($PM_OWNED with owner), ss $SS_SOCKETS ($SS_OWNED with owner)."
  echo
  echo "Owner source of the default (\`owners.method auto\`) runs: $AUTO_SOURCE."
  echo
  echo "| command | median ms | p25–p75 ms | runs | ratio to ss | goal |"
  echo "| --- | ---: | ---: | ---: | ---: | --- |"
  echo "| \`ss -Htlunp\` | $ss | $(spread main ss) | 1.00 | |"
  local r
  goal() { python3 -c "print('met' if $1 <= $2 else 'missed')"; }
  r=$(ratio "$scan" "$ss")
  echo "| \`portman scan --json\` ($AUTO_SOURCE) | $scan | $(spread main "portman scan") | $r | ≤ 0.25: $(goal "$r" 0.25) |"
  r=$(ratio "$cmid" "$ss")
  echo "| \`portman check $PORT_MID --json\` ($AUTO_SOURCE; owner: median listener in pid order) | $cmid | $(spread main "portman check mid") | $r | ≤ 0.10: $(goal "$r" 0.1) |"
  r=$(ratio "$clast" "$ss")
  echo "| \`portman check $PORT_LAST --json\` ($AUTO_SOURCE; owner: last listener in pid order) | $clast | $(spread main "portman check last") | $r | ≤ 0.10: $(goal "$r" 0.1) |"
  local label m
  for label in "portman scan procfs" "portman check mid procfs" "portman check last procfs"; do
    m=$(median main "$label")
    echo "| $label (\`--owners.method procfs\`: the /proc walk) | $m | $(spread main "$label") | $(ratio "$m" "$ss") | – |"
  done
  local table noown
  table=$(median main "portman scan table")
  noown=$(median main "ss no owners")
  echo "| for comparison: \`portman scan\` (table, no JSON) | $table | $(spread main "portman scan table") | $(ratio "$table" "$ss") | – |"
  echo "| for comparison: \`ss -Htlun\` (no owners, no /proc walk) | $noown | $(spread main "ss no owners") | $(ratio "$noown" "$ss") | – |"
  local start
  start=$(median main "portman version")
  echo "| for comparison: \`portman version\` (process start) | $start | $(spread main "portman version") | $(ratio "$start" "$ss") | – |"
  echo
  [[ -n ${PORTMAN_BEFORE:-} ]] && before_after
  if [[ $HAVE_HYPERFINE == 1 ]]; then
    echo "CPU per run (hyperfine means, ms): $(python3 - "$OUT/main.times.json" <<'EOF'
import json, sys
t = json.load(open(sys.argv[1]))
parts = []
for l in ("ss", "portman scan", "portman check mid", "portman check last"):
    u = sum(t[l + ":user"]) / len(t[l + ":user"]) * 1000
    s = sum(t[l + ":system"]) / len(t[l + ":system"]) * 1000
    parts.append(f"{l} user {u:.1f} + sys {s:.1f}")
print("; ".join(parts) + ".")
EOF
)"
    echo
  fi

  if [[ $STRACE == 1 ]] && command -v strace >/dev/null; then
    log "syscall counts"
    syscalls main ss ss -Htlunp
    syscalls main scan "$PM" --registry "$REG" scan --json
    syscalls main check-mid "$PM" --registry "$REG" check "$PORT_MID" --json
    syscalls main check-last "$PM" --registry "$REG" check "$PORT_LAST" --json
    echo "### Syscalls, one run each (strace -c -f)"
    echo
    echo "| command | /proc/PID/fd dirs opened | openat | readlink(at) | getdents64 | read | stat family | all syscalls |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    local l f
    for l in ss scan check-mid check-last; do
      f=$OUT/main.strace-c.$l.txt
      echo "| $l | $(count_fd_dirs "$OUT/main.strace-open.$l.txt") | $(count_calls "$f" openat open) | $(count_calls "$f" readlink readlinkat) | $(count_calls "$f" getdents64 getdents) | $(count_calls "$f" read pread64) | $(count_calls "$f" newfstatat fstat statx stat lstat faccessat faccessat2 access) | $(count_total "$f") |"
    done
    echo
    profile_main
  fi
  stop_state
  order_sensitivity
}

# PORTMAN_BEFORE against PORTMAN, timed in the same passes as everything else of the main case.
before_after() {
  local ss noown
  ss=$(median main ss)
  noown=$(median main "ss no owners")
  echo "### Before / after (same run)"
  echo
  echo "before: \`$PORTMAN_BEFORE\` ($("$PORTMAN_BEFORE" version 2>/dev/null | head -1)); after: \`$PM\`."
  echo
  echo "| command | before ms | after ms | after / before | before / ss -Htlunp | after / ss -Htlunp | after / ss -Htlun |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  local label b a
  for label in "portman version" "portman scan" "portman check mid" "portman scan procfs" "portman check mid procfs"; do
    b=$(median main "before: $label")
    a=$(median main "$label")
    echo "| $label | $b | $a | $(ratio "$a" "$b") | $(ratio "$b" "$ss") | $(ratio "$a" "$ss") | $(ratio "$a" "$noown") |"
  done
  echo "| \`ss -Htlunp\` | $ss | | | | | |"
  echo "| \`ss -Htlun\` | $noown | | | | | |"
  echo
  if [[ $HAVE_HYPERFINE == 1 ]]; then
    echo "CPU per run, user + sys (hyperfine means, ms): $(python3 - "$OUT/main.times.json" <<'EOF2'
import json, sys
t = json.load(open(sys.argv[1]))
def cpu(l):
    u, s = t[l + ":user"], t[l + ":system"]
    return (sum(u) / len(u) + sum(s) / len(s)) * 1000
parts = []
for l in ("portman version", "portman scan", "portman check mid", "portman scan procfs"):
    parts.append(f"{l} {cpu('before: ' + l):.1f} → {cpu(l):.1f}")
parts.append(f"ss -Htlunp {cpu('ss'):.1f}, ss -Htlun {cpu('ss no owners'):.1f}")
print("; ".join(parts) + ".")
EOF2
)"
    echo
  fi
}

# Where the time goes: perf (cpu-clock samples, no hardware counters needed) over 20 runs.
profile_main() {
  command -v perf >/dev/null || return 0
  log "perf profile"
  local tool
  for tool in portman ss; do
    local cmd="$PM --registry $REG scan --json"
    [[ $tool == ss ]] && cmd="ss -Htlunp"
    perf record -q -e cpu-clock -F 4999 -o "$OUT/main.perf.$tool.data" -- \
      bash -c "for i in \$(seq 20); do $cmd >/dev/null; done" >/dev/null 2>&1 || return 0
    # The samples of the binary's own process (its comm: the file name, cut to 15 characters).
    local comm=$tool
    [[ $tool == portman ]] && comm=$(basename "$PM" | cut -c1-15)
    perf report -i "$OUT/main.perf.$tool.data" --comm "$comm" --no-children --sort sym --stdio \
      >"$OUT/main.perf.$tool.txt" 2>/dev/null || return 0
  done
  echo "### Where the time goes (perf, cpu-clock samples over 20 runs of each)"
  echo
  echo "| command | kernel | user: program | user: JSON (nlohmann) | user: malloc/free | top kernel symbols |"
  echo "| --- | ---: | ---: | ---: | ---: | --- |"
  for tool in portman ss; do
    awk -v tool="$tool" '
      /^#/ || NF < 3 { next }
      {
        pct = $1; sub("%", "", pct)
        if ($2 == "[k]") { k += pct; if (nk < 4) { top = top (nk ? ", " : "") $3 " " $1; nk++ } }
        else if ($0 ~ /nlohmann/) j += pct
        else if ($3 ~ /^(malloc|_int_malloc|_int_free|cfree|free|malloc_consolidate|unlink_chunk|operator)/) m += pct
        else u += pct
      }
      END {
        cmd = tool == "ss" ? "`ss -Htlunp`" : "`portman scan --json`"
        printf "| %s | %.0f%% | %.0f%% | %.0f%% | %.0f%% | %s |\n", cmd, k, u, j, m, top
      }' "$OUT/main.perf.$tool.txt"
  done
  echo
}

# The same sockets and processes with the listeners forked before / after all idle processes.
order_sensitivity() {
  echo "### How much pid order matters (same state, owners forked first / last; not the headline)"
  echo
  echo "| pid order | idle before last owner | portman scan ms | check (median owner) ms | ss ms | scan / ss | check / ss |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  local order
  for order in owners-first owners-last; do
    log "pid order: $order"
    start_state "order-$order" 2000 200 50 300 30 "$order"
    eval "$(layout_facts "$LAYOUT" "$REG")"
    measure "order-$order" "$SWEEP_RUNS" \
      "portman scan=$PM --registry $REG scan --json" \
      "portman check mid=$PM --registry $REG check $PORT_MID --json" \
      "ss=ss -Htlunp"
    stop_state
    local scan check ss
    scan=$(median "order-$order" "portman scan")
    check=$(median "order-$order" "portman check mid")
    ss=$(median "order-$order" ss)
    echo "| $order | $IDLE_BEFORE_LAST | $scan | $check | $ss | $(ratio "$scan" "$ss") | $(ratio "$check" "$ss") |"
  done
  echo
}

# One sweep case: keeps a row (medians) for the tables.
declare -a SW_ROWS=()
sweep_case() {
  local group=$1 tcp=$2 udp=$3 idle=$4 order=${5:-shuffled}
  local sockets=$((tcp + udp)) procs=$((50 + idle))
  local name=sweep-$group-$sockets-$idle-$order
  log "sweep: $sockets sockets, 50 listeners, $idle idle x 30 files, $order"
  start_state "$name" "$tcp" "$udp" 50 "$idle" 30 "$order"
  eval "$(layout_facts "$LAYOUT" "$REG")"
  sanity "$name"
  measure "$name" "$SWEEP_RUNS" \
    "portman scan=$PM --registry $REG scan --json" \
    "portman scan procfs=$PM --registry $REG --owners.method procfs scan --json" \
    "ss=ss -Htlunp"
  stop_state
  SW_ROWS+=("$group $sockets $procs $idle $(median "$name" "portman scan") $(median "$name" ss) $(median "$name" "portman scan procfs") $PM_SOCKETS $SS_SOCKETS $IDLE_BEFORE_LAST $order")
}

sweep() {
  sweep_case sockets 909 91 300
  sweep_case sockets 9091 909 300
  [[ ${SWEEP_50K:-1} == 1 ]] && sweep_case sockets 45455 4545 300
  sweep_case procs 2000 200 500
  sweep_case procs 2000 200 2000
  sweep_case procs 2000 200 5000
  sweep_case procs 2000 200 5000 owners-first
  echo "## Sweep"
  echo
  echo "50 listener processes; idle processes hold 30 files each; $SWEEP_RUNS runs per command;"
  echo "\`portman scan --json\` (owners.method auto: BPF where it loads) and \`portman scan --json"
  echo "--owners.method procfs\` (the /proc walk) against \`ss -Htlunp\`, medians in ms."
  echo "\"idle before last owner\": idle processes that come before the last"
  echo "socket owner in pid order (the part of /proc that a walk which stops at the last owner still"
  echo "reads). Slope: the extra time per added socket (or process) from the row above."
  echo
  python3 - "${SW_ROWS[@]}" <<'EOF'
import sys
rows = [r.split() for r in sys.argv[1:]]
def table(group, title, unit_col, unit_name):
    sel = [r for r in rows if r[0] == group]
    print(f"### {title}")
    print()
    print(f"| sockets | processes (idle) | pid order | seen portman / ss | idle before last owner | portman ms | procfs walk ms | ss ms | ratio | walk ratio | portman µs/{unit_name} | walk µs/{unit_name} | ss µs/{unit_name} | portman slope µs/{unit_name} | walk slope µs/{unit_name} | ss slope µs/{unit_name} |")
    print("| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    prev = None
    for g, sockets, procs, idle, pm, ss, walk, pms, sss, before, order in sel:
        pm, ss, walk = float(pm), float(ss), float(walk)
        units = float(sockets if unit_col == "sockets" else procs)
        slope_pm = slope_walk = slope_ss = "–"
        if prev and order == "shuffled" and units != prev[0]:
            du = units - prev[0]
            slope_pm = f"{(pm - prev[1]) * 1000 / du:.2f}"
            slope_ss = f"{(ss - prev[2]) * 1000 / du:.2f}"
            slope_walk = f"{(walk - prev[3]) * 1000 / du:.2f}"
        if order == "shuffled":
            prev = (units, pm, ss, walk)
        print(f"| {int(sockets):,} | {int(procs):,} ({int(idle):,}) | {order} | {pms} / {sss} | {before} | {pm:.1f} | {walk:.1f} | {ss:.1f} | {pm / ss:.2f} | {walk / ss:.2f} | "
              f"{pm * 1000 / units:.2f} | {walk * 1000 / units:.2f} | {ss * 1000 / units:.2f} | {slope_pm} | {slope_walk} | {slope_ss} |")
    print()
table("sockets", "Sockets (300 idle processes)", "sockets", "socket")
table("procs", "Idle processes (2,200 sockets)", "procs", "process")
EOF
}

{
  echo "# portman benchmark"
  echo
  machine
  echo "- command: \`bench/run.sh$([[ $MODE == main ]] && echo ' --quick')$([[ $MODE == sweep ]] && echo ' --sweep') --runs $RUNS --sweep-runs $SWEEP_RUNS\`"
  echo
  [[ $MODE == sweep ]] || main_case
  [[ $MODE == main ]] || sweep
  echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
} >"$OUT/results.md"  # not a pipeline: the state and its cleanup stay in this shell
stop_state
cat "$OUT/results.md"
log "done; raw results in $OUT"
