#!/usr/bin/env bash
# packaging/depends: Depends holds what dpkg-shlibdeps found (libc6, yaml-cpp...) and the
# libraries opened at run time, which it cannot see.
set -euo pipefail
. "$(dirname "$0")/common.sh"
PACKAGE_DIR=$1
need dpkg-deb dpkg
depends=$(dpkg-deb -f "$(the_deb)" Depends)
echo "Depends: $depends"
for package in libcurl4 libmicrohttpd12 libgnutls30 libcrypt1 zlib1g adduser libc6 libyaml-cpp0.7; do
  grep -Eq "(^|, )$package( |,|$)" <<<"$depends" || fail "Depends lacks $package"
done
