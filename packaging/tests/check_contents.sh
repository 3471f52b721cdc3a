#!/usr/bin/env bash
# packaging/contents: the files of the .deb, their modes and owners, exactly as listed in
# expected_contents.txt; /etc/portman/portman.yml a conffile pointing at /var/lib/portman;
# maintainer scripts executable.
set -euo pipefail
here=$(dirname "$0")
. "$here/common.sh"
PACKAGE_DIR=$1
need dpkg-deb dpkg
deb=$(the_deb)
diff -u <(grep -v '^#' "$here/expected_contents.txt") \
  <(dpkg-deb -c "$deb" | awk '{print $1, $2, $6}') || fail "the package's files differ from expected_contents.txt (- expected, + found)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -e "$deb" "$tmp/control"
[ "$(cat "$tmp/control/conffiles")" = /etc/portman/portman.yml ] || fail "conffiles: $(cat "$tmp/control/conffiles")"
for script in postinst prerm postrm; do
  [ "$(stat -c %a "$tmp/control/$script")" = 755 ] || fail "$script is not mode 755"
  sh -n "$tmp/control/$script" || fail "$script: syntax error"
done
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./etc/portman/portman.yml > "$tmp/portman.yml"
grep -qx 'registry: /var/lib/portman/port_registry.json' "$tmp/portman.yml" || fail "the installed config does not put the registry in /var/lib/portman"
echo "contents as expected"
