#!/bin/sh
# Runs promtool for ctest: $1 is the promtool that CMake found (or PROMTOOL-NOTFOUND), the rest
# its arguments. Without promtool the test is skipped (exit 77), not passed.
promtool=$1
shift
if [ ! -x "$promtool" ]; then
  echo "skipped: promtool not found (Debian package prometheus)" >&2
  exit 77
fi
exec "$promtool" "$@"
