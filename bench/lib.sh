# What the bench scripts share; sourced, with ROOT set to the checkout and BENCH_NAME to the
# prefix of log lines.

log() { echo "[${BENCH_NAME:-bench} $(date +%T)] $*" >&2; }

# PORTMAN, or build-bench/portman, built in Release when missing (before any network namespace:
# the build needs nothing from the network, but the namespace has no route to anything).
ensure_portman() {
  PORTMAN=${PORTMAN:-$ROOT/build-bench/portman}
  if [[ ! -x $PORTMAN ]]; then
    log "building portman into $ROOT/build-bench"
    cmake -S "$ROOT" -B "$ROOT/build-bench" -G Ninja -DCMAKE_BUILD_TYPE=Release >&2
    cmake --build "$ROOT/build-bench" --target portman >&2
  fi
}
