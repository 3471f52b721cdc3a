#!/usr/bin/env bash
# Runs a fuzz target (or all of them, one after the other) for SECONDS each, niced, one process:
#   fuzz/run.sh TARGET|all SECONDS
# The build is $PORTMAN_FUZZ_BUILD (default build-fuzz, configured with -DPORTMAN_FUZZ=ON and
# clang). Seeds come from tests/fixtures and fuzz/corpus/TARGET; what the fuzzer finds new goes
# to BUILD/fuzz/corpus/TARGET (kept between runs), crashes and leaks to BUILD/fuzz/findings/
# TARGET, the log to BUILD/fuzz/logs/TARGET.log, and one line per run to BUILD/fuzz/runs.tsv
# (date, target, seconds, executions, corpus size, findings). PORTMAN_FUZZ_SMOKE=1 (the ctest
# smoke) keeps nothing. PORTMAN_FUZZ_TIMEOUT (seconds, default 10) is libFuzzer's -timeout for one
# input: raise it on a loaded machine, where a niced fuzzer can wait that long for a core. Exits 1
# when a target found something.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
build="${PORTMAN_FUZZ_BUILD:-$repo/build-fuzz}"
targets=(registry config web_config proc_net sock_diag proc_process compose_ports dokploy docker
         http_request)
fixtures="$repo/tests/fixtures"
sep=$'\n--8<--\n'

usage() { echo "usage: fuzz/run.sh TARGET|all SECONDS (targets: ${targets[*]})" >&2; exit 2; }
[[ $# -eq 2 && "$2" =~ ^[0-9]+$ ]] || usage

# Seeds made from the test fixtures, per target. The committed ones are in fuzz/corpus/TARGET,
# with every input that once crashed (found-*), so that the smoke replays them.
make_seeds() {
  local t=$1 dir=$2 f
  mkdir -p "$dir"
  case $t in
    registry) cp "$fixtures"/registry/*.json "$dir/"; cp "$fixtures/metrics/registry.json" "$dir/metrics.json" ;;
    config) cp "$fixtures"/config/*.yml "$repo/config/portman.yml" "$dir/" ;;
    web_config) cp "$fixtures"/web/*.yml "$dir/" ;;
    proc_net)  # first byte: bit 0 udp, bit 1 ipv6
      for f in tcp:0 udp:1 tcp6:2 udp6:3 tcp_malformed:0; do
        { printf "\\x0${f#*:}"; cat "$fixtures/proc_net/${f%%:*}"; } > "$dir/${f%%:*}"
      done ;;
    proc_process)
      for f in "$fixtures"/procfs_owners/walk/*/{cgroup,cmdline,stat,status} \
               "$fixtures"/procfs_owners/walk/*/task/*/children; do
        [[ -f $f ]] && cp "$f" "$dir/$(echo "${f#$fixtures/}" | tr / _)"
      done ;;
    dokploy)  # project.all, then every .one answer
      for v in v1 v2 v3; do
        { cat "$fixtures/dokploy/project-all.$v.json"
          for f in "$fixtures"/dokploy/*.one/*.json; do printf '%s' "$sep"; cat "$f"; done
        } > "$dir/project-all.$v"
      done
      for f in "$fixtures"/dokploy/*.json; do cp "$f" "$dir/"; done ;;
    docker)
      { cat "$fixtures/docker/containers.json"; printf '%s' "$sep"
        cat "$fixtures/docker/info_swarm_active.json"; printf '%s' "$sep"
        cat "$fixtures/docker/services.json"; } > "$dir/swarm"
      { cat "$fixtures/docker/containers.json"; printf '%s' "$sep"
        cat "$fixtures/docker/info.json"; } > "$dir/plain" ;;
  esac
  if [[ -d "$here/corpus/$t" ]]; then cp "$here/corpus/$t"/* "$dir/" 2>/dev/null || true; fi
}

run_one() {
  local t=$1 secs=$2 bin="$build/fuzz/fuzz_$1"
  [[ -x $bin ]] || { echo "$bin missing: cmake --build $build --target fuzz_$t" >&2; return 2; }
  local work="$build/fuzz" tmp
  tmp="$(mktemp -d)"
  make_seeds "$t" "$tmp/seeds"
  local corpus="$work/corpus/$t" findings="$work/findings/$t" log="$work/logs/$t.log"
  if [[ -n "${PORTMAN_FUZZ_SMOKE:-}" ]]; then
    corpus="$tmp/corpus" findings="$tmp/findings" log="$tmp/log"
  fi
  mkdir -p "$corpus" "$findings" "$(dirname "$log")"
  local dict=() rc=0
  [[ -f "$here/dict/$t.dict" ]] && dict=("-dict=$here/dict/$t.dict")
  # Undefined behaviour and leaks are findings too. One process, no -jobs/-workers (those fork
  # jobs that log to ./fuzz-N.log).
  ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
    nice -n 19 "$bin" "$corpus" "$tmp/seeds" "${dict[@]}" -max_total_time="$secs" -timeout="${PORTMAN_FUZZ_TIMEOUT:-10}" \
    -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$findings/" < /dev/null > "$log" 2>&1 || rc=$?
  local execs corpus_n found
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  corpus_n="$(find "$corpus" -type f | wc -l)"
  found="$(find "$findings" -type f | wc -l)"
  local record="$work/runs.tsv"
  [[ -n "${PORTMAN_FUZZ_SMOKE:-}" ]] && record=/dev/null
  printf '%s\t%s\t%ss\t%s execs\t%s corpus\t%s findings\trc %s\n' "$(date -u +%FT%TZ)" "$t" \
    "$secs" "${execs:-?}" "$corpus_n" "$found" "$rc" | tee -a "$record"
  if [[ $rc -ne 0 || $found -ne 0 ]]; then
    grep -m5 -E 'ERROR|runtime error|SUMMARY' "$log" >&2 || true
    echo "log: $log; findings: $findings" >&2
    [[ -n "${PORTMAN_FUZZ_SMOKE:-}" ]] && cat "$log" >&2
    rm -rf "$tmp"
    return 1
  fi
  rm -rf "$tmp"
}

if [[ $1 == all ]]; then
  status=0
  for t in "${targets[@]}"; do run_one "$t" "$2" || status=1; done
  exit $status
fi
[[ " ${targets[*]} " == *" $1 "* ]] || usage
run_one "$1" "$2"
