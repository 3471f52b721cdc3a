#!/usr/bin/env bash
# packaging/man_render: portman(1) renders at 80 columns without a warning.
# packaging/man_covers_cli (with --covers PORTMAN): every command and flag that `portman --help`
# and `portman COMMAND --help` show (CLI11's own help, not the page's generator) is in the page.
set -euo pipefail
. "$(dirname "$0")/common.sh"
page=$1
need man man-db
[ -f "$page" ] || fail "no man page at $page"
warnings=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
[ -z "$warnings" ] || fail "man warns: $warnings"
text=$(MANWIDTH=80 man -l "$page" 2>/dev/null | sed $'s/.\b//g')  # no overstrike
grep -q '^NAME' <<<"$text" || fail "no NAME section"
if [ "${2:-}" != --covers ]; then
  echo "man page renders without warnings"
  exit 0
fi
portman=$3
# Words as CLI11 prints them: subcommands under "Subcommands:", flags at the start of a line.
commands=$("$portman" --help | awk '/^Subcommands:/{on=1; next} on && /^  [a-z]/{print $1} on && /^$/{on=0}')
[ -n "$commands" ] || fail "no subcommands found in portman --help"
missing=()
check_flags() {  # the flags of one help text
  local flags
  flags=$(grep -Eo '^  +-[-a-zA-Z0-9._,]+' | tr ',' '\n' | tr -d ' ' | { grep -v -e '^-h$' -e '^--help$' || true; } | sort -u)
  for flag in $flags; do
    grep -qF -- "$flag" <<<"$text" || missing+=("$1 $flag")
  done
}
check_flags portman < <("$portman" --help)
for command in $commands; do
  grep -qE "^ +portman $command( |$)" <<<"$text" || missing+=("command $command")
  check_flags "$command" < <("$portman" "$command" --help)
done
[ ${#missing[@]} -eq 0 ] || fail "not in the man page: ${missing[*]}"
echo "man page covers $(wc -w <<<"$commands") commands and their flags"
