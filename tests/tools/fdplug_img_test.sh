#!/usr/bin/env bash
# fdplug-img end to end: create both formats, check, info (text and JSON), convert raw -> IMD ->
# raw losslessly, refuse a lossy conversion to raw unless --lossy, usage errors; MAME's floptool
# reads every IMD file it wrote.
# usage: fdplug_img_test.sh PATH/TO/fdplug-img
set -euo pipefail
tool=$(realpath "$1")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
fail() { echo "FAIL: $*" >&2; exit 1; }

"$tool" --help | grep >/dev/null '^usage: fdplug-img' || fail "--help"
set +e
"$tool" bogus >/dev/null 2>&1; [ $? -eq 2 ] || fail "an unknown command is a usage error"
"$tool" create -f imd big.imd 2.88M 2>err; [ $? -eq 1 ] && grep -q '1 Mbit/s' err || fail "2.88M as IMD"
set -e

"$tool" create -f raw blank.img 720K
[ "$(stat -c %s blank.img)" -eq 737280 ] || fail "raw 720K size"
"$tool" create -f imd blank.imd 1.2M
"$tool" create -f imd blank.imd 1.2M 2>/dev/null && fail "create overwrote a file"
"$tool" check blank.imd | grep >/dev/null 'ok, imd, 80 x 2 x 15.*(1.2M).*uniform' || fail "check imd"
"$tool" check blank.img | grep >/dev/null 'ok, raw, 80 x 2 x 9.*(720K)' || fail "check raw"

# raw -> IMD -> raw keeps every byte.
head -c 368640 /dev/urandom > data.img
"$tool" convert -O imd data.img data.imd
"$tool" info data.imd | grep >/dev/null '^comment: Converted from data.img' || fail "comment"
"$tool" convert -O raw data.imd back.img
cmp -s data.img back.img || fail "raw -> IMD -> raw changed the data"
# IMD -> IMD keeps the header and comment.
"$tool" convert -O imd data.imd again.imd
cmp -s data.imd again.imd || fail "IMD -> IMD changed the file"

# A track with a deleted sector: a raw image would lose the mark.
python3 - <<'PY'
imd = bytearray(b'IMD 1.18: 01/01/2024 00:00:00\r\nmarks\x1a')
for c in range(40):
    for h in range(2):
        types = [4 if (c, h) == (3, 1) else 2] + [2] * 8
        imd += bytes([5, c, h, 9, 2]) + bytes(range(1, 10))
        for t in types:
            imd += bytes([t, 0xE5])
open('deleted.imd', 'wb').write(imd)
PY
"$tool" info deleted.imd | grep >/dev/null 'uniform: no' || fail "info: not uniform"
"$tool" info deleted.imd | grep >/dev/null '3.1 .* 1 deleted' || fail "info: the deleted sector"
"$tool" info --output=json deleted.imd | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["format"] == "imd" and not d["uniform"], d["uniform"]
assert d["geometry"]["name"] == "360K", d["geometry"]
t = [t for t in d["tracks"] if t["cylinder"] == 3 and t["head"] == 1][0]
assert t["sectors"][0]["mark"] == "deleted", t["sectors"][0]
' || fail "info --output=json"
set +e
"$tool" convert -O raw deleted.imd lossy.img 2>err; status=$?
set -e
[ $status -eq 1 ] && grep -q 'deleted data mark' err && grep -q -- '--lossy' err || fail "lossy refused"
[ ! -e lossy.img ] || fail "a refused conversion wrote its output"
"$tool" convert -O raw --lossy deleted.imd lossy.img
[ "$(stat -c %s lossy.img)" -eq 368640 ] || fail "--lossy output"

# An independent reader (MAME's floptool, Debian's mame-tools, installed by scripts/setup)
# identifies every IMD file fdplug-img wrote and converts it.
if command -v floptool >/dev/null; then
    for f in blank.imd data.imd again.imd; do
        floptool identify "$f" | grep >/dev/null 'IMD disk image' || fail "floptool: $f is not IMD"
        floptool flopconvert imd mfi "$f" "$f.mfi" >/dev/null 2>&1 || fail "floptool cannot convert $f"
        [ -s "$f.mfi" ] || fail "floptool wrote nothing for $f"
    done
else
    echo "floptool not installed (mame-tools): independent check skipped"
fi
echo "fdplug-img: 1 passed, 0 failed"
