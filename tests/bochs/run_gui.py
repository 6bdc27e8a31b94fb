#!/usr/bin/env python3
"""Media changes from Bochs' own GUI with fdplug's libbx_floppy.so, and the drive LED
(docs/bochs.md#feature-parity).

Boots swap.asm from disk A (run_swap.py's disks) in Bochs with fdplug (FDPLUG_TIMING=fast),
FDPLUG_QMP and FDPLUG_TRACE, headless with the rfb display inside an empty network namespace,
and is the rfb client: once the guest has read A's track and waits for a disk change, it clicks
the toolbar's floppy A: button (the leftmost, 32 pixels wide), which makes Bochs set
floppy.0.status to ejected and call its runtime-config handlers; then clicks it again, which
inserts floppy.0.path again. A second run ejects over QMP instead and then clicks the button,
which must insert again: the QMP eject has to show in floppy.0.status. It checks, as after a QMP swap (run_swap.py): the guest sees DSKCHG
and reads A's track again; QMP sends FLOPPY_MEDIA_EJECTED and FLOPPY_MEDIA_INSERTED with A's
path; query-floppy-drives shows the drive empty between the clicks; the image is unchanged.
The trace must show LED A: on for the first read, off when swap.asm turns the motor off before
the change, and on again for the read after it. Time-boxed: Bochs is killed after
--timeout seconds. Exits 77 (skipped) without unshare -n or ip(8).
"""
import os
import shutil
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_boot  # noqa: E402
import run_swap  # noqa: E402
from run_grub import Rfb  # noqa: E402

FLOPPY_A_BUTTON = (16, 16)  # the toolbar's first button, left-aligned at x 0..31, y 0..31


def click(rfb, x, y):
    """Button 1 down and up at (x, y): Bochs' rfb display calls headerbar_click(x) on it."""
    rfb.sock.sendall(struct.pack(">BBHH", 5, 1, x, y))
    time.sleep(0.05)
    rfb.sock.sendall(struct.pack(">BBHH", 5, 0, x, y))


def inside(args):
    return run_scenarios(args, "gui-swap.bin", SCENARIOS, run)


def run_scenarios(args, binary, scenarios, run_one):
    """Inside the empty network namespace: swap.asm assembled as binary, then run_one(args, boot,
    scenario) for each scenario (True when it passed). 0 when all passed, else 1."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    boot = run_boot.assemble(args, binary)
    if boot is None:
        return 1
    failures = 0
    for scenario in scenarios:
        try:
            failures += not run_one(args, boot, scenario)
        except (run_swap.Failure, OSError, RuntimeError, ValueError) as e:
            print(f"FAIL {scenario}: {e}")
            failures += 1
    return 1 if failures else 0


# button: eject and insert with the button. qmp-then-button: eject over QMP, then the button
# inserts again, which works only if the QMP eject set floppy.0.status to ejected.
SCENARIOS = ["button", "qmp-then-button"]


def run(args, boot, scenario):
    rundir = os.path.join(args.workdir, "gui-" + scenario)
    shutil.rmtree(rundir, ignore_errors=True)
    os.makedirs(rundir)
    disk = run_swap.make_disk(boot, "A", run_swap.SEED_A)
    image = os.path.join(rundir, "disk-a.img")
    with open(image, "wb") as fh:
        fh.write(disk)
    sock = os.path.join(rundir, "qmp.sock")
    trace = os.path.join(rundir, "trace.txt")
    env = {"FDPLUG_QMP": "unix:" + sock, "FDPLUG_TIMING": "fast", "FDPLUG_TRACE": trace}
    args.bios = "seabios"
    t0 = time.monotonic()
    deadline = t0 + args.timeout
    bochs = run_swap.Bochs(args, rundir, image, env, [], lambda t: t.replace(rundir, "$RUN"))
    seen, qmp, problems = [], None, []
    try:
        qmp = Qmp(sock, deadline, rundir, lambda: bochs.drain(seen))
        qmp.execute("qmp_capabilities")
        rfb = Rfb(5900, deadline)
        bochs.wait_line("SWAP READY", deadline, seen)
        if scenario == "button":
            click(rfb, *FLOPPY_A_BUTTON)
        else:
            qmp.execute("floppy-release-image", {"id": "floppya"})
        ejected = qmp.event("FLOPPY_MEDIA_EJECTED", deadline)["data"]
        if ejected != {"id": "floppya", "path": image, "attachment": "image"}:
            problems.append(f"FLOPPY_MEDIA_EJECTED data {ejected}")
        a = qmp.execute("query-floppy-drives")["return"][0]
        if a.get("attachment") != "none":
            problems.append(f"query-floppy-drives after the eject click: {a}")
        click(rfb, *FLOPPY_A_BUTTON)
        inserted = qmp.event("FLOPPY_MEDIA_INSERTED", deadline)["data"]
        if inserted != {"id": "floppya", "path": image, "attachment": "image", "read-only": False}:
            problems.append(f"FLOPPY_MEDIA_INSERTED data {inserted}")
        bochs.wait_line("SWAP DONE", deadline, seen)
    finally:
        if qmp:
            qmp.close()
        bochs.close()
    wall = time.monotonic() - t0
    disk_lines = [l for l in seen if l.startswith("DISK")]
    want = (run_swap.MARKERS["A"].decode(), f"{run_swap.track_hash(disk):08X}")
    got = [(l[5:21], l[27:35]) for l in disk_lines]
    if got != [want, want]:
        problems.append(f"reads {got}, expected A's track twice {want}")
    if "SWAP CHANGED" not in seen:
        problems.append("the guest did not see DSKCHG after the eject click")
    if open(image, "rb").read() != disk:
        problems.append("disk-a.img changed")
    leds = [l.split(None, 1)[1] for l in open(trace).read().splitlines() if " LED " in l] \
        if os.path.exists(trace) else []
    # On for the first read, off when swap.asm turns the motor off, on for the read after.
    want_leds = ["LED A: on", "LED A: off", "LED A: on"]
    if leds[:3] != want_leds:
        problems.append(f"LED changes in the trace {leds[:6]}, expected {want_leds} first")
    print(f"{'ok  ' if not problems else 'FAIL'} {scenario}: {wall:.2f} s wall; LED changes {len(leds)}")
    for p in problems:
        print(f"       {p} (see {rundir})")
    return not problems


class Qmp(run_swap.Qmp):
    """run_swap's client, printing paths relative to the run directory."""

    def __init__(self, path, deadline, rundir, before_request):
        super().__init__(path, deadline, lambda t: t.replace(rundir, "$RUN"), before_request)


def main():
    ap = run_boot.common_args(__doc__.splitlines()[0], "swap.asm")
    ap.add_argument("--timeout", type=float, default=60, help="seconds before Bochs is killed")
    ap.add_argument("--inside", action="store_true", help=argparse_suppress())
    args = ap.parse_args()
    if args.inside:
        return inside(args)
    return rerun_in_namespace("gui-swap", args.timeout + 30)


def rerun_in_namespace(name, timeout):
    """The running script again with --inside, in an empty network namespace that Bochs' rfb
    display and its client share; killed after `timeout` seconds. 77 (skipped) without
    unshare -n or ip(8)."""
    unshare, ip = shutil.which("unshare"), shutil.which("ip")
    if not unshare or not ip or subprocess.run([unshare, "-n", "true"], capture_output=True).returncode:
        print("skip: needs unshare -n (root) and ip(8): the rfb display and its client share an empty network namespace")
        return 77
    cmd = [unshare, "-n", sys.executable, os.path.abspath(sys.argv[0]), "--inside", *sys.argv[1:]]
    try:
        return subprocess.run(cmd, timeout=timeout).returncode
    except subprocess.TimeoutExpired:
        print(f"FAIL {name}: the run did not end in time")
        return 1


def argparse_suppress():
    import argparse
    return argparse.SUPPRESS


if __name__ == "__main__":
    sys.exit(main())
