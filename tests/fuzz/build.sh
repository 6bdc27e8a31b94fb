#!/usr/bin/env bash
# Builds the libFuzzer targets with Debian's clang in a meson build dir of their own
# (default build-fuzz, or $FDPLUG_FUZZ_BUILDDIR): -Dfuzzers=enabled, ASan + UBSan, UBSan fatal.
# FDPLUG_FUZZ_SANITIZE=undefined builds a faster UBSan-only variant for long campaigns (default
# dir build-fuzz-ubsan); replay its corpus under the ASan build afterwards (README.md).
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
options=(-Dfuzzers=enabled -Dbenchmarks=disabled -Dbuildtype=debugoptimized
         -Db_sanitize="$sanitize" -Db_lundef=false
         -Dcpp_args=-fno-sanitize-recover=all -Dc_args=-fno-sanitize-recover=all)
if [ -f "$builddir/build.ninja" ]; then
    meson setup --reconfigure "$builddir" "${options[@]}" >/dev/null
else
    CC=clang CXX=clang++ meson setup "$builddir" "${options[@]}" >/dev/null
fi
ninja -C "$builddir" tests/fuzz/fdc_guest_fuzz tests/fuzz/qmp_stream_fuzz >&2
echo "$builddir"
