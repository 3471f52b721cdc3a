#!/bin/bash
# Builds portman's container image without any registry and proves it attributes host processes:
#   1. a Debian 12 root made with debootstrap (holding portman's runtime libraries and setcap),
#      `docker import`ed as the base image;
#   2. `docker build --network=none` of packaging/docker/Dockerfile on that base;
#   3. packaging/docker/docker-compose.yml brought up with docker-compose on a private dockerd
#      (own data root, exec root and socket, in a fresh network namespace: nothing of the
#      machine's Docker is touched);
#   4. a listener owned by a test user of the host, and checks that the agent in the container
#      names its pid, process, user (from the host's /etc/passwd, through --path.rootfs=/host) and
#      registered service, runs as a non-root user with exactly the capabilities cap_add gave,
#      reaches the Docker socket, and that the same image without cap_add cannot attribute it.
#
# Usage (as root, on Debian 12, after `cmake --build build`):
#   packaging/docker/test-image.sh [BUILD_DIR]
# Needs: debootstrap, docker.io, docker-compose, curl, python3 (reads the JSON), and Debian's
# mirror ($DEBIAN_MIRROR, default http://deb.debian.org/debian). Measured: 26 minutes on a loaded
# 2-core machine, all but a minute of it debootstrap (docs/install.md, "Tested"), too slow for
# .ci/run. PORTMAN_KEEP_BASE_TAR=FILE keeps the root's tarball, and PORTMAN_BASE_TAR=FILE reuses
# it: about 2 minutes then.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
DOCKER=/usr/bin/docker
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
TEST_USER=pmimage-test
LISTEN_PORT=18790
AGENT_PORT=19097
BASE_IMAGE=portman-debian12:local
IMAGE=portman-test:local

say() { printf '%s test-image: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
fail() {
  say "FAIL: $*"
  exit 1
}

# ---- phase 2: inside a fresh network namespace (re-executed below) -------------------------
if [ "${PORTMAN_IMAGE_TEST_PHASE:-}" = netns ]; then
  W=$PORTMAN_IMAGE_TEST_DIR
  SOCK=$W/docker.sock
  export DOCKER_HOST=unix://$SOCK HOME=$W DOCKER_CONFIG=$W/cli
  ip link set lo up
  DOCKERD_PID=
  LISTENER_PID=
  cleanup() {
    set +e
    [ -n "$LISTENER_PID" ] && kill "$LISTENER_PID" 2>/dev/null
    if [ -n "$DOCKERD_PID" ]; then
      (cd "$W" && docker-compose -p pmimgtest -f "$SRC/packaging/docker/docker-compose.yml" \
        down -t 2 >/dev/null 2>&1)
      $DOCKER ps -aq | xargs -r $DOCKER rm -f >/dev/null 2>&1
      containerd=$(grep -o 'started new containerd process.*pid=[0-9]*' "$W/dockerd.log" |
        grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
      kill "$DOCKERD_PID" 2>/dev/null
      for _ in $(seq 200); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.1; done
      if [ -n "$containerd" ]; then
        for _ in $(seq 100); do kill -0 "$containerd" 2>/dev/null || break; sleep 0.1; done
      fi
    fi
    return 0
  }
  trap cleanup EXIT

  say "starting a private dockerd in $W"
  /usr/sbin/dockerd --data-root "$W/data" --exec-root "$W/exec" --pidfile "$W/dockerd.pid" \
    -H "unix://$SOCK" >"$W/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  for _ in $(seq 300); do
    [ "$(curl -s --unix-socket "$SOCK" http://localhost/_ping 2>/dev/null)" = OK ] && break
    sleep 0.1
  done
  [ "$(curl -s --unix-socket "$SOCK" http://localhost/_ping)" = OK ] ||
    fail "dockerd did not start: $(tail -5 "$W/dockerd.log")"

  say "importing the debootstrap root as $BASE_IMAGE"
  $DOCKER import - "$BASE_IMAGE" <"$W/base.tar" >/dev/null

  say "docker build --network=none"
  mkdir -p "$W/ctx"
  cp "$BUILD/portman" "$W/ctx/portman"
  $DOCKER build -q --network=none --build-arg "BASE=$BASE_IMAGE" -t "$IMAGE" \
    -f "$SRC/packaging/docker/Dockerfile" "$W/ctx" >/dev/null ||
    fail "docker build failed"

  say "a listener owned by $TEST_USER on 127.0.0.1:$LISTEN_PORT"
  uid=$(id -u "$TEST_USER")
  cp "$BUILD/tests/test_listener" "$W/pmimg-listener"
  chmod 0755 "$W" "$W/pmimg-listener"
  "$W/pmimg-listener" --uid "$uid" "tcp:127.0.0.1:$LISTEN_PORT" &
  LISTENER_PID=$!
  # The registry: root's, mode 600, so that only CAP_DAC_READ_SEARCH lets the agent read it.
  mkdir -p "$W/registry"
  cat >"$W/registry/port_registry.json" <<EOF
{"allocations": {"$LISTEN_PORT": {"service": "image-test", "status": "active"}}}
EOF
  chmod 0600 "$W/registry/port_registry.json"
  chmod 0700 "$W/registry"

  say "docker-compose up (packaging/docker/docker-compose.yml)"
  (cd "$W" && PORTMAN_IMAGE=$IMAGE PORTMAN_LISTEN_ADDRESS=127.0.0.1:$AGENT_PORT \
    PORTMAN_REGISTRY_DIR=$W/registry DOCKER_SOCKET=$SOCK DOCKER_GID=$(stat -c %g "$SOCK") \
    docker-compose -p pmimgtest -f "$SRC/packaging/docker/docker-compose.yml" up -d \
    >"$W/compose.log" 2>&1) || fail "docker-compose up: $(tail -5 "$W/compose.log")"
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$AGENT_PORT/healthz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -sf "http://127.0.0.1:$AGENT_PORT/healthz" >/dev/null ||
    fail "the agent does not answer: $($DOCKER logs portman 2>&1 | tail -5)"

  curl -sf "http://127.0.0.1:$AGENT_PORT/api/scan" >"$W/scan.json"
  curl -sf "http://127.0.0.1:$AGENT_PORT/metrics" >"$W/metrics.txt"
  agent_pid=$($DOCKER inspect -f '{{.State.Pid}}' portman)
  python3 - "$W/scan.json" "$LISTEN_PORT" "$LISTENER_PID" "$TEST_USER" "$agent_pid" <<'EOF' ||
import json, sys
scan, port, pid, user, agent_pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
report = json.load(open(scan))
socks = [s for s in report["listening"] if s["port"] == port and s["protocol"] == "tcp"]
assert len(socks) == 1, f"listener on {port}: {socks}"
s = socks[0]
problems = []
for key, want in (("pid", pid), ("process", "pmimg-listener"), ("user", user),
                  ("service_name", "image-test")):
    if s.get(key) != want:
        problems.append(f"{key} is {s.get(key)!r}, expected {want!r}")
agent = [s for s in report["listening"] if s.get("pid") == agent_pid]
if not agent:
    problems.append(f"the agent's own socket (host pid {agent_pid}) is not attributed")
if problems:
    sys.exit("; ".join(problems))
print(f"listener: pid {s['pid']}, process {s['process']}, user {s['user']}, "
      f"service {s['service_name']}; owner source {report.get('owner_source')}")
EOF
    fail "/api/scan: see $W/scan.json"

  say "the agent's process: user and capabilities"
  status=/proc/$agent_pid/status
  agent_uid=$(awk '/^Uid:/{print $3}' "$status")
  [ "$agent_uid" = 9097 ] || fail "the agent runs as uid $agent_uid, not 9097 (portman)"
  capeff=$(awk '/^CapEff:/{print $2}' "$status")
  # DAC_READ_SEARCH 2, SYS_PTRACE 19, from cap_add through the file capabilities: nothing more.
  [ "$((16#$capeff))" = "$(((1 << 2) | (1 << 19)))" ] ||
    fail "the agent's effective capabilities are $capeff"
  echo "agent: uid $agent_uid, CapEff $capeff"

  grep -q '^portman_docker_up 1' "$W/metrics.txt" ||
    fail "portman_docker_up is not 1: $(grep portman_docker_up "$W/metrics.txt")"
  grep '^portman_owner_source_info' "$W/metrics.txt" | head -1

  say "the CLI in the container: names from the host's passwd only with --path.rootfs"
  with=$($DOCKER exec portman portman scan --json --path.rootfs=/host \
    --registry /var/lib/portman/port_registry.json)
  without=$($DOCKER exec portman portman scan --json \
    --registry /var/lib/portman/port_registry.json)
  python3 - "$LISTEN_PORT" "$TEST_USER" "$uid" "$with" "$without" <<'EOF' || fail "portman scan in the container"
import json, sys
port, user, uid = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def user_of(text):
    return [s["user"] for s in json.loads(text)["listening"] if s["port"] == port][0]
assert user_of(sys.argv[4]) == user, f"with --path.rootfs: {user_of(sys.argv[4])}"
assert user_of(sys.argv[5]) == uid, f"without: {user_of(sys.argv[5])}"
print(f"scan in the container: {user} with --path.rootfs=/host, uid {uid} without")
EOF

  say "without cap_add: the same image starts, and cannot name the listener's owner"
  $DOCKER run -d --name portman-nocaps --pid host --network host --cap-drop ALL \
    -v /:/host:ro "$IMAGE" agent --path.rootfs=/host \
    --web.listen-address=127.0.0.1:$((AGENT_PORT + 1)) >/dev/null
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$((AGENT_PORT + 1))/healthz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -sf "http://127.0.0.1:$((AGENT_PORT + 1))/api/scan" >"$W/scan-nocaps.json" ||
    fail "the agent without cap_add does not answer: $($DOCKER logs portman-nocaps 2>&1 | tail -3)"
  python3 - "$W/scan-nocaps.json" "$LISTEN_PORT" <<'EOF' || fail "without cap_add: see $W/scan-nocaps.json"
import json, sys
report, port = json.load(open(sys.argv[1])), int(sys.argv[2])
s = [s for s in report["listening"] if s["port"] == port][0]
assert s.get("pid") is None and s.get("owner_unknown"), f"attributed without capabilities: {s}"
print(f"without cap_add: pid {s.get('pid')}, owner_unknown: {s['owner_unknown'][:60]}...")
EOF
  say "PASS"
  exit 0
fi

# ---- phase 1: on the host's network (the mirror), then phase 2 in a new namespace ----------
[ "$(id -u)" = 0 ] || fail "run as root (debootstrap, dockerd and useradd need it)"
for tool in debootstrap /usr/sbin/dockerd $DOCKER docker-compose curl python3 unshare setpriv; do
  command -v "$tool" >/dev/null || fail "$tool is missing (apt-get install debootstrap docker.io docker-compose curl python3)"
done
[ -x "$BUILD/portman" ] && [ -x "$BUILD/tests/test_listener" ] ||
  fail "$BUILD/portman and $BUILD/tests/test_listener are missing: cmake --build build --target portman test_listener"

START=$(date +%s)
W=$(mktemp -d /tmp/pmimg-XXXXXX)  # short: unix socket paths hold 107 bytes
cleanup_host() {
  set +e
  userdel "$TEST_USER" >/dev/null 2>&1
  grep -o " $W[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null
  rm -rf "$W"
  say "took $(($(date +%s) - START)) s"
}
trap cleanup_host EXIT

# A test user of the host, with a uid free on the host and unknown to the image.
userdel "$TEST_USER" >/dev/null 2>&1 || true
uid=23790
while getent passwd "$uid" >/dev/null || getent group "$uid" >/dev/null; do uid=$((uid + 1)); done
useradd --no-create-home --shell /usr/sbin/nologin --uid "$uid" --user-group "$TEST_USER"

if [ -n "${PORTMAN_BASE_TAR:-}" ]; then
  say "reusing $PORTMAN_BASE_TAR"
  cp "$PORTMAN_BASE_TAR" "$W/base.tar"
else
  # The Debian packages of the libraries portman is linked against, and setcap.
  packages=libcap2-bin
  for lib in $(ldd "$BUILD/portman" | awk '/=> \//{print $3}'); do
    pkg=$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "*/$(basename "$lib")" 2>/dev/null |
      grep -v i386 | head -1) || continue
    packages="$packages,${pkg%%:*}"
  done
  say "debootstrap bookworm (minbase) with $packages"
  nice -n 5 debootstrap --variant=minbase --include="$packages" bookworm "$W/root" "$MIRROR" \
    >"$W/debootstrap.log" 2>&1 || fail "debootstrap: $(tail -5 "$W/debootstrap.log")"
  rm -rf "$W/root/var/lib/apt/lists/"* "$W/root/var/cache/apt/"*.bin "$W/root/var/cache/apt/archives/"*.deb
  tar -C "$W/root" --numeric-owner -cf "$W/base.tar" .
  rm -rf "$W/root"
  if [ -n "${PORTMAN_KEEP_BASE_TAR:-}" ]; then cp "$W/base.tar" "$PORTMAN_KEEP_BASE_TAR"; fi
fi

PORTMAN_IMAGE_TEST_PHASE=netns PORTMAN_IMAGE_TEST_DIR=$W SRC=$SRC \
  unshare --net --fork -- "$0" "$BUILD"
