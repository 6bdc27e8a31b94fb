#!/usr/bin/env python3
"""Save and restore of fdplug's libbx_floppy.so in Debian's Bochs 2.7 (docs/bochs.md#save-and-restore).

Bochs saves its state from the toolbar's save/restore button only: the button asks for a folder
and then whether to go on, both in the display itself (Bochs' GUI console). So every save here is
Bochs' own, made headless with the rfb display inside an empty network namespace: the script is
the rfb client (run_grub.py's), clicks the button, reads the questions back from the pixels, types
the folder "save" and answers "n" (Bochs then powers off, so that the image files stay as saved).

Boot test (boot.asm, run_boot.py's disk), once per timing (FDPLUG_TIMING accurate and fast):
  - an uninterrupted reference run with FDPLUG_TRACE, from whose trace the save points are taken:
    "bios" (half-way to the first controller access), "mid-read" and "mid-write" (inside the DMA
    blocks of the longest multi-sector READ and of the WRITE);
  - for each save point a run stopped there by the debugger's time breakpoint (`sba`), saved with
    the button, and `bochs -r save`: the markers printed before the save and after the restore
    must be the reference's, the image afterwards the reference's, and fdplug's bochs.log line of
    the save must show the controller busy inside the transfer for mid-read and mid-write
    (accurate timing), and the restore's the same pins, phase and drive LED (on inside a
    transfer);
  - refusals: the "bios" save restored again after its restored run wrote the disk (the medium's
    fingerprint differs), and a copy of a save with floppy.fdc82077 cut in half, then without it,
    must end Bochs with fdplug's message naming the problem, not a crash.
QMP after a restore (swap.asm, run_swap.py's disks, accurate timing): saved while the guest waits
for a disk change; after `bochs -r`, query-floppy-drives must be what it was before the save, and
a release of A and an attach of B over QMP must reach the guest (it reads B's track).

The bochsrc adds `panic: action=fatal`: with Bochs' default (ask) the saved config lists log
modules named "?", which Bochs 2.7 cannot read back. Every Bochs run is killed after --timeout
seconds. Exits 77 (skipped) without unshare -n or ip(8).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_boot  # noqa: E402
import run_swap  # noqa: E402
from run_grub import Rfb, find_top, screen_text, vga_font  # noqa: E402
from run_gui import click, rerun_in_namespace  # noqa: E402

SAVE_BUTTON = (672, 16)  # the toolbar's save/restore button: x 656..687, left of power
BXRC_EXTRA = "panic: action=fatal\n"
BREAK = r"^\(0\) Caught time breakpoint$"
BOOT_LINES = re.compile(run_boot.MARKER.pattern + "|" + BREAK)
TICKS_PER_US = 4  # Bochs' default ips=4000000, emulated with clock: sync=none
TRACE_LINE = re.compile(r"^\s*(\d+\.\d+) (.*)$")
KEY_RETURN = 0xFF0D


class Display:
    """Bochs' rfb display: its text read back from the pixels, keys typed into it."""

    def __init__(self, deadline, rundir):
        self.rfb = Rfb(5900, deadline)
        self.rundir = rundir
        self.font = vga_font()
        self.full = False

    def text(self):
        self.rfb.update(0 if not self.full else 1)
        self.full = True
        top = find_top(self.rfb.fb, self.rfb.w, self.rfb.h, self.font)
        return "" if top is None else "\n".join(screen_text(self.rfb.fb, self.rfb.w, top, self.font))

    def wait_for(self, words, deadline, quiet=False):
        """Waits until the screen shows `words` (glyphs the font match misses read as '?');
        quiet: returns False at the deadline instead of failing."""
        text = ""
        while time.monotonic() < deadline:
            text = self.text()
            if words in text:
                return True
            time.sleep(0.1)
        if quiet:
            return False
        shot = os.path.join(self.rundir, "screen.pgm")
        with open(shot, "wb") as fh:  # 8-bit palette indexes shown as grey levels
            fh.write(b"P5 %d %d 255\n" % (self.rfb.w, self.rfb.h) + bytes(self.rfb.fb))
        raise run_swap.Failure(f"the display never showed '{words}' (pixels: {shot}); last screen:\n{text}")

    def type(self, text):
        # Bochs' console queues 16 keys: one key at a time.
        for ch in text:
            self.rfb.key(KEY_RETURN if ch == "\n" else ord(ch))
            time.sleep(0.05)


def save_with_button(display, deadline, resume=None):
    """Clicks save/restore, answers the folder question with "save" (in Bochs' directory) and
    the question whether to go on with "n". resume(): lets a stopped simulation go on after the
    click (the click is handled by the running simulation)."""
    click(display.rfb, *SAVE_BUTTON)
    if resume:
        resume()
    # A click is now and then lost (no question comes): click again after 5 s without it.
    while not display.wait_for("Bochs state to", min(deadline, time.monotonic() + 5), quiet=True):
        if time.monotonic() > deadline:
            display.wait_for("Bochs state to", deadline)  # fails, with the screen
        print("   the save/restore click showed no question: clicking again")
        click(display.rfb, *SAVE_BUTTON)
    display.type("save\n")
    display.wait_for("continue?", deadline)
    display.type("n\n")


def trace_lines(path):
    """(µs, text) of each line of an FDPLUG_TRACE file."""
    out = []
    for line in open(path, encoding="latin-1"):
        m = TRACE_LINE.match(line)
        if m:
            out.append((float(m.group(1)), m.group(2)))
    return out


def transfer_midpoint(trace, kind):
    """The time of the middle DMA block of the longest run of `kind` blocks ("to memory": a
    read, "from memory": a write) between two interrupts, or None."""
    runs, current = [], []
    for t, text in trace:
        if text.startswith("DMA " + kind):
            current.append(t)
        elif text == "IRQ6 1":
            runs.append(current)
            current = []
    longest = max(runs, key=len, default=[])
    return longest[len(longest) // 3] if len(longest) > 1 else None


def save_points(trace):
    """Save points (name, emulated µs) from the reference run's trace."""
    first = next(t for t, text in trace if text.startswith(("in ", "out ")))
    points = [("bios", first / 2)]
    for name, kind in (("mid-read", "to memory"), ("mid-write", "from memory")):
        t = transfer_midpoint(trace, kind)
        if t is not None:
            points.append((name, t))
    return points


def reference_run(args, timing, image_bytes):
    variant = "fdplug" if timing == "accurate" else "fdplug-fast"
    trace = os.path.join(args.workdir, f"reference-{timing}.trace")
    os.environ["FDPLUG_TRACE"] = trace
    try:
        r = run_boot.run_once(args, variant, 0, image_bytes, [])
    finally:
        del os.environ["FDPLUG_TRACE"]
    lines = trace_lines(trace)
    os.unlink(trace)  # millions of lines with accurate timing
    return variant, r, lines


def fdplug_log(log, what):
    """fdplug's bochs.log lines "fdplug: WHAT …", without the prefix."""
    if not os.path.exists(log):
        return []
    return [l.rstrip("\n").split("fdplug: ", 1)[1] for l in open(log, encoding="latin-1")
            if f"fdplug: {what}" in l]


def expect_refusal(args, rundir, image, env, save, words, label):
    """`bochs -r save` must end with fdplug's message containing `words`, without a crash."""
    bochs = run_swap.Bochs(args, rundir, image, env, [], lambda t: t.replace(rundir, "$RUN"),
                           restore=save, lines=BOOT_LINES)
    try:
        bochs.proc.wait(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        pass
    bochs.close()
    err = open(os.path.join(rundir, "restore-stderr.txt"), encoding="latin-1").read()
    said = [l for l in err.splitlines() if l.startswith("fdplug libbx_floppy: restoring")]
    problems = []
    if not said or words not in said[0]:
        problems.append(f"{label}: no fdplug refusal naming '{words}' on stderr: {said or err[-300:]}")
    if bochs.proc.returncode is None or bochs.proc.returncode < 0 or bochs.proc.returncode > 1:
        problems.append(f"{label}: Bochs ended with status {bochs.proc.returncode}")
    print(f"{'ok  ' if not problems else 'FAIL'} refusal {label}: " + (said[0] if said else "(none)"))
    return problems


def boot_point(args, timing, variant, name, us, reference, image_bytes, expected_hash):
    rundir = os.path.join(args.workdir, f"{timing}-{name}")
    shutil.rmtree(rundir, ignore_errors=True)
    os.makedirs(os.path.join(rundir, "save"))
    image = os.path.join(rundir, "fd.img")
    with open(image, "wb") as fh:
        fh.write(image_bytes)
    show = lambda t: t.replace(rundir, "$RUN")  # noqa: E731
    env = {"FDPLUG_TIMING": timing}
    ticks = int(us * TICKS_PER_US)
    t0 = time.monotonic()
    deadline = t0 + args.timeout
    seen, problems = [], []
    # The debugger runs "sba" from the rc file and then waits on stdin: the rfb client connects
    # before the simulation starts, and the click is queued while the simulation is stopped.
    bochs = run_swap.Bochs(args, rundir, image, env, [], show, rc=f"sba {ticks}\n", bxrc_extra=BXRC_EXTRA,
                           lines=BOOT_LINES, stdin=True)

    def command(text):
        bochs.proc.stdin.write(text.encode())
        bochs.proc.stdin.flush()

    try:
        display = Display(deadline, rundir)
        command("c\n")
        bochs.wait_line("(0) Caught time breakpoint", deadline, seen)
        deadline = time.monotonic() + args.timeout  # the time box of the save itself
        save_with_button(display, deadline, resume=lambda: command("c\n"))
        bochs.proc.wait(timeout=max(1, deadline - time.monotonic()))
    except (run_swap.Failure, OSError, RuntimeError, subprocess.TimeoutExpired) as e:
        problems.append(f"saving: {e}")
    finally:
        bochs.close()
        bochs.drain(seen)
    save_wall = time.monotonic() - t0
    before = [l for l in seen if run_boot.MARKER.match(l)]
    saved = fdplug_log(bochs.log, "state saved")
    if not os.path.exists(os.path.join(rundir, "save", "floppy.fdc82077")):
        problems.append("the save folder has no floppy.fdc82077")
    if len(saved) != 1:
        problems.append(f"{len(saved)} 'state saved' lines in the saving run's bochs.log")
    elif name != "bios" and timing == "accurate" and "busy" not in saved[0]:
        problems.append(f"saved outside the transfer: {saved[0]}")
    if problems:
        print(f"FAIL {timing} {name}: break at {ticks} ticks, save run {time.monotonic() - t0:.2f} s wall")
        for p in problems:
            print(f"       {p} (see {rundir})")
        return problems
    save_copy = os.path.join(rundir, "save-copy")
    shutil.copytree(os.path.join(rundir, "save"), save_copy)

    t1 = time.monotonic()
    restored = []
    bochs = run_swap.Bochs(args, rundir, image, env, [], show, restore="save", lines=BOOT_LINES)
    timed_out = False
    try:
        bochs.proc.wait(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
    bochs.close()
    bochs.drain(restored)
    restore_wall = time.monotonic() - t1
    markers = before + [l for l in restored if run_boot.MARKER.match(l)]
    log = open(bochs.log, encoding="latin-1").read() if os.path.exists(bochs.log) else ""
    r = {"markers": markers, "timed_out": timed_out, "after": open(image, "rb").read(), "log": log,
         "records": None, "file_unchanged": True}
    problems += run_boot.check(variant, r, expected_hash, image_bytes)
    if markers != reference["markers"]:
        problems.append(f"markers {markers} differ from the uninterrupted run's {reference['markers']}")
    if r["after"] != reference["after"]:
        problems.append("the image after the restored run differs from the uninterrupted run's")
    loaded = fdplug_log(bochs.log, "state restored")
    if len(loaded) != 1:
        problems.append(f"{len(loaded)} 'state restored' lines in bochs.log")
    elif loaded[0].split("): ", 1)[1] != saved[0].split("): ", 1)[1]:
        problems.append(f"restored '{loaded[0]}' after saving '{saved[0]}'")
    elif " busy" in saved[0] and "LED A: on" not in loaded[0]:
        problems.append(f"the drive LED is not on after restoring a transfer: {loaded[0]}")
    print(f"{'ok  ' if not problems else 'FAIL'} {timing} {name}: break at {ticks} ticks; {loaded[:1]}; "
          f"{len(before)} markers before the save, {len(markers) - len(before)} after the restore; "
          f"save run {save_wall:.2f} s, restore run {restore_wall:.2f} s wall")
    for p in problems:
        print(f"       {p} (see {rundir})")

    if name == "bios" and not problems:
        # The restored run wrote C79/H1: the saved fingerprint no longer matches the file.
        problems += expect_refusal(args, rundir, image, env, "save", "is not the one saved",
                                   f"{timing} medium changed since the save")
        blob = os.path.join(save_copy, "floppy.fdc82077")
        os.truncate(blob, os.path.getsize(blob) // 2)
        with open(image, "wb") as fh:
            fh.write(image_bytes)
        problems += expect_refusal(args, rundir, image, env, save_copy, "floppy.fdc82077",
                                   f"{timing} state file cut in half")
        os.unlink(blob)
        problems += expect_refusal(args, rundir, image, env, save_copy, "holds no fdplug controller state",
                                   f"{timing} state file missing")
    if not problems:
        drop_saves(rundir)
    return problems


def drop_saves(rundir):
    """A passed point's save folders go: each holds the guest's RAM and video memory (~50 MB)."""
    for name in ("save", "save-copy"):
        shutil.rmtree(os.path.join(rundir, name), ignore_errors=True)


def qmp_after_restore(args):
    """swap.asm saved while it waits for a disk change; after the restore, QMP answers as before
    the save and a swap over QMP reaches the guest."""
    summary, problems = qmp_runs(args)
    print(f"{'ok  ' if not problems else 'FAIL'} QMP after restore: {summary}")
    if not problems:
        drop_saves(os.path.join(args.workdir, "qmp"))
    for p in problems:
        print(f"       {p} (see {os.path.join(args.workdir, 'qmp')})")
    return problems


def qmp_runs(args):
    """(what the runs showed, problems)."""
    rundir = os.path.join(args.workdir, "qmp")
    shutil.rmtree(rundir, ignore_errors=True)
    os.makedirs(os.path.join(rundir, "save"))
    boot = run_boot.assemble(argparse.Namespace(workdir=args.workdir, nasm=args.nasm,
                                                source=args.swap_source), "restore-swap.bin")
    if boot is None:
        return "no runs", ["swap.asm did not assemble"]
    disks, files = run_swap.write_disks(boot, rundir)
    sock = os.path.join(rundir, "qmp.sock")
    env = {"FDPLUG_QMP": "unix:" + sock, "FDPLUG_TIMING": "accurate"}
    show = lambda t: t.replace(rundir, "$RUN")  # noqa: E731
    t0 = time.monotonic()
    deadline = t0 + args.timeout
    seen, problems, qmp = [], [], None
    bochs = run_swap.Bochs(args, rundir, files["A"], env, [], show, bxrc_extra=BXRC_EXTRA)
    try:
        display = Display(deadline, rundir)
        qmp = run_swap.Qmp(sock, deadline, show, lambda: bochs.drain(seen))
        qmp.execute("qmp_capabilities")
        bochs.wait_line("SWAP READY", deadline, seen)
        before = qmp.execute("query-floppy-drives")["return"]
        qmp.close()
        qmp = None
        # A first framebuffer request before the click: without it 2 of 3 clicks were lost here
        # (the screen stayed black and no dialog came).
        display.text()
        save_with_button(display, deadline)
        bochs.proc.wait(timeout=max(1, deadline - time.monotonic()))
    except (run_swap.Failure, OSError, RuntimeError, subprocess.TimeoutExpired) as e:
        return "the save failed", [f"saving: {e}"]
    finally:
        if qmp:
            qmp.close()
        bochs.close()
    if "SWAP CHANGED" in seen:
        return "the save failed", ["the guest saw a disk change before the save"]

    t1 = time.monotonic()
    deadline = t1 + args.timeout
    restored = []
    bochs = run_swap.Bochs(args, rundir, files["A"], env, [], show, restore="save")
    try:
        qmp = run_swap.Qmp(sock, deadline, show, lambda: bochs.drain(restored))
        qmp.execute("qmp_capabilities")
        after = qmp.execute("query-floppy-drives")["return"]
        if after != before:
            problems.append(f"query-floppy-drives after the restore {after}, before the save {before}")
        qmp.execute("floppy-release-image", {"id": "floppya"})
        qmp.event("FLOPPY_MEDIA_EJECTED", deadline)
        qmp.execute("floppy-attach-image", {"id": "floppya", "filename": files["B"]})
        qmp.event("FLOPPY_MEDIA_INSERTED", deadline)
        bochs.wait_line("SWAP DONE", deadline, restored)
    except (run_swap.Failure, OSError) as e:
        problems.append(f"after the restore: {e}")
    finally:
        if qmp:
            qmp.close()
        bochs.close()
    disk = [l for l in seen + restored if l.startswith("DISK")]
    want = [f"DISK {run_swap.MARKERS[n].decode()} HASH {run_swap.track_hash(disks[n]):08X}" for n in "AB"]
    if [l[:35] for l in disk] != want:
        problems.append(f"reads {disk}, expected A's then B's track {want}")
    if "SWAP CHANGED" not in restored:
        problems.append("the restored guest did not see DSKCHG")
    for n in "AB":
        if open(files[n], "rb").read() != disks[n]:
            problems.append(f"disk-{n.lower()}.img changed")
    return (f"query-floppy-drives ({len(before)} drives) before the save and after the restore, "
            f"then release A + attach B; the guest's last lines {restored[-3:] if restored else []}; "
            f"save run {t1 - t0:.2f} s, restore run "
            f"{time.monotonic() - t1:.2f} s wall"), problems


def inside(args):
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    args.bios = "seabios"
    boot = run_boot.assemble(args, "restore-boot.bin")
    if boot is None:
        return 1
    image_bytes = run_boot.make_image(boot)
    expected_hash = run_boot.djb_xor(image_bytes)
    failures, points = 0, 0
    for timing in args.timing.split(",") if "boot" in args.scenarios else []:
        variant, reference, trace = reference_run(args, timing, image_bytes)
        problems = run_boot.check(variant, reference, expected_hash, image_bytes)
        print(f"{'ok  ' if not problems else 'FAIL'} {timing} uninterrupted: {reference['wall']:.2f} s wall, "
              f"{reference['ticks']} ticks; " + " | ".join(reference["markers"]))
        if problems:
            print("       " + "; ".join(problems))
            failures += 1
            continue
        for name, us in save_points(trace):
            points += 1
            failures += bool(boot_point(args, timing, variant, name, us, reference, image_bytes,
                                        expected_hash))
    if "qmp" in args.scenarios:
        failures += bool(qmp_after_restore(args))
    print(f"restore test: {points} save points, {failures} failed")
    return 1 if failures or (points == 0 and "boot" in args.scenarios) else 0


def main():
    ap = run_boot.common_args(__doc__.splitlines()[0], "boot.asm")
    ap.add_argument("--swap-source", required=True, help="swap.asm, for the QMP run")
    ap.add_argument("--timing", default="accurate,fast", help="the boot scenario's timings")
    ap.add_argument("--scenarios", default="boot,qmp", help="boot (save points), qmp (QMP after a restore)")
    ap.add_argument("--timeout", type=float, default=60, help="seconds before a Bochs run is killed")
    ap.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.workdir = os.path.join(os.path.abspath(args.workdir), "restore")
    if args.inside:
        return inside(args)
    return rerun_in_namespace("save-restore", args.timeout * 20)


if __name__ == "__main__":
    sys.exit(main())
