#!/usr/bin/env python3
"""Debian's GRUB rescue floppy under fdplug in Bochs: does it reach its menu? (docs/bochs.md)

Boots grub-rescue-floppy.img (package grub-rescue-pc), padded to 1.44 MB, in Bochs with Bochs'
BIOS and fdplug's libbx_floppy.so (and, for comparison, Bochs' own plugin), headless with the rfb
display inside an empty network namespace. The script is the rfb (VNC) client: it brings up the
namespace's loopback, connects to Bochs' display on 127.0.0.1:5900, presses Down every 0.2 s so
that GRUB's menu stops counting down once it shows, and reads the text screen back from the
pixels by matching each 9x16 cell against the 8x16 font in the VGA BIOS ROM Bochs loads. The menu
counts as reached when the screen shows "GNU GRUB" and a menu entry. Time-boxed: Bochs is killed
after --timeout seconds. Exits 77 (skipped) without the GRUB image or network isolation.

SeaBIOS is not used: with it, Bochs' rfb display stays black (with Bochs' own floppy plugin too).
"""
import argparse
import os
import shutil
import select
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_boot  # noqa: E402

GRUB_IMAGE = "/usr/lib/grub-rescue/grub-rescue-floppy.img"
VGA_ROM = f"{run_boot.BXSHARE}/VGABIOS-lgpl-latest"
KEY_DOWN = 0xFF54
COLS, ROWS, CELL_W, CELL_H = 80, 25, 9, 16


def vga_font():
    """glyph (16 row bytes) -> character, from the 8x16 font in the VGA BIOS (found by its 'A')."""
    rom = open(VGA_ROM, "rb").read()
    a = bytes([0, 0, 0x10, 0x38, 0x6C, 0xC6, 0xC6, 0xFE, 0xC6, 0xC6, 0xC6, 0xC6, 0, 0, 0, 0])
    at = rom.find(a)
    if at < 0:
        raise RuntimeError(f"no 8x16 font in {VGA_ROM}")
    base = at - 0x41 * 16
    font = {}
    # ASCII first, so that a letter wins over a code page 437 glyph drawn the same way.
    for c in [*range(0x21, 0x7F), *range(0x01, 0x21), *range(0x7F, 0xFF)]:
        glyph = rom[base + c * 16:base + c * 16 + 16]
        if any(glyph):
            font.setdefault(glyph, bytes([c]).decode("cp437"))
    return font


class Rfb:
    """The few RFB 3.3 messages Bochs' rfb server needs: raw encoding, 8 bits per pixel."""

    def __init__(self, port, deadline):
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("Bochs' rfb display did not open")
                time.sleep(0.1)
        self.recv(12)
        self.sock.sendall(b"RFB 003.003\n")
        if struct.unpack(">I", self.recv(4))[0] != 1:
            raise RuntimeError("the rfb server wants authentication")
        self.sock.sendall(b"\x01")  # shared
        self.w, self.h = struct.unpack(">HH", self.recv(4))
        bpp = self.recv(16)[0]
        if bpp != 8:
            raise RuntimeError(f"rfb pixel format of {bpp} bits; expected Bochs' 8")
        self.recv(struct.unpack(">I", self.recv(4))[0])
        self.fb = bytearray(self.w * self.h)

    def recv(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise RuntimeError("the rfb connection closed")
            data += chunk
        return data

    def key(self, keysym):
        for down in (1, 0):
            self.sock.sendall(struct.pack(">BBHI", 4, down, 0, keysym))

    def update(self, incremental=1, request=True):
        """Asks for an update (request) and applies the next FramebufferUpdate that arrives."""
        if request:
            self.sock.sendall(struct.pack(">BBHHHH", 3, incremental, 0, 0, self.w, self.h))
        while True:
            kind = self.recv(1)[0]
            if kind == 0:
                for _ in range(struct.unpack(">xH", self.recv(3))[0]):
                    x, y, w, h, enc = struct.unpack(">HHHHi", self.recv(12))
                    if enc != 0:
                        raise RuntimeError(f"rfb encoding {enc}")
                    data = self.recv(w * h)
                    for row in range(h):
                        o = (y + row) * self.w + x
                        self.fb[o:o + w] = data[row * w:(row + 1) * w]
                return
            if kind == 1:
                self.recv(5 + 6 * struct.unpack(">xHH", self.recv(5))[1] - 5)
            elif kind == 3:
                self.recv(3)
                self.recv(struct.unpack(">I", self.recv(4))[0])
            elif kind != 2:
                raise RuntimeError(f"rfb message {kind}")

    def catch_up(self, quiet=0.05, longest=1.0):
        """Applies every update Bochs has sent (it also sends them unasked, e.g. for each
        blink of its console's cursor, so they queue up between reads) until none arrives for
        `quiet` seconds, for at most `longest` seconds: afterwards fb shows the display as it
        is now, not as it was some reads ago."""
        self.update(1)
        end = time.monotonic() + longest
        while time.monotonic() < end and select.select([self.sock], [], [], quiet)[0]:
            self.update(request=False)


def screen_text(fb, width, top, font):
    """The 80x25 text screen whose first row starts at pixel row `top`: each cell's first 8
    columns against the font, as drawn or inverted (a highlighted menu entry); '?' for a cell
    that matches no glyph and is not blank. The background is the most common pixel value."""
    bg = max(set(fb[::97]), key=fb[::97].count)
    mask = bytes(fb).translate(bytes(0x30 if v == bg else 0x31 for v in range(256)))
    lines = []
    for r in range(ROWS):
        line = []
        for c in range(COLS):
            base = (top + r * CELL_H) * width + c * CELL_W
            glyph = bytes(int(mask[base + y * width:base + y * width + 8], 2) for y in range(CELL_H))
            if not any(glyph) or all(b == 0xFF for b in glyph):
                line.append(" ")
            else:
                line.append(font.get(glyph) or font.get(bytes(b ^ 0xFF for b in glyph)) or "?")
        lines.append("".join(line).rstrip())
    return lines


def find_top(fb, width, height, font):
    """The pixel row where the text screen starts: below Bochs' header bar (rows that are mostly
    not the screen's background), the first of 16 rows whose cells match the most glyphs; None
    while the screen has no text."""
    bg = max(set(fb[::97]), key=fb[::97].count)
    start = next((y for y in range(height) if fb[y * width:(y + 1) * width].count(bg) > width // 2), 0)
    best, best_count = None, 0
    for top in range(start, min(start + CELL_H, height - ROWS * CELL_H + 1)):
        count = sum(len(l) - l.count(" ") - l.count("?") for l in screen_text(fb, width, top, font))
        if count > best_count:
            best, best_count = top, count
    return best if best_count >= 8 else None


def inside(args):
    """In the empty network namespace: loopback up, Bochs, the rfb client."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    font = vga_font()
    rundir = os.path.join(args.workdir, f"grub-{args.variant}")
    shutil.rmtree(rundir, ignore_errors=True)
    os.makedirs(rundir)
    image = os.path.join(rundir, "grub.img")
    shutil.copyfile(GRUB_IMAGE, image)
    # Bochs' 1_44 wants the whole 1.44 MB (docs/hardware/media.md §2).
    os.truncate(image, run_boot.IMAGE_BYTES)
    log = os.path.join(rundir, "bochs.log")
    with open(os.path.join(rundir, "grub.bxrc"), "w") as fh:
        fh.write(run_boot.bochsrc(image, log, "rombios").replace("port_e9_hack: enabled=1\n", ""))
    with open(os.path.join(rundir, "c.rc"), "w") as fh:
        fh.write("c\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FDPLUG_") and k != "LTDL_LIBRARY_PATH"}
    env["LTDL_LIBRARY_PATH"] = run_boot.DEBIAN_PLUGIN_DIR
    if args.variant == "fdplug":
        env["LTDL_LIBRARY_PATH"] = os.path.dirname(os.path.abspath(args.plugin)) + ":" + run_boot.DEBIAN_PLUGIN_DIR
    out = open(os.path.join(rundir, "bochs.out"), "wb")
    t0 = time.monotonic()
    deadline = t0 + args.timeout
    proc = subprocess.Popen([args.bochs, "-q", "-f", "grub.bxrc", "-rc", "c.rc"], cwd=rundir, env=env,
                            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    try:
        rfb = Rfb(5900, deadline)
        rfb.update(0)
        top, last_key, text = None, 0.0, []
        while time.monotonic() < deadline and proc.poll() is None:
            now = time.monotonic()
            if now - last_key > 0.2:
                rfb.key(KEY_DOWN)
                last_key = now
            rfb.update(1)
            if top is None:
                top = find_top(rfb.fb, rfb.w, rfb.h, font)
                if top is None:
                    continue
            text = screen_text(rfb.fb, rfb.w, top, font)
            screen = "\n".join(text)
            if "GNU GRUB" in screen and "GNU/Linux" in screen:
                wall = time.monotonic() - t0
                print(f"ok   {args.variant}: GRUB's menu after {wall:.1f} s wall. The screen:")
                for line in text:
                    if line:
                        print("     | " + line)
                return 0
        print(f"FAIL {args.variant}: no GRUB menu within {args.timeout:.0f} s (see {rundir}); last screen:")
        for line in text:
            if line:
                print("     | " + line)
        return 1
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bochs", required=True, help="bochs-bin")
    ap.add_argument("--plugin", required=True, help="fdplug's libbx_floppy.so")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--variants", default="fdplug,stock")
    ap.add_argument("--timeout", type=float, default=120, help="seconds before a Bochs run is killed")
    ap.add_argument("--variant", help=argparse.SUPPRESS)  # set for the run inside the namespace
    args = ap.parse_args()
    if args.variant:
        return inside(args)
    if not os.path.exists(GRUB_IMAGE):
        print(f"skip: {GRUB_IMAGE} is missing (package grub-rescue-pc; scripts/setup installs it)")
        return 77
    unshare, ip = shutil.which("unshare"), shutil.which("ip")
    if not unshare or not ip or subprocess.run([unshare, "-n", "true"], capture_output=True).returncode:
        print("skip: needs unshare -n (root) and ip(8): the rfb display and its client share an empty network namespace")
        return 77
    failures = 0
    for variant in args.variants.split(","):
        cmd = [unshare, "-n", sys.executable, os.path.abspath(__file__), "--bochs", args.bochs, "--plugin",
               args.plugin, "--workdir", args.workdir, "--timeout", str(args.timeout), "--variant", variant]
        try:
            failures += subprocess.run(cmd, timeout=args.timeout + 30).returncode != 0
        except subprocess.TimeoutExpired:
            print(f"FAIL {variant}: the run did not end in time")
            failures += 1
    print(f"grub test: {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
