# Shared by the packaging tests: skipping (exit 77, ctest's SKIP_RETURN_CODE) and failing.
skip() { echo "SKIPPED: $*"; exit 77; }
fail() { echo "FAILED: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null || skip "$1 is not installed${2:+ (Debian package $2)}"; }
# The .deb the packaging/build test made in $PACKAGE_DIR.
the_deb() {
  local debs=("$PACKAGE_DIR"/portman_*.deb)
  [ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || fail "expected one portman_*.deb in $PACKAGE_DIR, found: ${debs[*]}"
  echo "${debs[0]}"
}
