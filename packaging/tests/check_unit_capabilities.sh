#!/usr/bin/env bash
# packaging/unit_capabilities: portman as the unit runs it (a user that is not root, with only the
# unit's AmbientCapabilities and the same bounding set, no new privileges) finds the process and
# user behind another user's socket, by the /proc walk and, where the kernel loads it, by BPF.
# Without the capabilities it does not: the capabilities are what make it work.
# usage: check_unit_capabilities.sh UNIT PORTMAN TEST_LISTENER
set -euo pipefail
. "$(dirname "$0")/common.sh"
unit=$1 portman=$2 listener=$3
[ "$(id -u)" = 0 ] || skip "needs root (setpriv to another user, a network namespace)"
need setpriv util-linux
need unshare util-linux
need ip iproute2

caps_of() {  # "CAP_A CAP_B" in the unit -> "+a,+b" for setpriv
  sed -n "s/^$1=//p" "$unit" | tr ' ' '\n' | sed -n 's/^CAP_\(.*\)/+\L\1/p' | paste -sd,
}
ambient=$(caps_of AmbientCapabilities)
[ -n "$ambient" ] || fail "no AmbientCapabilities in $unit"
[ "$ambient" = "$(caps_of CapabilityBoundingSet)" ] || fail "the bounding set is not the ambient set"
grep -qx 'NoNewPrivileges=yes' "$unit" || fail "no NoNewPrivileges=yes in $unit"

# In a fresh network namespace: only the test's socket listens there.
export ambient portman listener
unshare --net bash -euo pipefail -c '
  ip link set lo up
  tmp=$(mktemp -d)
  trap "kill \$lpid 2>/dev/null; rm -rf $tmp" EXIT
  "$listener" --uid 4242 tcp:127.0.0.1:18765 > "$tmp/ready" &
  lpid=$!
  for _ in $(seq 100); do grep -q ready "$tmp/ready" && break; sleep 0.05; done
  grep -q ready "$tmp/ready" || { echo "test_listener did not start"; exit 1; }
  # A registry path every user may look up (and find missing): not in the private $tmp.
  export PORTMAN_CONFIG=/dev/null PORT_REGISTRY_PATH=/nonexistent/port_registry.json
  scan() {  # scan METHOD CAPS: "PID USER" of port 18765 as user 65534 holding CAPS
    local caps=$2
    setpriv --reuid=65534 --regid=65534 --clear-groups ${caps:+--inh-caps=$caps --ambient-caps=$caps} \
      --bounding-set=-all${caps:+,$caps} --no-new-privs -- \
      "$portman" scan --owners.method "$1" --no-collector.docker 2>/dev/null |
      awk "\$1 == 18765 { print \$5, \$6 }"
  }
  want="$lpid 4242"
  got=$(scan procfs "$ambient")
  [ "$got" = "$want" ] || { echo "procfs with the unit capabilities: owner \"$got\", expected \"$want\""; exit 1; }
  got=$(scan procfs "")
  [ "$got" != "$want" ] || { echo "procfs without capabilities found the owner: the check proves nothing"; exit 1; }
  # BPF: only where root can load it here.
  if [ "$("$portman" scan --owners.method bpf --no-collector.docker 2>/dev/null | awk "\$1 == 18765 { print \$5 }")" = "$lpid" ]; then
    got=$(scan bpf "$ambient")
    [ "$got" = "$want" ] || { echo "bpf with the unit capabilities: owner \"$got\", expected \"$want\""; exit 1; }
    echo "bpf: owner found with the unit capabilities"
  else
    echo "bpf: the kernel does not load the iterator here; checked procfs only"
  fi
' || fail "the unit's capabilities do not give portman the owners"
echo "owners found with only the unit's capabilities ($ambient)"
