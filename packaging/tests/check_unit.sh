#!/usr/bin/env bash
# packaging/systemd_verify: `systemd-analyze verify` accepts the unit, silently, in a root made of
# the package's files and the host's systemd units (so /usr/bin/portman exists there without
# installing anything). No running systemd is needed.
set -euo pipefail
. "$(dirname "$0")/common.sh"
PACKAGE_DIR=$1
need systemd-analyze systemd
need dpkg-deb dpkg
[ -x /bin/kill ] || skip "no /bin/kill (Debian package procps)"
units=/lib/systemd/system
[ -f $units/sysinit.target ] || skip "no systemd units in $units (Debian package systemd)"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
dpkg-deb -x "$(the_deb)" "$root"
mkdir -p "$root/bin"
cp /bin/kill "$root/bin/kill"  # ExecReload
cp -an $units/. "$root$units/"
# It prints and still exits 0 for a bad value in a known key: any output is a failure.
# Documentation=man:portman(1) is looked up with man: in the root, not installed.
out=$(MANPATH="$root/usr/share/man" systemd-analyze verify --root="$root" "$root$units/portman.service" 2>&1) ||
  fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify: $out"
echo "unit verified"
