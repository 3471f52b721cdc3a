#!/bin/sh
# Runs promtool or amtool for ctest: $1 is the program CMake found (or NAME-NOTFOUND), $2 the
# Debian package that has it, the rest its arguments. Without it the test is skipped (exit 77),
# not passed.
tool=$1
package=$2
shift 2
if [ ! -x "$tool" ]; then
  echo "skipped: $tool not found (Debian package $package)" >&2
  exit 77
fi
exec "$tool" "$@"
