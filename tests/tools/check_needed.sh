#!/bin/sh
# check_needed.sh BINARY PREFIX...: fails when BINARY's DT_NEEDED lists a library whose soname
# starts with one of the prefixes (<prefix>.so). Those are opened with dlopen at first use
# (libportman/shared_library.hpp); linking one again would put its load back into every start.
# Skipped (77) without readelf.
set -u
bin=$1
shift
command -v readelf >/dev/null || { echo "SKIPPED: readelf (binutils) is not installed"; exit 77; }
needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p') || exit 1
# A binary without libc in its list means the output was not understood: never pass on that.
echo "$needed" | grep -q '^libc\.so' || { echo "no libc.so.* among DT_NEEDED of $bin:"; readelf -d "$bin"; exit 1; }
status=0
for prefix in "$@"; do
  if echo "$needed" | grep -q "^$prefix\.so"; then
    echo "$bin needs $(echo "$needed" | grep "^$prefix\.so" | tr '\n' ' ')at start; portman must not link it (opened with dlopen at first use, or used by the tests only)"
    status=1
  fi
done
[ $status = 0 ] && echo "DT_NEEDED of $bin: $(echo "$needed" | tr '\n' ' ')"
exit $status
