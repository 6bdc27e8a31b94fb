#!/usr/bin/env python3
"""bochsrc floppy options of Bochs 2.7 with fdplug's libbx_floppy.so (docs/bochs.md#feature-parity).

Each case is one short Bochs run (FDPLUG_TIMING=fast) with its own floppya:/floppyb: lines, and
checks what fdplug made of them: query-floppy-drives over FDPLUG_QMP (drive type, attachment,
read-only, geometry), Bochs' log, and for the boot case the guest's markers (boot.asm: the CMOS
dump gives the drive types Bochs' BIOS sees; WRITE FAIL on a write-protected disk) and the image
file afterwards, and the debugger's `info device "floppy"`. A case without a guest is ended once
the monitor has answered. unwritable-file makes its image immutable (chattr +i), host-drive puts a
loop device in the drive (skipped without root and losetup). The vvfat case must stop Bochs at
start-up with a message naming the directive. Every run is time-boxed.

    python3 tests/bochs/run_options.py --nasm /usr/bin/nasm --bochs /usr/bin/bochs-bin \\
        --source tests/bochs/boot.asm --plugin build/adapters/bochs/libbx_floppy.so --workdir /tmp/opts
"""
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_boot  # noqa: E402  (the image generator, the bochsrc, network isolation)
from run_swap import Failure, Qmp  # noqa: E402

# Sizes of the images the cases use (bytes).
SIZES = {"160k": 163840, "360k": 368640, "720k": 737280, "1_44": 1474560}


def drive(drives, unit):
    return next(d for d in drives if d["unit"] == unit)


def expect(what, got, want, problems):
    if got != want:
        problems.append(f"{what} is {got!r}, expected {want!r}")


def geometry(d):
    g = d.get("geometry") or {}
    return (g.get("cylinders"), g.get("heads"), g.get("sectors"))


# Each case: the floppy lines ({NAME} = the path of image NAME), the images to create (NAME:
# size key), whether the guest boots boot.asm from A: (disk "boot"), and the checks of
# query-floppy-drives' entries for A: and B: (and of the log).
CASES = [
    {
        "name": "boot-readonly",
        "floppies": "floppya: type=1_44, image={boot}, status=inserted, write_protected=1\n"
                    "floppyb: image={b}, status=ejected, type=2_88",
        "images": {"b": "1_44"},
        "guest": True,
        "cmos10": "45",  # A: 1.44M (4), B: 2.88M (5)
        "a": {"drive-type": "144", "attachment": "image", "read-only": True, "geometry": (80, 2, 18)},
        "b": {"drive-type": "288", "attachment": "none"},
        # The debugger's `info device "floppy"` (run from the rc file before `c`).
        "debugger": ["floppya: drive 144, '{boot}' 1.44M read-only; motor off, cylinder 0",
                     "floppyb: drive 288, no medium"],
    },
    {
        "name": "small-media",
        # type= after the medium: Bochs takes the last word on the drive type.
        "floppies": "floppya: image={a}, status=inserted, type=360k\n"
                    "floppyb: 360k={b}, status=inserted",
        "images": {"a": "160k", "b": "360k"},
        "a": {"drive-type": "360", "attachment": "image", "read-only": False, "geometry": (40, 1, 8)},
        "b": {"drive-type": "120", "attachment": "image", "read-only": False, "geometry": (40, 2, 9)},
    },
    {
        "name": "size-rule",
        "floppies": "floppya: 720k={a}, status=inserted\n"
                    "floppyb: 1_44={b}, status=inserted",
        "images": {"a": "1_44", "b": "720k"},
        # A media keyword sets the drive type too (3.5" ones a 1.44M drive) unless a later type=
        # says otherwise; the file is too large for 720k= and is refused, as by Bochs' plugin.
        "a": {"drive-type": "144", "attachment": "none"},
        "b": {"drive-type": "144", "attachment": "image", "read-only": False, "geometry": (80, 2, 9)},
        "log": "floppya: 720k=",  # the refusal names the directive and the keyword
    },
    {
        "name": "unwritable-file",
        # A file nobody may write (chattr +i: root too, which runs these tests) and no
        # write_protected=: used write-protected, as by Bochs' plugin, the log saying so.
        "floppies": "floppya: 1_44={a}, status=inserted",
        "images": {"a": "1_44"},
        "immutable": ["a"],
        "a": {"drive-type": "144", "attachment": "image", "read-only": True, "geometry": (80, 2, 18)},
        "b": {"attachment": "none"},
        "log": "a.img is read-only: write-protected",
    },
    {
        "name": "host-drive",
        # A device node is the host's drive (`1_44=/dev/fd0`): here a loop device over an image,
        # a real block device (needs root and losetup; skipped without them).
        "floppies": "floppya: 1_44={a}, status=inserted",
        "images": {"a": "1_44"},
        "loop": ["a"],
        "a": {"drive-type": "144", "attachment": "host-drive", "read-only": False,
              "geometry": (80, 2, 18)},
        "b": {"attachment": "none"},
    },
]


class Skip(Exception):
    """A case this machine cannot run, and why."""


def write_rc(rundir, text, debugger=False):
    with open(os.path.join(rundir, "options.bxrc"), "w") as fh:
        fh.write(text)
    with open(os.path.join(rundir, "c.rc"), "w") as fh:
        fh.write(('info device "floppy"\n' if debugger else "") + "c\n")


def start(args, rundir, prefix, env_extra):
    env = run_boot.bochs_env(args.plugin, "fast")
    env.pop("FDPLUG_QMP", None)
    env.update(env_extra)
    out = open(os.path.join(rundir, "stdout.txt"), "wb")
    err = open(os.path.join(rundir, "stderr.txt"), "wb")
    cmd = prefix + [args.bochs, "-q", "-f", "options.bxrc", "-rc", "c.rc"]
    return subprocess.Popen(cmd, cwd=rundir, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)


def run_case(args, case, boot_image, prefix):
    rundir = os.path.join(args.workdir, "options-" + case["name"])
    shutil.rmtree(rundir, ignore_errors=True)
    os.makedirs(rundir)
    paths = {"boot": os.path.join(rundir, "boot.img")}
    with open(paths["boot"], "wb") as fh:
        fh.write(boot_image)
    for name, size in case.get("images", {}).items():
        paths[name] = os.path.join(rundir, f"{name}.img")
        with open(paths[name], "wb") as fh:
            fh.write(run_boot.make_image(bytes(512), 0x1234 + len(name))[:SIZES[size]])
    before = {n: open(p, "rb").read() for n, p in paths.items()}
    for name in case.get("immutable", []):
        made = subprocess.run(["chattr", "+i", paths[name]], capture_output=True, text=True)
        if made.returncode != 0:
            raise Skip(f"chattr +i failed ({made.stderr.strip()}): needs root and a file system with "
                       "the immutable attribute (ext2/3/4, XFS, Btrfs)")
    devices = {}
    try:
        for name in case.get("loop", []):
            made = subprocess.run(["losetup", "-f", "--show", paths[name]], capture_output=True, text=True)
            if made.returncode != 0 or not made.stdout.startswith("/dev/loop"):
                raise Skip(f"no loop device here (needs root and losetup): {made.stderr.strip()}")
            devices[name] = made.stdout.strip()
        return check_case(args, case, boot_image, prefix, rundir, paths, before, devices)
    finally:
        for name in case.get("immutable", []):
            subprocess.run(["chattr", "-i", paths[name]], capture_output=True)
        for dev in devices.values():
            subprocess.run(["losetup", "-d", dev], capture_output=True)


def check_case(args, case, boot_image, prefix, rundir, paths, before, devices):
    log = os.path.join(rundir, "bochs.log")
    write_rc(rundir, run_boot.bochsrc(None, log, "seabios", case["floppies"].format(**{**paths, **devices})),
             "debugger" in case)
    sock = os.path.join(rundir, "qmp.sock")
    t0 = time.monotonic()
    deadline = t0 + args.timeout
    proc = start(args, rundir, prefix, {"FDPLUG_QMP": "unix:" + sock})
    problems = []
    try:
        qmp = Qmp(sock, deadline, lambda text: text.replace(rundir, "$RUN"))
        qmp.execute("qmp_capabilities")
        drives = qmp.execute("query-floppy-drives")["return"]
        qmp.close()
        for unit, key in ((0, "a"), (1, "b")):
            d = drive(drives, unit)
            if key in devices:
                expect(f"drive {key.upper()}: host-device", d.get("host-device"), devices[key], problems)
            for field, want in case[key].items():
                got = geometry(d) if field == "geometry" else d.get(field)
                expect(f"drive {key.upper()}: {field}", got, want, problems)
        if case.get("guest"):
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        else:
            proc.kill()
            proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    wall = time.monotonic() - t0
    logtext = open(log, encoding="latin-1").read() if os.path.exists(log) else ""
    if "fdplug" not in logtext:
        problems.append("Bochs did not load fdplug's libbx_floppy.so")
    if case.get("log") and case["log"] not in logtext:
        problems.append(f"bochs.log does not say '{case['log']}'")
    if case.get("guest"):
        text = open(os.path.join(rundir, "stdout.txt"), "rb").read().decode("latin-1")
        markers = [l.strip() for l in text.splitlines() if run_boot.MARKER.match(l.strip())]
        cmos = next((l for l in markers if l.startswith("CMOS")), "")
        want_hash = f"HASH {run_boot.djb_xor(boot_image):08X} TRACKS 00A0"
        if f"10={case['cmos10']}" not in cmos.split():
            problems.append(f"CMOS dump '{cmos}' should have 10={case['cmos10']}")
        if not any(l.startswith(want_hash) for l in markers):
            problems.append(f"no '{want_hash}' line: {markers}")
        if "WRITE FAIL" not in markers or "FDTEST DONE" not in markers:
            problems.append(f"the write to the write-protected disk did not fail: {markers}")
        for want in case.get("debugger", []):
            if want.format(**paths) not in text:
                problems.append(f"no '{want.format(**paths)}' from info device \"floppy\"")
    for name, path in paths.items():
        if open(path, "rb").read() != before[name]:
            problems.append(f"{name}.img changed")
    return wall, problems


def run_vvfat(args, prefix):
    """floppya: 1_44="vvfat:DIR" must stop Bochs at start-up, naming the directive."""
    rundir = os.path.join(args.workdir, "options-vvfat")
    shutil.rmtree(rundir, ignore_errors=True)
    os.makedirs(os.path.join(rundir, "dir"))
    log = os.path.join(rundir, "bochs.log")
    write_rc(rundir, run_boot.bochsrc(None, log, "seabios",
                                      f'floppya: 1_44="vvfat:{rundir}/dir", status=inserted'))
    t0 = time.monotonic()
    proc = start(args, rundir, prefix, {})
    problems = []
    try:
        proc.wait(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        problems.append("Bochs did not stop at start-up")
        proc.kill()
        proc.wait()
    wall = time.monotonic() - t0
    err = open(os.path.join(rundir, "stderr.txt"), "rb").read().decode("latin-1")
    if proc.returncode == 0:
        problems.append("Bochs exited with status 0")
    want = f'floppya: 1_44="vvfat:{rundir}/dir": fdplug\'s libbx_floppy.so cannot present'
    if want not in err:
        problems.append(f"stderr does not say '{want}…': {err.strip()[-300:]!r}")
    return wall, problems


def main():
    ap = run_boot.common_args(__doc__.splitlines()[0], "boot.asm")
    ap.add_argument("--timeout", type=float, default=60, help="seconds for one Bochs run")
    args = ap.parse_args()
    boot = run_boot.assemble(args, "options-boot.bin")
    if boot is None:
        return 1
    boot_image = run_boot.make_image(boot)
    prefix, how = run_boot.isolation()
    print(f"network: {how}")
    failures, total = 0, 0.0
    results = [(c["name"], lambda c=c: run_case(args, c, boot_image, prefix)) for c in CASES]
    results.append(("vvfat", lambda: run_vvfat(args, prefix)))
    for name, run in results:
        try:
            wall, problems = run()
        except Skip as e:
            print(f"skip {name}: {e}")
            continue
        except (Failure, OSError, ValueError, subprocess.TimeoutExpired) as e:
            wall, problems = 0.0, [str(e)]
        total += wall
        print(f"{'ok  ' if not problems else 'FAIL'} {name}: {wall:.2f} s wall")
        for p in problems:
            print(f"       {p}")
        failures += bool(problems)
    print(f"options test: {len(results)} Bochs runs, {total:.2f} s wall, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
