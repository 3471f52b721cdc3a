#!/bin/sh
# `promtool check config` on config/prometheus.yml as an operator would install it: the rules
# file copied next to it (its rule_files entry is relative). $1 promtool, $2 the example, $3 the
# rules. Skipped (77) without promtool.
set -e
if [ ! -x "$1" ]; then
  echo "skipped: promtool not found (Debian package prometheus)" >&2
  exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp "$2" "$dir/prometheus.yml"
cp "$3" "$dir/portman.rules.yml"
"$1" check config "$dir/prometheus.yml"
