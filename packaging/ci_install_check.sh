#!/usr/bin/env bash
# CI, after the tests: the .deb installed as on a fresh Debian 12 machine (as root, with apt),
# checked, upgraded over a changed config and a registry, then purged.
# usage: packaging/ci_install_check.sh [BUILD_DIR]
set -euo pipefail
build=$(realpath "${1:-build}")
export DEBIAN_FRONTEND=noninteractive
fail() { echo "ci_install_check: FAILED: $*" >&2; exit 1; }
step() { echo "== $*"; }

step "package"
rm -f "$build"/portman_*.deb
cmake --build "$build" --target package
debs=("$build"/portman_*.deb)
[ ${#debs[@]} -eq 1 ] || fail "expected one .deb in $build: ${debs[*]}"
deb=${debs[0]}
dpkg -s portman >/dev/null 2>&1 && fail "portman is already installed; this check wants a fresh machine"

step "install $deb"
apt-get install -y -q "$deb"
portman version
step "validate the installed config and the fresh registry"
portman --config /etc/portman/portman.yml validate
getent passwd portman | grep -q ':/var/lib/portman:/usr/sbin/nologin$' || fail "user portman: $(getent passwd portman)"
getent group portman >/dev/null || fail "no group portman"
[ "$(stat -c '%U:%G %a' /var/lib/portman)" = "portman:portman 2775" ] || fail "/var/lib/portman is $(stat -c '%U:%G %a' /var/lib/portman)"
registry=/var/lib/portman/port_registry.json
[ "$(stat -c '%U:%G %a' $registry)" = "portman:portman 664" ] || fail "$registry is $(stat -c '%U:%G %a' $registry)"

step "a member of group portman allocates without root; another user cannot"
member=portman-ci-member
useradd --no-create-home --groups portman "$member"
trap 'userdel "$member" 2>/dev/null || true' EXIT
port=$(su "$member" -s /bin/sh -c 'portman allocate ci-check -t api')
[ "$port" = 8000 ] || fail "allocate by a member printed '$port'"
[ "$(stat -c '%G %a' $registry)" = "portman 664" ] || fail "after a member's save: $(stat -c '%G %a' $registry)"
if su nobody -s /bin/sh -c 'portman allocate intruder -t api' 2>/dev/null; then fail "nobody could allocate"; fi
portman --config /etc/portman/portman.yml validate

step "upgrade: a changed config and the registry survive"
echo "# changed by the admin" >> /etc/portman/portman.yml
config_sum=$(md5sum < /etc/portman/portman.yml)
registry_sum=$(md5sum < $registry)
next=$(mktemp -d)
version=$(dpkg-deb -f "$deb" Version)
cpack --config "$build/CPackConfig.cmake" -G DEB -B "$next" -D CPACK_PACKAGE_VERSION="$version+ci1" >/dev/null
apt-get install -y -q "$next"/portman_*.deb
[ "$(dpkg-query -W -f '${Version}' portman)" = "$version+ci1" ] || fail "not upgraded"
[ "$(md5sum < /etc/portman/portman.yml)" = "$config_sum" ] || fail "the changed config was replaced"
[ "$(md5sum < $registry)" = "$registry_sum" ] || fail "the registry changed on upgrade"
portman list | grep -q ci-check || fail "the registry lost its entry"
rm -rf "$next"

step "purge"
apt-get purge -y -q portman
if dpkg -s portman >/dev/null 2>&1; then fail "still installed"; fi
for gone in /usr/bin/portman /etc/portman /var/lib/portman /lib/systemd/system/portman.service; do
  [ ! -e "$gone" ] || fail "$gone is left after purge"
done
echo "ci_install_check: install, validate, group write, upgrade and purge all fine"
