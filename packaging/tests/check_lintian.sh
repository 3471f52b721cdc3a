#!/usr/bin/env bash
# packaging/lintian: no error (warnings and notes are printed, and allowed).
set -euo pipefail
. "$(dirname "$0")/common.sh"
PACKAGE_DIR=$1
need lintian lintian
# As root lintian only warns that it should not be; the tags are what matter.
rc=0
out=$(lintian --fail-on error --pedantic --info "$(the_deb)" 2>&1) || rc=$?
grep -v 'running with root privileges' <<<"$out" || true
[ $rc -eq 0 ] || fail "lintian reports errors (E: above), exit $rc"
echo "lintian: no errors"
