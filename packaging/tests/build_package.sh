#!/usr/bin/env bash
# packaging/build: cpack makes portman_VERSION_ARCH.deb from the build tree, into a fresh folder.
# usage: build_package.sh BUILD_DIR PACKAGE_DIR VERSION
set -euo pipefail
. "$(dirname "$0")/common.sh"
build=$1 PACKAGE_DIR=$2 version=$3
need dpkg-deb dpkg
need dpkg-shlibdeps dpkg-dev
rm -rf "$PACKAGE_DIR" && mkdir -p "$PACKAGE_DIR"
cpack --config "$build/CPackConfig.cmake" -G DEB -B "$PACKAGE_DIR" > "$PACKAGE_DIR/cpack.log" 2>&1 ||
  { cat "$PACKAGE_DIR/cpack.log"; fail "cpack failed"; }
arch=$(dpkg --print-architecture)
deb=$(the_deb)
[ "$(basename "$deb")" = "portman_${version}_${arch}.deb" ] || fail "named $(basename "$deb"), not portman_${version}_${arch}.deb"
dpkg-deb --info "$deb" >/dev/null || fail "dpkg-deb cannot read $deb"
echo "built $deb"
