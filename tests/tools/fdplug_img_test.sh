#!/usr/bin/env bash
# fdplug-img end to end: create both formats, check, info (text and JSON), convert raw -> IMD ->
# raw losslessly, refuse a lossy conversion to raw unless --lossy, read a TD0 file, usage
# errors; MAME's floptool reads every IMD file it wrote.
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

# A Teledisk file (normal compression, written here from the format's description): info, check,
# convert to IMD and to raw; a CRC mismatch in a sector is a warning, a cut file an error.
python3 - <<'PY'
def crc(data, c=0):
    for b in data:
        c ^= b << 8
        for _ in range(8):
            c = ((c << 1) ^ 0xA097 if c & 0x8000 else c << 1) & 0xFFFF
    return c
def td0(bad_sector_crc=False):
    head = bytearray(b'TD\x00\x00\x15\x00\x01\x80\x00\x02')
    head += crc(head).to_bytes(2, 'little')
    text = b'made by fdplug_img_test\x00'
    rest = len(text).to_bytes(2, 'little') + bytes([124, 0, 2, 3, 4, 5]) + text
    body = crc(rest).to_bytes(2, 'little') + rest
    raw = bytearray()
    for c in range(40):
        for h in range(2):
            th = bytes([9, c, h])
            body += th + bytes([crc(th) & 0xFF])
            for r in range(1, 10):
                data = bytes((c * 7 + h * 3 + r + i) & 0xFF for i in range(512))
                raw += data
                sc = crc(data) & 0xFF
                if bad_sector_crc and (c, h, r) == (2, 1, 5):
                    sc ^= 0xFF
                body += bytes([c, h, r, 2, 0, sc]) + (513).to_bytes(2, 'little') + b'\x00' + data
    body += b'\xff'
    return bytes(head + body), bytes(raw)
good, raw = td0()
open('disk.td0', 'wb').write(good)
open('disk-expected.img', 'wb').write(raw)
open('badcrc.td0', 'wb').write(td0(True)[0])
open('cut.td0', 'wb').write(good[:5000])
PY
"$tool" check disk.td0 | grep >/dev/null 'ok, td0, 40 x 2 x 9.*(360K).*uniform' || fail "check td0"
"$tool" info disk.td0 | grep >/dev/null '^comment: made by fdplug_img_test' || fail "td0 comment"
"$tool" info --output=json disk.td0 | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["format"] == "td0" and d["uniform"] and d["warnings"] == [], d
' || fail "info --output=json td0"
"$tool" convert -O raw disk.td0 disk.img
cmp -s disk.img disk-expected.img || fail "TD0 -> raw changed the data"
"$tool" convert -O imd disk.td0 disk.imd
"$tool" info disk.imd | grep >/dev/null '^comment: Converted from disk.td0' || fail "TD0 -> IMD comment"
"$tool" convert -O raw disk.imd back.img
cmp -s disk.img back.img || fail "TD0 -> IMD -> raw changed the data"
"$tool" check badcrc.td0 | grep >/dev/null "warning: at byte .*cylinder 2 head 1's sector 4 (R=5)'s CRC byte" \
    || fail "a sector CRC mismatch is a warning"
set +e
"$tool" check cut.td0 2>err; status=$?
set -e
[ $status -eq 1 ] && grep -q "is corrupt or truncated: at byte [0-9]*: cylinder 0 head 1's sector 0 (R=1)'s data block needs 513 bytes, but the data ends after" err || fail "a cut TD0 file"
echo "fdplug-img: 1 passed, 0 failed"
