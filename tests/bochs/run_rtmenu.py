#!/usr/bin/env python3
"""Media changes through Bochs' runtime configuration menu with fdplug's libbx_floppy.so
(docs/bochs.md#feature-parity).

Boots swap.asm from disk A (run_swap.py's disks) in Bochs with fdplug (FDPLUG_TIMING=fast) and
FDPLUG_QMP, headless with the rfb display inside an empty network namespace; the script is the
rfb client (run_grub.py's). Once the guest has read A's track and waits for a disk change, it
clicks the toolbar's config button, which makes Bochs draw textconfig's "Bochs Runtime Options"
in the display (Debian builds Bochs with its GUI console), reads the questions back from the
pixels and types the answers (run_restore.py's Display). Two runs:
  path: "1" (Floppy disk 0), the path of disk B, the rest unchanged, then the default
     (continue): QMP must send FLOPPY_MEDIA_EJECTED with A's path and FLOPPY_MEDIA_INSERTED with
     B's, read-only false;
  eject-wp: "1", status "ejected", the rest unchanged, continue: FLOPPY_MEDIA_EJECTED with A's
     path, and query-floppy-drives must show the drive empty; then "1", the path of disk B,
     write protection "yes", status "inserted", continue: FLOPPY_MEDIA_INSERTED with B's path
     and read-only true.
In both the guest must see DSKCHG and read B's track (marker and hash); neither image file may change.
Nothing is asked over QMP after the insert: the guest then finishes and Bochs exits at once.

Bochs lays the toolbar's right-hand buttons out from the guest's current width (640 until the
VGA has seen the 80-column text mode, 720 after), so the config button is at x 512-543 or
592-623; the script clicks at 528 first (the paste button in the 720 layout, which does nothing
with rfb) and at 608 if no menu came. Time-boxed: Bochs is killed after --timeout seconds. Exits
77 (skipped) without unshare -n or ip(8).
"""
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_boot  # noqa: E402
import run_swap  # noqa: E402
from run_grub import find_top, screen_text  # noqa: E402
from run_gui import Qmp, click, rerun_in_namespace, run_scenarios  # noqa: E402
from run_restore import Display  # noqa: E402

# The config button's centre in the 640- and 720-pixel layouts (32-pixel buttons from the right:
# power, save/restore, reset, config).
CONFIG_X = (528, 608)
# The runtime menu's words as read back from the pixels: Bochs' console font draws some letters
# (f, m, v, w, x, 0) unlike the VGA BIOS font the reader knows, so the words avoid them.
MENU = "Please choose one"


class Console(Display):
    """run_restore's Display, reading the display as it is now: Bochs sends an update for every
    blink of its console's cursor, unasked, and they queue up between reads."""

    def text(self):
        if self.full:
            self.rfb.catch_up()
        else:
            self.rfb.update(0)
            self.full = True
        top = find_top(self.rfb.fb, self.rfb.w, self.rfb.h, self.font)
        return "" if top is None else "\n".join(screen_text(self.rfb.fb, self.rfb.w, top, self.font))

    def answer(self, text, next_words, deadline):
        self.type(text)
        if next_words:
            self.wait_for(next_words, deadline)


def open_menu(display, deadline):
    """Clicks the config button until the runtime menu shows; returns the x that worked (the
    layout can change between two menus: the console's end redraws the guest's screen)."""
    for x in CONFIG_X:
        click(display.rfb, x, 16)
        if display.wait_for(MENU, min(deadline, time.monotonic() + 4), quiet=True):
            return x
    display.wait_for(MENU, time.monotonic())  # fails, with the screen
    return None


def floppy0(display, deadline, path, write_protected, status):
    """Runtime menu entry 1 (Floppy disk 0): path, media type, write protection, status; then
    the menu's default, continue. "" keeps Bochs' default answer."""
    display.answer("1\n", "Enter ne", deadline)  # "Enter new filename"
    display.answer(path + "\n", "type o", deadline)  # "What type of floppy media?"
    display.answer("\n", "rite protected", deadline)
    display.answer(write_protected + "\n", "inserted or ejected", deadline)
    display.answer(status + "\n", MENU, deadline)
    display.answer("\n", None, deadline)


def inside(args):
    return run_scenarios(args, "rtmenu-swap.bin", SCENARIOS, run)


# path: only the path changes (Bochs' path handler alone must bring the change about);
# eject-wp: status ejected, then disk B write-protected and inserted.
SCENARIOS = ["path", "eject-wp"]


def run(args, boot, scenario):
    rundir = os.path.join(args.workdir, "rtmenu-" + scenario)
    shutil.rmtree(rundir, ignore_errors=True)
    os.makedirs(rundir)
    disks, images = run_swap.write_disks(boot, rundir)
    sock = os.path.join(rundir, "qmp.sock")
    env = {"FDPLUG_QMP": "unix:" + sock, "FDPLUG_TIMING": "fast"}
    args.bios = "seabios"
    t0 = time.monotonic()
    deadline = t0 + args.timeout
    bochs = run_swap.Bochs(args, rundir, images["A"], env, [], lambda t: t.replace(rundir, "$RUN"))
    seen, qmp, problems = [], None, []
    try:
        qmp = Qmp(sock, deadline, rundir, lambda: bochs.drain(seen))
        qmp.execute("qmp_capabilities")
        display = Console(deadline, rundir)
        bochs.wait_line("SWAP READY", deadline, seen)

        if scenario == "path":
            layout = open_menu(display, deadline)
            print(f"   runtime menu open (config button at x {layout}): disk B")
            floppy0(display, deadline, images["B"], "", "")
            ejected = qmp.event("FLOPPY_MEDIA_EJECTED", deadline)["data"]
            if ejected != {"id": "floppya", "path": images["A"], "attachment": "image"}:
                problems.append(f"FLOPPY_MEDIA_EJECTED data {ejected}")
            read_only = False
        else:
            layout = open_menu(display, deadline)
            print(f"   runtime menu open (config button at x {layout}): eject")
            floppy0(display, deadline, "", "", "ejected")
            ejected = qmp.event("FLOPPY_MEDIA_EJECTED", deadline)["data"]
            if ejected != {"id": "floppya", "path": images["A"], "attachment": "image"}:
                problems.append(f"FLOPPY_MEDIA_EJECTED data {ejected}")
            a = qmp.execute("query-floppy-drives")["return"][0]
            if a.get("attachment") != "none":
                problems.append(f"query-floppy-drives after the eject: {a}")
            while MENU in display.text():  # Bochs has put the guest's screen back
                if time.monotonic() > deadline:
                    raise run_swap.Failure("the runtime menu stayed on the screen")
                time.sleep(0.1)
            layout = open_menu(display, deadline)
            print(f"   runtime menu open (x {layout}): disk B, write protected, inserted")
            floppy0(display, deadline, images["B"], "yes", "inserted")
            read_only = True
        inserted = qmp.event("FLOPPY_MEDIA_INSERTED", deadline)["data"]
        want = {"id": "floppya", "path": images["B"], "attachment": "image", "read-only": read_only}
        if inserted != want:
            problems.append(f"FLOPPY_MEDIA_INSERTED data {inserted}, expected {want}")
        bochs.wait_line("SWAP DONE", deadline, seen)
    finally:
        if qmp:
            qmp.close()
        bochs.close()
    wall = time.monotonic() - t0
    got = [(l[5:21], l[27:35]) for l in seen if l.startswith("DISK")]
    want_reads = [(run_swap.MARKERS[n].decode(), f"{run_swap.track_hash(disks[n]):08X}") for n in "AB"]
    if got != want_reads:
        problems.append(f"reads {got}, expected A's then B's track {want_reads}")
    if "SWAP CHANGED" not in seen:
        problems.append("the guest did not see DSKCHG")
    for name in "AB":
        if open(images[name], "rb").read() != disks[name]:
            problems.append(f"disk-{name.lower()}.img changed")
    print(f"{'ok  ' if not problems else 'FAIL'} {scenario}: {wall:.2f} s wall")
    for p in problems:
        print(f"       {p} (see {rundir})")
    return not problems


def main():
    ap = run_boot.common_args(__doc__.splitlines()[0], "swap.asm")
    ap.add_argument("--timeout", type=float, default=90, help="seconds before Bochs is killed")
    ap.add_argument("--inside", action="store_true", help="(internal) run in the namespace")
    args = ap.parse_args()
    if args.inside:
        return inside(args)
    return rerun_in_namespace("rtmenu", args.timeout + 30)


if __name__ == "__main__":
    sys.exit(main())
