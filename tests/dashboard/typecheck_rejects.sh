#!/bin/sh
# Passes when dashboards/typecheck.sh rejects a copy of DASHBOARD.json with one mistake (MUTATION,
# see mutate.js): the type check is shown to fail on what it is meant to catch. Exit 77 (skipped)
# when the npm packages are not installed, as typecheck.sh.
set -u
if [ $# -ne 2 ]; then
  echo "usage: typecheck_rejects.sh DASHBOARD.json MUTATION" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
typecheck="$here/../../dashboards/typecheck.sh"
if [ ! -d "$here/../../dashboards/node_modules/@grafana/schema" ]; then
  echo "skipped: dashboards/node_modules is missing; run 'npm ci' in dashboards/" >&2
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# What tsc's message must name: the mistake itself, not some other error.
case $2 in
  misspelt_key | misspelt_nested_key) expect='"gridpos"' ;;
  bad_enum) expect='"absolut"' ;;
  bad_option) expect='"backgrund"' ;;
  misspelt_query_key) expect='"exp"' ;;
  *) expect='' ;;
esac
node "$here/mutate.js" "$1" "$work/mutated.json" "$2" || exit 1
"$typecheck" "$work/mutated.json" >"$work/out" 2>&1
status=$?
cat "$work/out"
case $status in
  0) echo "FAIL: typecheck.sh accepted the dashboard with mutation $2" >&2; exit 1 ;;
  1) ;;
  *) echo "FAIL: typecheck.sh exited $status (neither accept nor reject)" >&2; exit 1 ;;
esac
if ! grep -q "error TS.*$expect" "$work/out"; then
  echo "FAIL: typecheck.sh rejected mutation $2 without naming $expect" >&2
  exit 1
fi
echo "ok: typecheck.sh rejected mutation $2, naming $expect"
