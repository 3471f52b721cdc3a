#!/usr/bin/env bash
# packaging/depends: Depends holds what dpkg-shlibdeps found (libc6; yaml-cpp and libstdc++
# when they are not linked in) and the libraries opened at run time, which it cannot see.
set -euo pipefail
. "$(dirname "$0")/common.sh"
PACKAGE_DIR=$1
need dpkg-deb dpkg
depends=$(dpkg-deb -f "$(the_deb)" Depends)
echo "Depends: $depends"
has() { grep -Eq "(^|, )$1( |,|$)" <<<"$depends"; }
for package in libcurl4 libmicrohttpd12 libgnutls30 libcrypt1 zlib1g adduser libc6; do
  has "$package" || fail "Depends lacks $package"
done
# yaml-cpp and libstdc++ are linked into the binary (PORTMAN_STATIC_CXX) or depended on.
need readelf binutils
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$(the_deb)" "$tmp"
needed=$(readelf -d "$tmp/usr/bin/portman" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
echo "NEEDED: $(tr '\n' ' ' <<<"$needed")"
for pair in libyaml-cpp.so:libyaml-cpp0.7 libstdc++.so:libstdc++6; do
  lib=${pair%%:*} package=${pair#*:}
  if grep -q "^$lib" <<<"$needed"; then
    has "$package" || fail "portman needs $lib but Depends lacks $package"
  elif has "$package"; then
    fail "Depends holds $package, which portman does not load"
  fi
done
