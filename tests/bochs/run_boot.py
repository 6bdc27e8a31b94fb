#!/usr/bin/env python3
"""Boot test of fdplug's libbx_floppy.so in Debian's Bochs 2.7 (docs/bochs.md).

Builds a 1.44 MB test floppy (boot.asm's boot sector + deterministic pseudo-random data), boots
it headless in Bochs with Bochs' own floppy plugin ("stock") and with fdplug's ("fdplug", timing
accurate; "fdplug-fast", FDPLUG_TIMING=fast; "fdplug-imd", the same disk as an ImageDisk file
made by fdplug-img, `floppya: 1_44=fd.imd`; "fdplug-imd-marks", an IMD file written here whose
track C2/H1 also holds, between R=9 and R=10, R=19 with a deleted data mark and R=20 with a data
CRC error; "fdplug-transient", FDPLUG_TRANSIENT=on: the guest's writes stay in memory;
"fdplug-td0-transient", the same with the disk as a Teledisk file written here, which fdplug
opens only with transient writes), and checks for each run:
  - the port 0xE9 markers: FDTEST boot, the CMOS dump, HASH (= the hash of the image file),
    TRACKS 00A0 (every track read), WRITE OK, FDTEST DONE;
  - the image afterwards: C79/H1 holds the written pattern, every other byte is unchanged (an
    IMD file is converted back to raw with fdplug-img to be compared; the marked twin's file
    still holds its two extra sectors with their flags); for a transient run the file is byte
    for byte what it was, though the guest wrote and read back its pattern;
  - which plugin Bochs loaded (fdplug logs one line at INIT);
and across variants that the marker lines are identical (and the images, transient runs aside).
Prints every run's wall time and the median per variant. Each Bochs run is killed after --timeout seconds (a hang fails the test).

Image data: bytes 512.. are xorshift32 words (x ^= x << 13; x ^= x >> 17; x ^= x << 5, 32-bit,
seed 0xF10BB1E5), stored little-endian, one word per step.
"""
import argparse
import os
import re
import shutil
import statistics
import struct
import subprocess
import sys
import time

IMAGE_BYTES = 1474560
TRACK_BYTES = 18 * 512
WRITE_TRACK = 79 * 2 + 1
SEED = 0xF10BB1E5
DEBIAN_PLUGIN_DIR = "/usr/lib/x86_64-linux-gnu/bochs/plugins"
BXSHARE = "/usr/share/bochs"
MARKER = re.compile(r"^(FDTEST boot|CMOS( [0-9A-F]{2}=[0-9A-F]{2})+|HASH [0-9A-F]{8} TRACKS [0-9A-F]{4} RETRIES [0-9A-F]{4}|WRITE (OK|FAIL)|FDTEST DONE)$")
MARKS_TRACK = (2, 1)  # marks.asm's PROBE_C/PROBE_H
# IMD sector records (docs/media.md): 1 data, 3 deleted data, 5 data with a CRC error.
IMD_DATA, IMD_DELETED, IMD_CRC_ERROR = 1, 3, 5
MARKS = [(19, IMD_DELETED, 0x19), (20, IMD_CRC_ERROR, 0x20)]  # (R, record, fill byte)


def make_image(boot_sector, seed=SEED):
    words = []
    x = seed
    for _ in range((IMAGE_BYTES - 512) // 4):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        words.append(x)
    return boot_sector + struct.pack(f"<{len(words)}I", *words)


def marked_imd(image_bytes):
    """The disk as an ImageDisk file (mode 3: 500 kbit/s MFM; 18 x 512 per track) with MARKS
    added to MARKS_TRACK between R=9 and R=10."""
    imd = bytearray(b"IMD 1.18: 01/01/2026 00:00:00\r\nfdplug boot test, marked twin\x1a")
    for track in range(160):
        c, h = divmod(track, 2)
        data = image_bytes[track * TRACK_BYTES:(track + 1) * TRACK_BYTES]
        sectors = [(r, IMD_DATA, data[(r - 1) * 512:r * 512]) for r in range(1, 19)]
        if (c, h) == MARKS_TRACK:
            sectors[9:9] = [(r, rec, bytes([fill]) * 512) for r, rec, fill in MARKS]
        imd += bytes([3, c, h, len(sectors), 2]) + bytes(r for r, _, _ in sectors)
        for _, rec, payload in sectors:
            imd += bytes([rec]) + payload
    return bytes(imd)


def imd_track_records(imd, want):
    """(size code, [(R, record type)...]) of track want=(C, H) in an IMD file without cylinder
    or head maps and with one sector size per track (as marked_imd and fdplug write them), or
    None; compressed records (even types) hold one byte."""
    pos = imd.index(0x1A) + 1
    while pos < len(imd):
        mode, c, h, n, size = imd[pos:pos + 5]
        rs = list(imd[pos + 5:pos + 5 + n])
        pos += 5 + n
        recs = []
        for r in rs:
            rec = imd[pos]
            recs.append((r, rec))
            pos += 1 + (0 if rec == 0 else 1 if rec % 2 == 0 else 128 << size)
        if (c, h & 0x3F) == want:
            return size, recs
    return None


def td0_crc(data, crc=0, table=[]):
    """Teledisk's CRC-16: polynomial 0xA097, initial value 0, most significant bit first."""
    if not table:
        for i in range(256):
            c = i << 8
            for _ in range(8):
                c = ((c << 1) ^ 0xA097 if c & 0x8000 else c << 1) & 0xFFFF
            table.append(c)
    for b in data:
        crc = ((crc << 8) & 0xFFFF) ^ table[(crc >> 8) ^ b]
    return crc


def td0_twin(image_bytes):
    """The disk as a Teledisk file without compression ("TD"; docs/media.md): version 2.1,
    500 kbit/s MFM, two sides, each sector a raw data block (encoding 0)."""
    header = bytes([ord("T"), ord("D"), 0, 0x5A, 21, 2, 4, 0, 0, 2])
    crc = td0_crc(header)
    out = bytearray(header + bytes([crc & 0xFF, crc >> 8]))
    for track in range(160):
        c, h = divmod(track, 2)
        head = bytes([18, c, h])
        out += head + bytes([td0_crc(head) & 0xFF])
        for r in range(1, 19):
            data = image_bytes[track * TRACK_BYTES + (r - 1) * 512:track * TRACK_BYTES + r * 512]
            out += bytes([c, h, r, 2, 0, td0_crc(data) & 0xFF]) + (513).to_bytes(2, "little")
            out += b"\x00" + data
    out.append(0xFF)
    return bytes(out)


def record_kind(record):
    """(R, record type) with a compressed record counted as its uncompressed type: the writer
    compresses any uniform sector, so a fill byte's sector comes back as type 4 or 6."""
    r, rec = record
    return r, rec - 1 if rec and rec % 2 == 0 else rec


def marked_records():
    """The (R, record type) list marked_imd gives MARKS_TRACK, in physical order."""
    return [(n, IMD_DATA) for n in range(1, 10)] + [(n, rec) for n, rec, _ in MARKS] + \
        [(n, IMD_DATA) for n in range(10, 19)]


def djb_xor(data):
    h = 5381
    for b in data:
        h = ((h * 33) ^ b) & 0xFFFFFFFF
    return h


def pattern():
    return bytes((i * 7 + 0x5A) & 0xFF for i in range(TRACK_BYTES))


def isolation():
    """A command prefix that gives Bochs an empty network namespace (the rfb display binds
    0.0.0.0:5900): unshare -n as root, unshare -rn (user namespace) otherwise, if allowed."""
    unshare = shutil.which("unshare")
    if not unshare:
        return [], "no unshare(1): running without network isolation"
    for prefix in ([unshare, "-n"], [unshare, "-rn"]):
        if subprocess.run(prefix + ["true"], capture_output=True).returncode == 0:
            return prefix, " ".join(["unshare"] + prefix[1:])
    return [], "unshare -n not permitted: running without network isolation"


BIOSES = {
    "rombios": f"{BXSHARE}/BIOS-bochs-latest",  # Bochs' own BIOS (package bochsbios)
    "seabios": "/usr/share/seabios/bios.bin",   # SeaBIOS (package seabios)
}


def bochsrc(image, log, bios, floppies=None):
    """The headless bochsrc of the Bochs tests; `floppies` replaces the floppya: line."""
    floppies = floppies or f"floppya: 1_44={image}, status=inserted"
    return f"""romimage: file={BIOSES[bios]}
vgaromimage: file={BXSHARE}/VGABIOS-lgpl-latest
megs: 32
{floppies}
boot: floppy
port_e9_hack: enabled=1
clock: sync=none
speaker: enabled=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
display_library: rfb, options="timeout=0"
log: {log}
"""


def img_tool(args, *argv):
    """Runs fdplug-img (convert between raw and IMD)."""
    subprocess.run([args.img_tool, *argv], check=True, stdout=subprocess.DEVNULL)


def run_once(args, variant, index, image_bytes, prefix):
    rundir = os.path.join(args.workdir, f"{args.bios}-{variant}-{index}")
    shutil.rmtree(rundir, ignore_errors=True)
    os.makedirs(rundir)
    imd = variant.endswith("-imd") or variant.endswith("-imd-marks")
    raw = os.path.join(rundir, "fd.img")
    with open(raw, "wb") as fh:
        fh.write(image_bytes)
    image = raw
    td0 = "-td0" in variant
    if variant.endswith("-imd-marks") or td0:
        image = os.path.join(rundir, "fd.td0" if td0 else "fd.imd")
        with open(image, "wb") as fh:
            fh.write(td0_twin(image_bytes) if td0 else marked_imd(image_bytes))
        os.unlink(raw)
    elif imd:
        image = os.path.join(rundir, "fd.imd")
        img_tool(args, "convert", "-O", "imd", raw, image)
        os.unlink(raw)
    log = os.path.join(rundir, "bochs.log")
    env = bochs_env(args.plugin if variant.startswith("fdplug") else None,
                    "fast" if variant == "fdplug-fast" else None,
                    transient=variant.endswith("-transient"))
    out, timed_out, wall = run_bochs(args, rundir, bochsrc(image, log, args.bios), env, prefix)
    text = out.decode("latin-1")
    markers = [l.strip() for l in text.splitlines() if MARKER.match(l.strip())]
    records = None
    file_after = open(image, "rb").read()
    if td0:
        img_tool(args, "convert", "-O", "raw", image, raw)
    if imd:
        # --lossy: the marked twin's extra sectors have no place in a raw image.
        img_tool(args, "convert", "-O", "raw", "--lossy", image, raw)
        track = imd_track_records(open(image, "rb").read(), MARKS_TRACK)
        records = track[1] if track else None
    with open(raw, "rb") as fh:
        after = fh.read()
    logtext = open(log, encoding="latin-1").read() if os.path.exists(log) else ""
    ticks = re.findall(r"^(\d{11,})[a-z]\[", logtext, re.M)
    return {"rundir": rundir, "wall": wall, "ticks": int(ticks[-1]) if ticks else 0, "timed_out": timed_out,
            "markers": markers, "after": after, "log": logtext, "records": records,
            "file_unchanged": not td0 or file_after == td0_twin(image_bytes)}


def run_bochs(args, rundir, bxrc, env, prefix):
    """Bochs in rundir on the bochsrc text bxrc, killed after args.timeout seconds; its stdout
    and stderr are kept in rundir. Returns (stdout, timed out, wall seconds)."""
    with open(os.path.join(rundir, "bochs.bxrc"), "w") as fh:
        fh.write(bxrc)
    with open(os.path.join(rundir, "c.rc"), "w") as fh:
        fh.write("c\n")  # the debugger is compiled in: continue at once
    cmd = prefix + [args.bochs, "-q", "-f", "bochs.bxrc", "-rc", "c.rc"]
    t0 = time.monotonic()
    try:
        proc = subprocess.run(cmd, cwd=rundir, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=args.timeout)
        out, err, timed_out = proc.stdout, proc.stderr, False
    except subprocess.TimeoutExpired as e:
        out, err, timed_out = e.stdout or b"", e.stderr or b"", True
    wall = time.monotonic() - t0
    for name, data in (("stdout.txt", out), ("stderr.txt", err)):
        with open(os.path.join(rundir, name), "wb") as fh:
            fh.write(data)
    return out, timed_out, wall


def check(variant, r, expected_hash, image_bytes):
    problems = []
    m = r["markers"]
    if r["timed_out"]:
        problems.append("timed out (Bochs killed)")
    if "FDTEST boot" not in m:
        problems.append("no 'FDTEST boot': the BIOS did not boot the floppy")
    hashes = [l for l in m if l.startswith("HASH")]
    want = f"HASH {expected_hash:08X} TRACKS 00A0 RETRIES"
    if not hashes or not hashes[0].startswith(want):
        problems.append(f"hash line {hashes[:1]} does not start with '{want}'")
    if "WRITE OK" not in m:
        problems.append("no 'WRITE OK'")
    if "FDTEST DONE" not in m:
        problems.append("no 'FDTEST DONE'")
    if variant.endswith("-imd-marks"):
        want = marked_records()
        if r["records"] is None or [record_kind(x) for x in r["records"]] != want:
            problems.append(f"C{MARKS_TRACK[0]}/H{MARKS_TRACK[1]} in the IMD file after the run is "
                            f"{r['records']}, expected {want}")
    start, end = WRITE_TRACK * TRACK_BYTES, (WRITE_TRACK + 1) * TRACK_BYTES
    after = r["after"]
    if len(after) != len(image_bytes):
        problems.append(f"image is {len(after)} bytes after the run")
    elif variant.endswith("-transient"):
        if after != image_bytes or not r["file_unchanged"]:
            problems.append("the image file changed, though FDPLUG_TRANSIENT=on")
        if "transient (writes stay in memory)" not in r["log"]:
            problems.append("fdplug did not attach floppya transient (no such line in bochs.log)")
    else:
        if after[start:end] != pattern():
            problems.append("C79/H1 in the image does not hold the written pattern")
        if after[:start] != image_bytes[:start] or after[end:] != image_bytes[end:]:
            problems.append("bytes outside C79/H1 changed")
    problem = plugin_problem(r["log"], variant.startswith("fdplug"), "fast" if variant == "fdplug-fast" else "accurate")
    if problem:
        problems.append(problem)
    return problems


def bochs_env(plugin, timing=None, transient=False):
    """The environment for one Bochs run: fdplug's module (plugin) ahead of Debian's plugins,
    or Bochs' own floppy plugin when plugin is None; FDPLUG_TIMING=timing if given;
    FDPLUG_TRANSIENT=on if transient. Inherited LTDL_LIBRARY_PATH, FDPLUG_TIMING and
    FDPLUG_TRANSIENT are dropped, so the caller's shell cannot change the variant; other FDPLUG_*
    settings (FDPLUG_TRACE) pass through."""
    env = dict(os.environ)
    for name in ("LTDL_LIBRARY_PATH", "FDPLUG_TIMING", "FDPLUG_TRANSIENT"):
        env.pop(name, None)
    if transient:
        env["FDPLUG_TRANSIENT"] = "on"
    if plugin:
        env["LTDL_LIBRARY_PATH"] = os.path.dirname(os.path.abspath(plugin)) + ":" + DEBIAN_PLUGIN_DIR
    if timing:
        env["FDPLUG_TIMING"] = timing
    return env


def plugin_problem(logtext, want_fdplug, want_timing="accurate"):
    """What is wrong with the floppy plugin Bochs loaded, read from bochs.log (fdplug logs one
    line at INIT, with its timing), or None."""
    ours = re.search(r"fdplug \S+: Intel 82077AA floppy controller \(timing=(\w+)\)", logtext)
    if want_fdplug and not ours:
        return "Bochs did not load fdplug's libbx_floppy.so (no fdplug line in bochs.log)"
    if want_fdplug and ours.group(1) != want_timing:
        return f"fdplug ran with timing={ours.group(1)}, expected {want_timing}"
    if not want_fdplug and ours:
        return "the stock run loaded fdplug's plugin"
    return None


def common_args(description, source):
    """The options every Bochs test script takes: the tools, the boot sector's source, fdplug's
    module and the directory for the runs."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--nasm", required=True)
    ap.add_argument("--bochs", required=True, help="bochs-bin")
    ap.add_argument("--source", required=True, help=source)
    ap.add_argument("--plugin", required=True, help="fdplug's libbx_floppy.so")
    ap.add_argument("--workdir", required=True)
    return ap


def assemble(args, name):
    """nasm's 512-byte boot sector from args.source (its %include files sit next to it), or
    None after saying why not."""
    os.makedirs(args.workdir, exist_ok=True)
    out = os.path.join(args.workdir, name)
    include = os.path.dirname(os.path.abspath(args.source)) + os.sep
    subprocess.run([args.nasm, "-f", "bin", "-I", include, "-o", out, args.source], check=True)
    boot = open(out, "rb").read()
    if len(boot) != 512 or boot[510:] != b"\x55\xaa":
        print(f"FAIL: {out} is not a 512-byte boot sector")
        return None
    return boot


def main():
    ap = common_args(__doc__.splitlines()[0], "boot.asm")
    ap.add_argument("--runs", type=int, default=3, help="runs per variant (times: the median)")
    ap.add_argument("--timeout", type=float, default=120, help="seconds before a Bochs run is killed")
    ap.add_argument("--variants", default="stock,fdplug,fdplug-fast",
                    help="comma-separated; NAME:N runs NAME N times instead of --runs")
    ap.add_argument("--img-tool", help="fdplug-img, for the -imd variants")
    ap.add_argument("--bios", choices=sorted(BIOSES), default="rombios")
    args = ap.parse_args()

    boot = assemble(args, "boot.bin")
    if boot is None:
        return 1
    image_bytes = make_image(boot)
    expected_hash = djb_xor(image_bytes)
    prefix, how = isolation()
    print(f"image: {IMAGE_BYTES} bytes, expected HASH {expected_hash:08X}; network: {how}")

    failures, results = 0, {}
    for spec in args.variants.split(","):
        variant, _, runs = spec.partition(":")
        results[variant] = []
        for i in range(int(runs) if runs else args.runs):
            r = run_once(args, variant, i, image_bytes, prefix)
            problems = check(variant, r, expected_hash, image_bytes)
            results[variant].append(r)
            status = "ok  " if not problems else "FAIL"
            print(f"{status} {variant} run {i + 1}: {r['wall']:.2f} s wall, {r['ticks']} emulated ticks; " +
                  " | ".join(r["markers"]))
            for p in problems:
                print(f"       {p} (see {r['rundir']})")
            failures += bool(problems)

    reference = None
    for variant, runs in results.items():
        for i, r in enumerate(runs):
            if reference is None:
                reference = (variant, r["markers"], r["after"])
                continue
            if r["markers"] != reference[1]:
                print(f"FAIL {variant} run {i + 1}: markers differ from {reference[0]}'s:\n"
                      f"       {r['markers']}\n       {reference[1]}")
                failures += 1
            if r["after"] != reference[2] and not variant.endswith("-transient"):
                print(f"FAIL {variant} run {i + 1}: image after the run differs from {reference[0]}'s")
                failures += 1

    for variant, runs in results.items():
        walls = [r["wall"] for r in runs]
        ticks = statistics.median(r["ticks"] for r in runs)
        print(f"time {variant}: median {statistics.median(walls):.2f} s wall over {len(walls)} runs "
              f"({', '.join(f'{w:.2f}' for w in walls)}); median {ticks:.0f} emulated ticks")
    total = sum(len(v) for v in results.values())
    print(f"boot test: {total} Bochs runs, {failures} problems")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
