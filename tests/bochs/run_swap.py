#!/usr/bin/env python3
"""Media-swap test of fdplug's libbx_floppy.so in Debian's Bochs 2.7, over QMP (docs/bochs.md).

Builds two 1.44 MB floppies: A boots swap.asm's boot sector, and each holds its own
pseudo-random data (run_boot.py's xorshift32, seeds SEED_A and SEED_B) with a 16-byte marker at
the start of track C1/H0 ("FDPLUG DISK A   ", "FDPLUG DISK B   "). Boots A in Bochs with fdplug
and FDPLUG_QMP=unix:<rundir>/qmp.sock, and then:
  - connects to the monitor: greeting, qmp_capabilities, query-version, query-floppy-drives;
  - floppy-attach-image floppya B while A is in (VM_E_DRIVE_IN_USE), query-floppy-drives (A
    still there);
  - waits for the guest's SWAP READY (it has read A's track);
  - floppy-release-image floppya (FLOPPY_MEDIA_EJECTED), floppy-attach-image floppya B
    (FLOPPY_MEDIA_INSERTED);
  - waits for SWAP DONE and Bochs' exit.
Nothing is asked after B's attach: from then on the guest may finish and Bochs exit at any
moment (with FDPLUG_TIMING=fast it takes milliseconds), so a later request would race the exit.
It checks that the guest saw the change (SWAP CHANGED: DIR bit 7), that its reads before and
after show A's and then B's marker and track hash, and that neither image file changed. Prints
every QMP request, reply and event, so scripts/demo shows the exchange with it. Every wait is
time-boxed: Bochs is killed after --timeout seconds.
"""
import json
import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_boot  # noqa: E402  (the image generator, the bochsrc, network isolation)

SEED_A = 0xF10BB1E5  # = run_boot.SEED
SEED_B = 0x5EED0B0B
TRACK = 36 * 512     # C1/H0/S1: LBA 36
MARKERS = {"A": b"FDPLUG DISK A   ", "B": b"FDPLUG DISK B   "}
LINE = re.compile(r"^(SWAP (boot|READY|CHANGED|DONE)|DISK .{16} HASH [0-9A-F]{8} RETRIES [0-9A-F]{4}|DIR [0-9A-F]{2})$")


def make_disk(boot, name, seed):
    data = bytearray(run_boot.make_image(boot, seed))
    data[TRACK:TRACK + 16] = MARKERS[name]
    return bytes(data)


def write_disks(boot, rundir):
    """Disks A and B (make_disk) as disk-a.img and disk-b.img in rundir: ({name: bytes},
    {name: path})."""
    disks = {n: make_disk(boot, n, seed) for n, seed in (("A", SEED_A), ("B", SEED_B))}
    files = {n: os.path.join(rundir, f"disk-{n.lower()}.img") for n in disks}
    for n, data in disks.items():
        with open(files[n], "wb") as fh:
            fh.write(data)
    return disks, files


def track_hash(image):
    return run_boot.djb_xor(image[TRACK:TRACK + run_boot.TRACK_BYTES])


class Failure(Exception):
    pass


class Bochs:
    """Bochs with fdplug and QMP; its port 0xE9 lines (stdout) that match `lines` (by default
    swap.asm's) arrive on a queue. rc: the debugger's rc file; bxrc_extra: lines added to the
    bochsrc; restore: a save folder to start from (`-r`) instead of the bochsrc; stdin: a pipe
    for debugger commands (else /dev/null)."""

    def __init__(self, args, rundir, image, env_extra, prefix, show, *, rc="c\n", bxrc_extra="",
                 restore=None, lines=LINE, stdin=False):
        self.log = os.path.join(rundir, "bochs.log")
        self.pattern = lines
        with open(os.path.join(rundir, "swap.bxrc"), "w") as fh:
            fh.write(run_boot.bochsrc(image, self.log, args.bios) + bxrc_extra)
        with open(os.path.join(rundir, "c.rc"), "w") as fh:
            fh.write(rc)
        env = dict(os.environ)
        for k in ("LTDL_LIBRARY_PATH", "FDPLUG_TIMING", "FDPLUG_QMP"):
            env.pop(k, None)
        env["LTDL_LIBRARY_PATH"] = os.path.dirname(os.path.abspath(args.plugin)) + ":" + run_boot.DEBIAN_PLUGIN_DIR
        env.update(env_extra)
        kept = "restore-" if restore else ""  # a restore keeps the saving run's output
        self.stderr = open(os.path.join(rundir, kept + "stderr.txt"), "wb")
        self.stdout_copy = open(os.path.join(rundir, kept + "stdout.txt"), "wb")
        config = ["-r", restore] if restore else ["-f", "swap.bxrc"]
        cmd = prefix + [args.bochs, "-q", *config, "-rc", "c.rc"]
        shown = " ".join(f"{k}={env[k]}" for k in ("LTDL_LIBRARY_PATH", *sorted(env_extra)))
        print(f"$ cd {show(rundir)} && {show(shown)} {show(' '.join(cmd))}" + ("" if stdin else " </dev/null"))
        self.proc = subprocess.Popen(cmd, cwd=rundir, env=env,
                                     stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=self.stderr)
        self.lines = queue.Queue()
        self.ended = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.proc.stdout:
            self.stdout_copy.write(raw)
            line = raw.decode("latin-1").strip()
            if self.pattern.match(line):
                self.lines.put(line)
        self.lines.put(None)

    def _take(self, line, seen):
        if line is None:
            self.ended = True
            return
        seen.append(line)
        print(f"   guest: {line}")

    def drain(self, seen):
        """The guest lines that have arrived, without waiting (printed, kept in seen)."""
        while True:
            try:
                self._take(self.lines.get_nowait(), seen)
            except queue.Empty:
                return

    def wait_line(self, wanted, deadline, seen):
        """Waits until the guest has printed the line `wanted` (every line is kept in seen)."""
        self.drain(seen)
        while wanted not in seen:
            if self.ended:
                raise Failure(f"Bochs ended before the guest printed '{wanted}' (lines: {seen})")
            try:
                self._take(self.lines.get(timeout=max(0.01, deadline - time.monotonic())), seen)
            except queue.Empty:
                raise Failure(f"no '{wanted}' from the guest in time (lines so far: {seen})")

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if self.proc.stdin:
            self.proc.stdin.close()
        self.stderr.close()
        self.stdout_copy.close()


class Qmp:
    def __init__(self, path, deadline, show, before_request=lambda: None):
        self.show = show
        self.before_request = before_request
        self.events = []
        while True:
            s = socket.socket(socket.AF_UNIX)
            try:
                s.connect(path)
                break
            except OSError:
                s.close()
                if time.monotonic() > deadline:
                    raise Failure(f"no QMP socket at {path}")
                time.sleep(0.02)
        s.settimeout(max(1.0, deadline - time.monotonic()))
        self.sock, self.rfile = s, s.makefile("rb")
        greeting = self.line()
        if "QMP" not in greeting:
            raise Failure(f"no QMP greeting: {greeting}")

    def line(self):
        raw = self.rfile.readline()
        if not raw:
            raise Failure("the QMP connection closed")
        text = raw.decode()
        print("<- " + self.show(text.strip()))
        return json.loads(text)

    def execute(self, command, arguments=None, error=None):
        msg = {"execute": command}
        if arguments is not None:
            msg["arguments"] = arguments
        text = json.dumps(msg)
        self.before_request()
        print("-> " + self.show(text))
        self.sock.sendall(text.encode() + b"\n")
        while True:
            reply = self.line()
            if "event" in reply:
                self.events.append(reply)
                continue
            if error is None and "return" not in reply:
                raise Failure(f"{command}: {reply}")
            if error is not None and reply.get("error", {}).get("class") != error:
                raise Failure(f"{command}: expected error {error}, got {reply}")
            return reply

    def event(self, name, deadline):
        while not any(e["event"] == name for e in self.events):
            if time.monotonic() > deadline:
                raise Failure(f"no {name} event")
            self.events.append(self.line())
        e = next(e for e in self.events if e["event"] == name)
        self.events.remove(e)
        return e

    def close(self):
        self.sock.close()


def run(args, boot, prefix):
    variant = f"{args.bios}-{args.timing}"
    rundir = os.path.join(args.workdir, f"swap-{variant}")
    shutil.rmtree(rundir, ignore_errors=True)
    os.makedirs(rundir)
    disks, files = write_disks(boot, rundir)
    sock = os.path.join(rundir, "qmp.sock")
    show = (lambda text: text.replace(rundir, "$RUN")) if args.short_paths else (lambda text: text)
    print(f"== {variant}: Bochs boots {show(files['A'])} with fdplug, FDPLUG_QMP=unix:{show(sock)}")

    env = {"FDPLUG_QMP": "unix:" + sock}
    if args.timing == "fast":
        env["FDPLUG_TIMING"] = "fast"
    t0 = time.monotonic()
    deadline = t0 + args.timeout
    bochs = Bochs(args, rundir, files["A"], env, prefix, show)
    seen, qmp = [], None
    try:
        qmp = Qmp(sock, deadline, show, lambda: bochs.drain(seen))
        qmp.execute("qmp_capabilities")
        qmp.execute("query-version")
        drives = qmp.execute("query-floppy-drives")["return"]
        a = drives[0]
        if a.get("id") != "floppya" or a.get("image-file") != files["A"]:
            raise Failure(f"query-floppy-drives: drive A is {a}, expected floppya holding {files['A']}")

        qmp.execute("floppy-attach-image", {"id": "floppya", "filename": files["B"]}, error="VM_E_DRIVE_IN_USE")
        a = qmp.execute("query-floppy-drives")["return"][0]
        if a.get("image-file") != files["A"]:
            raise Failure(f"query-floppy-drives after the refused attach: {a}")

        bochs.wait_line("SWAP READY", deadline, seen)
        t_swap = time.monotonic()
        qmp.execute("floppy-release-image", {"id": "floppya"})
        ejected = qmp.event("FLOPPY_MEDIA_EJECTED", deadline)["data"]
        if ejected != {"id": "floppya", "path": files["A"], "attachment": "image"}:
            raise Failure(f"FLOPPY_MEDIA_EJECTED data {ejected}")
        qmp.execute("floppy-attach-image", {"id": "floppya", "filename": files["B"]})
        inserted = qmp.event("FLOPPY_MEDIA_INSERTED", deadline)["data"]
        if inserted != {"id": "floppya", "path": files["B"], "attachment": "image", "read-only": False}:
            raise Failure(f"FLOPPY_MEDIA_INSERTED data {inserted}")

        bochs.wait_line("SWAP DONE", deadline, seen)
        t_done = time.monotonic()
        try:
            bochs.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise Failure("Bochs did not exit after the guest's shutdown")
    finally:
        if qmp:
            qmp.close()
        bochs.close()

    problems = []
    disk_lines = [l for l in seen if l.startswith("DISK")]
    dir_lines = [l for l in seen if l.startswith("DIR")]
    want = [(MARKERS[n].decode(), f"{track_hash(disks[n]):08X}") for n in ("A", "B")]
    got = [(l[5:21], l[27:35]) for l in disk_lines]
    if got != want:
        problems.append(f"reads {got}, expected {want} (A's track, then B's)")
    if "SWAP CHANGED" not in seen or seen.index("SWAP CHANGED") < seen.index("SWAP READY"):
        problems.append("the guest did not see DSKCHG (DIR bit 7) after the swap")
    # Before the swap DSKCHG must be clear (the seek to C1 stepped with a disk in), or seeing it
    # set would prove nothing. After it, it depends on the BIOS: SeaBIOS recalibrates on reset
    # and seeks back, which clears it; Bochs' BIOS relies on the implied seek, which does not
    # step when the head is already on C1, so DSKCHG stays set, as on a real drive.
    if not dir_lines or int(dir_lines[0][4:], 16) & 0x80:
        problems.append(f"DIR before the swap {dir_lines[:1]}: DSKCHG should be clear after the first read")
    for n, path in files.items():
        with open(path, "rb") as fh:
            if fh.read() != disks[n]:
                problems.append(f"{path} changed")
    logtext = open(bochs.log, encoding="latin-1").read() if os.path.exists(bochs.log) else ""
    if "fdplug: QMP monitor on unix:" not in logtext:
        problems.append("bochs.log does not say where the QMP monitor is")
    retries = [int(l[-4:], 16) for l in disk_lines]
    print(f"{'ok  ' if not problems else 'FAIL'} {variant}: boot to READY {t_swap - t0:.2f} s, swap to DONE "
          f"{t_done - t_swap:.2f} s wall; read retries before/after the swap {retries}; {', '.join(dir_lines)}")
    for p in problems:
        print(f"       {p} (see {rundir})")
    return not problems


def main():
    ap = run_boot.common_args(__doc__.splitlines()[0], "swap.asm")
    ap.add_argument("--bios", choices=sorted(run_boot.BIOSES), default="seabios")
    ap.add_argument("--timing", default="accurate,fast", help="comma-separated: accurate, fast")
    ap.add_argument("--timeout", type=float, default=60, help="seconds for one whole run")
    ap.add_argument("--short-paths", action="store_true", help="print the run directory as $RUN")
    args = ap.parse_args()

    boot = run_boot.assemble(args, "swap.bin")
    if boot is None:
        return 1
    prefix, how = run_boot.isolation()
    print(f"network: {how}")
    failures = 0
    for timing in args.timing.split(","):
        args.timing = timing
        try:
            failures += not run(args, boot, prefix)
        except (Failure, OSError, ValueError) as e:
            print(f"FAIL {args.bios}-{timing}: {e}")
            failures += 1
    print(f"swap test: {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
