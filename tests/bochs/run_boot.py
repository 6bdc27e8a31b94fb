#!/usr/bin/env python3
"""Boot test of fdplug's libbx_floppy.so in Debian's Bochs 2.7 (docs/bochs.md).

Builds a 1.44 MB test floppy (boot.asm's boot sector + deterministic pseudo-random data), boots
it headless in Bochs with Bochs' own floppy plugin ("stock") and with fdplug's ("fdplug", timing
accurate; "fdplug-fast", FDPLUG_TIMING=fast; "fdplug-imd", the same disk as an ImageDisk file
made by fdplug-img, `floppya: 1_44=fd.imd`; "fdplug-transient", FDPLUG_TRANSIENT=on: the guest's
writes stay in memory), and checks for each run:
  - the port 0xE9 markers: FDTEST boot, the CMOS dump, HASH (= the hash of the image file),
    TRACKS 00A0 (every track read), WRITE OK, FDTEST DONE;
  - the image afterwards: C79/H1 holds the written pattern, every other byte is unchanged (an
    IMD file is converted back to raw with fdplug-img to be compared); for a transient run the
    file is byte for byte what it was, though the guest wrote and read back its pattern;
  - which plugin Bochs loaded (fdplug logs one line at INIT);
and across variants that the marker lines are identical (and the images, transient runs aside). Prints every run's wall time and the
median per variant. Each Bochs run is killed after --timeout seconds (a hang fails the test).

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


def make_image(boot_sector, seed=SEED):
    words = []
    x = seed
    for _ in range((IMAGE_BYTES - 512) // 4):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        words.append(x)
    return boot_sector + struct.pack(f"<{len(words)}I", *words)


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


def bochsrc(image, log, bios):
    return f"""romimage: file={BIOSES[bios]}
vgaromimage: file={BXSHARE}/VGABIOS-lgpl-latest
megs: 32
floppya: 1_44={image}, status=inserted
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
    imd = variant.endswith("-imd")
    raw = os.path.join(rundir, "fd.img")
    with open(raw, "wb") as fh:
        fh.write(image_bytes)
    image = raw
    if imd:
        image = os.path.join(rundir, "fd.imd")
        img_tool(args, "convert", "-O", "imd", raw, image)
        os.unlink(raw)
    log = os.path.join(rundir, "bochs.log")
    with open(os.path.join(rundir, "fdtest.bxrc"), "w") as fh:
        fh.write(bochsrc(image, log, args.bios))
    with open(os.path.join(rundir, "c.rc"), "w") as fh:
        fh.write("c\n")  # the debugger is compiled in: continue at once
    env = bochs_env(args.plugin if variant.startswith("fdplug") else None,
                    "fast" if variant == "fdplug-fast" else None,
                    transient=variant.endswith("-transient"))
    cmd = prefix + [args.bochs, "-q", "-f", "fdtest.bxrc", "-rc", "c.rc"]
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
    text = out.decode("latin-1")
    markers = [l.strip() for l in text.splitlines() if MARKER.match(l.strip())]
    if imd:
        img_tool(args, "convert", "-O", "raw", image, raw)
    with open(raw, "rb") as fh:
        after = fh.read()
    logtext = open(log, encoding="latin-1").read() if os.path.exists(log) else ""
    ticks = re.findall(r"^(\d{11,})[a-z]\[", logtext, re.M)
    return {"rundir": rundir, "wall": wall, "ticks": int(ticks[-1]) if ticks else 0, "timed_out": timed_out,
            "markers": markers, "after": after, "log": logtext}


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
    start, end = WRITE_TRACK * TRACK_BYTES, (WRITE_TRACK + 1) * TRACK_BYTES
    after = r["after"]
    if len(after) != len(image_bytes):
        problems.append(f"image is {len(after)} bytes after the run")
    elif variant.endswith("-transient"):
        if after != image_bytes:
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
    ap.add_argument("--variants", default="stock,fdplug,fdplug-fast")
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
    for variant in args.variants.split(","):
        results[variant] = []
        for i in range(args.runs):
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
