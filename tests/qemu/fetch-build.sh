#!/usr/bin/env bash
# Fetches Debian 12's QEMU source and builds just QEMU's own QMP tests, tests/qtest/qmp-test and
# tests/qtest/qmp-cmd-test, into a cache that tests/qemu/run_qemu_qmp_tests.py runs against
# fdplug-host (docs/qmp.md, "QEMU's own QMP tests"). Nothing of the system's APT configuration is
# changed: the deb-src entries live in a private APT directory. Idempotent: once the two binaries
# are cached, it only prints where they are.
# Usage: tests/qemu/fetch-build.sh        prints the cache directory on its last line of stdout
# Environment: FDPLUG_QEMU_QTEST_CACHE (default /var/cache/fdplug/qemu-qtest),
#              FDPLUG_QEMU_KEEP=1 keeps the source and build tree (under the cache's work/).
set -euo pipefail

cache=${FDPLUG_QEMU_QTEST_CACHE:-/var/cache/fdplug/qemu-qtest}
jobs=$(nproc)
log() { echo "fetch-build: $*" >&2; }

# A cached build with both programs will do: later runs need no network.
for dir in "$cache"/*/; do
    if [ -x "$dir/qmp-test" ] && [ -x "$dir/qmp-cmd-test" ] && [ -s "$dir/version" ]; then
        log "cached: $(cat "$dir/version") in $dir"
        echo "${dir%/}"
        exit 0
    fi
done

start=$SECONDS
work=$cache/work
rm -rf "$work"
mkdir -p "$work/apt/sources.list.d" "$work/apt/lists/partial" "$work/apt/cache/archives/partial"

# deb-src for the suites and keyring the machine's own deb entries use (Debian 12, bookworm).
cat >"$work/apt/sources.list.d/debian-src.sources" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
apt_private=(
    -o Dir::Etc::SourceList=/dev/null
    -o Dir::Etc::SourceParts="$work/apt/sources.list.d"
    -o Dir::State::Lists="$work/apt/lists"
    -o Dir::Cache="$work/apt/cache"
    # _apt cannot write into a private directory owned by another user.
    -o APT::Sandbox::User="$(id -un)"
)
log "apt-get update (private deb-src lists in $work/apt)"
apt-get -qq "${apt_private[@]}" update
mkdir "$work/src"
log "apt-get source --download-only qemu"
(cd "$work/src" && apt-get -qq "${apt_private[@]}" source --download-only qemu)
dsc=$(ls "$work"/src/qemu_*.dsc)
version=$(sed -n 's/^Version: //p' "$dsc")
# apt-get source checked every file against the signed Sources index; dpkg-source's own check of
# the uploader's signature needs debian-keyring, so its gpgv says "No public key" (not an error).
log "dpkg-source -x $(basename "$dsc") (Debian's patches applied, as Debian builds it)"
(cd "$work/src" && dpkg-source -q -x "$(basename "$dsc")" qemu >/dev/null)
fetched=$SECONDS
log "fetched and unpacked QEMU $version in $((fetched - start)) s"

# The leanest configuration that still builds the two test programs from QEMU's own, unpatched
# sources: one softmmu target (the qtest programs are only declared per softmmu target; the
# binary is the same whichever target declares it, and libqtest takes the architecture from
# QTEST_QEMU_BINARY at run time, not from the build), tricore because it needs neither libfdt
# nor many devices; every optional feature, device, tool and the docs off; -O0 without debug
# info (--enable-debug), the quickest compile for two short-running clients. ninja then builds
# just those two programs and what they link (libqemuutil, libqos), not QEMU itself.
mkdir "$work/build"
log "configure (tricore-softmmu, no default features or devices, -O0)"
(cd "$work/build" && "$work/src/qemu/configure" --target-list=tricore-softmmu \
    --without-default-features --without-default-devices --disable-docs --disable-werror \
    --enable-debug --disable-debug-info >configure.log 2>&1) || {
    tail -20 "$work/build/configure.log" >&2
    exit 1
}
configured=$SECONDS
log "configured in $((configured - fetched)) s; ninja -j$jobs tests/qtest/qmp-test tests/qtest/qmp-cmd-test"
ninja -C "$work/build" -j"$jobs" tests/qtest/qmp-test tests/qtest/qmp-cmd-test >"$work/build/ninja.log" 2>&1 || {
    tail -20 "$work/build/ninja.log" >&2
    exit 1
}
built=$SECONDS
out=$cache/${version//:/_}
mkdir -p "$out"
cp "$work/build/tests/qtest/qmp-test" "$work/build/tests/qtest/qmp-cmd-test" "$out/"
echo "$version" >"$out/version"
printf 'fetch %d s, configure %d s, build %d s, total %d s on %d CPUs\n' "$((fetched - start))" \
    "$((configured - fetched))" "$((built - configured))" "$((built - start))" "$jobs" >"$out/build-time"
log "QEMU $version test programs in $out: $(cat "$out/build-time")"
[ "${FDPLUG_QEMU_KEEP:-0}" = 1 ] || rm -rf "$work"
echo "$out"
