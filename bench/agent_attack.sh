#!/usr/bin/env bash
# portman agent under attack, at the scale of issue 10, with the scraper's latency recorded.
#
#   bench/agent_attack.sh [--before PATH] [--small] [--out DIR]
#
#   --before PATH  also run every attack against this portman binary (an older build), for
#                  before/after figures
#   --small        the integration tests' own scale instead of the issue's
#   --out DIR      where the raw output goes (default: a new /tmp/portman-attack.XXXXXX)
#
# Environment: BUILD (the CMake build folder with portman and tests/integration_tests; default
# build), PORTMAN (the binary under test; default $BUILD/portman).
#
# The attacks are the "[attack]" integration tests (tests/integration/test_agent_attack.cpp),
# run with PORTMAN_ATTACK_SCALE=full: 600 idle connections from one client; 600 connections
# from one client plus 300 from 150 clients sending a header byte a second; 8 clients sending
# 1 MB headers in a loop; 200 connections from 20 clients sending a different wrong password in
# every request over TLS. Each runs in a fresh network namespace, with a scraper (curl, one
# request at a time) measured alone first and then under the attack. Every test prints one
# "figures:" line; this script collects them into a table. A failed check under --before is
# expected (that is the point) and does not stop the run. Needs root; about 2 minutes per binary.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BENCH_NAME=agent-attack
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"

BEFORE=
SCALE=full
OUT=
while [[ $# -gt 0 ]]; do
  case "$1" in
    --before) BEFORE=$2; shift ;;
    --small) SCALE=small ;;
    --out) OUT=$2; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "agent_attack.sh: unknown option '$1'; see --help" >&2; exit 2 ;;
  esac
  shift
done

BUILD=${BUILD:-$ROOT/build}
PORTMAN=${PORTMAN:-$BUILD/portman}
TESTS=$BUILD/tests/integration_tests
for f in "$PORTMAN" "$TESTS"; do
  [[ -x $f ]] || { echo "agent_attack.sh: $f is missing; build portman and integration_tests" >&2; exit 2; }
done
[[ -z $BEFORE || -x $BEFORE ]] || { echo "agent_attack.sh: --before $BEFORE is not executable" >&2; exit 2; }
OUT=${OUT:-$(mktemp -d /tmp/portman-attack.XXXXXX)}
mkdir -p "$OUT"

run_one() {  # label binary
  local label=$1 bin=$2
  log "$label: $bin"
  PORTMAN_ATTACK_SCALE=$SCALE PORTMAN_TEST_BIN=$bin \
    "$TESTS" "[attack]" --durations yes >"$OUT/$label.txt" 2>&1
  log "$label: exit $? (raw output in $OUT/$label.txt)"
}

run_one after "$PORTMAN"
[[ -n $BEFORE ]] && run_one before "$BEFORE"

echo "# portman agent under attack ($(date -u +%F), $(nproc) cores, scale $SCALE)"
echo
echo "| binary | attack | what the attack did | scraper alone | scraper under attack |"
echo "| --- | --- | --- | --- | --- |"
for label in after before; do
  [[ -f $OUT/$label.txt ]] || continue
  grep '^figures: ' "$OUT/$label.txt" | sed -E \
    's/^figures: ([^ ]+) scale=[^ ]+ attack=\{(.*)\} baseline=\{([^}]*)\} under_attack=\{([^}]*)\}$/| '"$label"' | \1 | \2 | \3 | \4 |/'
done
