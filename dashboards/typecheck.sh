#!/bin/sh
# Type-checks a Grafana dashboard's JSON against Grafana's published types (@grafana/schema, via
# dashboard-types.ts) with the pinned TypeScript. Exit 0: it types; 1: a type error (tsc's
# messages name the line of the wrapped JSON); 2: bad usage; 77: the npm packages are not
# installed (ctest: skipped).
set -eu
if [ $# -ne 1 ]; then
  echo "usage: typecheck.sh DASHBOARD.json" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
dashboard=$1
if [ ! -x "$here/node_modules/.bin/tsc" ] || [ ! -d "$here/node_modules/@grafana/schema" ]; then
  echo "skipped: $here/node_modules is missing; run 'npm ci' in $here" >&2
  exit 77
fi
if [ ! -r "$dashboard" ]; then
  echo "typecheck.sh: cannot read $dashboard" >&2
  exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ln -s "$here/node_modules" "$work/node_modules"
cp "$here/dashboard-types.ts" "$work/"
{
  echo "import type { PortmanDashboard } from './dashboard-types';"
  printf 'export const dashboard: PortmanDashboard = '
  cat "$dashboard"
  echo ';'
} >"$work/dashboard.ts"
cd "$work"
if ! node_modules/.bin/tsc --noEmit --strict --skipLibCheck --moduleResolution bundler \
  --module esnext --target es2022 dashboard.ts; then
  echo "typecheck.sh: $dashboard does not match Grafana's dashboard types (line numbers: the JSON's plus 1)" >&2
  exit 1
fi
