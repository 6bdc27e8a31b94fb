#!/usr/bin/env bash
# Installs fdplug into a scratch DESTDIR, builds a plugin against the installed header with
# pkg-config and a plain C compiler, and checks that fdplug-host loads it.
# usage: build-out-of-tree.sh BUILDDIR SOURCE.c
set -euo pipefail
builddir=$1 source=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

meson install -C "$builddir" --destdir "$scratch" --no-rebuild --quiet >/dev/null
pc=$(find "$scratch" -name fdplug.pc | head -n1)
[ -n "$pc" ] || { echo "FAIL: no fdplug.pc was installed"; exit 1; }
prefix=$(sed -n 's/^prefix=//p' "$pc")
cflags=$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --define-variable=prefix="$scratch$prefix" --cflags fdplug)
echo "pkg-config --cflags fdplug: $cflags"

mkdir "$scratch/plugins"
cc -std=c11 -Wall -Wextra -Werror -shared -fPIC -fvisibility=hidden $cflags \
   -o "$scratch/plugins/oot.so" "$source"

host=$(find "$scratch" -name fdplug-host -type f | head -n1)
out=$("$host" -plugin-dir "$scratch/plugins" -device help)
echo "$out"
grep -q '"oot-dev"' <<<"$out" || { echo "FAIL: the out-of-tree plugin's type is not listed"; exit 1; }
echo "PASS: out-of-tree plugin built with pkg-config and loaded"
