#!/usr/bin/env bash
# Builds the libFuzzer targets with Debian's clang in a meson build dir of their own
# (default build-fuzz, or $FDPLUG_FUZZ_BUILDDIR): -Dfuzzers=enabled, ASan + UBSan, UBSan fatal.
# FDPLUG_FUZZ_SANITIZE=undefined builds a faster UBSan-only variant for long campaigns (default
# dir build-fuzz-ubsan); replay its corpus under the ASan build afterwards (README.md). That
# variant also leaves out the comparison hooks (-fno-sanitize-coverage=trace-cmp; keep them with
# FDPLUG_FUZZ_TRACE_CMP=1): with -use_value_profile off, libFuzzer's default, the 1- and 2-byte
# hooks feed nothing, and the 4- and 8-byte ones only feed the table of compared values that
# mutations copy into inputs (the controller's 64-bit clock comparisons, useless to a byte-coded
# input), yet the hooks took two thirds of fdc_guest_fuzz's time (3.5 times the executions per
# second without them, 1.9 times for qmp_stream_fuzz, the same coverage in a 20 s A/B).
# Prints the build dir. Usage: tests/fuzz/build.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

sanitize=${FDPLUG_FUZZ_SANITIZE:-address,undefined}
case "$sanitize" in
    address,undefined) default_dir=build-fuzz ;;
    undefined) default_dir=build-fuzz-ubsan ;;
    *) echo "build.sh: FDPLUG_FUZZ_SANITIZE must be address,undefined or undefined" >&2; exit 2 ;;
esac
builddir=${FDPLUG_FUZZ_BUILDDIR:-$default_dir}
trace_cmp=${FDPLUG_FUZZ_TRACE_CMP:-$([ "$sanitize" = undefined ] && echo 0 || echo 1)}
cflags="'-fno-sanitize-recover=all'"
[ "$trace_cmp" = 1 ] || cflags="$cflags, '-fno-sanitize-coverage=trace-cmp'"
options=(-Dfuzzers=enabled -Dbenchmarks=disabled -Dbuildtype=debugoptimized
         -Db_sanitize="$sanitize" -Db_lundef=false
         -Dcpp_args="[$cflags]" -Dc_args="[$cflags]")
if [ -f "$builddir/build.ninja" ]; then
    meson configure "$builddir" "${options[@]}" >/dev/null
else
    CC=clang CXX=clang++ meson setup "$builddir" "${options[@]}" >/dev/null
fi
ninja -C "$builddir" tests/fuzz/fdc_guest_fuzz tests/fuzz/qmp_stream_fuzz tests/fuzz/state_load_fuzz \
    tests/fuzz/imd_parse_fuzz tests/fuzz/td0_parse_fuzz >&2
echo "$builddir"
