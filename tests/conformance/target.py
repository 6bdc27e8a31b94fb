# One emulator process under test, driven over qtest and QMP the way libqtest drives QEMU
# (docs/protocols/qtest.md §1): the harness listens on two UNIX sockets, the emulator
# connects to both as a client, and every request gets exactly one reply, preceded by any number
# of asynchronous "IRQ raise/lower N" lines.
#
# Two kinds of target share this class:
#   - "qemu":   Debian's qemu-system-x86_64 (7.2, no qtest accelerator): -accel tcg -S with a tiny
#               firmware that halts, so the virtual clock runs only while the harness lets the
#               VM run ('cont' ... 'stop'), which only READ ID's 20 ms needs;
#   - "fdplug": fdplug-host with the floppy plugin, -accel qtest and timing=fast; the virtual clock
#               moves only by clock_step.
import json
import os
import socket
import subprocess
import tempfile
import time


class TargetError(Exception):
    pass


def make_firmware(path):
    """A 64 KiB BIOS image (QEMU requires a multiple of 64 KiB) whose reset vector at F000:FFF0,
    the image's last 16 bytes, runs cli; hlt; jmp $-1. The CPU never gets past it, so nothing but
    the harness touches a device."""
    image = bytearray(b"\xf4" * 65536)
    image[0xFFF0:0xFFF4] = b"\xfa\xf4\xeb\xfd"
    with open(path, "wb") as f:
        f.write(image)


class Target:
    def __init__(self, kind, argv, workdir, irqs=(6,), log=None):
        self.kind = kind
        self.argv = argv
        self.workdir = workdir
        self.irqs = set(irqs)
        self.proc = None
        self.qtest = None
        self.qmp_sock = None
        self.qtest_buf = b""
        self.qmp_buf = b""
        self.pending_irq = []  # async IRQ lines (for self.irqs) not yet claimed by an op
        self.events = []  # QMP events not yet claimed by an op
        self.log = log
        self.stderr_path = None

    # --- process --------------------------------------------------------------------------

    def start(self, extra):
        d = tempfile.mkdtemp(prefix="conf-%s-" % self.kind, dir=self.workdir)
        qpath, mpath = os.path.join(d, "qtest.sock"), os.path.join(d, "qmp.sock")
        lq = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        lq.bind(qpath)
        lq.listen(1)
        lm = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        lm.bind(mpath)
        lm.listen(1)
        argv = list(self.argv) + [
            "-qtest", "unix:" + qpath, "-qtest-log", "/dev/null",
            "-chardev", "socket,path=%s,id=char0" % mpath, "-mon", "chardev=char0,mode=control",
            "-display", "none",
        ] + list(extra)
        self.cmdline = " ".join(argv)
        self.stderr_path = os.path.join(d, "stderr")
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                                         env=dict(os.environ, QEMU_AUDIO_DRV="none"))
        try:
            for ls in (lq, lm):
                ls.settimeout(30)
            self.qtest, _ = self._accept(lq)
            self.qmp_sock, _ = self._accept(lm)
        finally:
            lq.close()
            lm.close()
            os.unlink(qpath)
            os.unlink(mpath)
        for s in (self.qtest, self.qmp_sock):
            s.settimeout(30)
        greeting = self._qmp_read()
        if "QMP" not in greeting:
            raise TargetError("%s: no QMP greeting: %r" % (self.kind, greeting))
        r = self.qmp({"execute": "qmp_capabilities"})
        if "return" not in r:
            raise TargetError("%s: qmp_capabilities failed: %r" % (self.kind, r))
        if self.request("endianness") != "OK little":
            raise TargetError("%s: unexpected endianness reply" % self.kind)
        r = self.request("irq_intercept_in ioapic")
        if r != "OK":
            raise TargetError("%s: irq_intercept_in ioapic: %s" % (self.kind, r))

    def _accept(self, ls):
        deadline = time.monotonic() + 30
        ls.settimeout(0.1)
        while True:
            try:
                return ls.accept()
            except socket.timeout:
                if self.proc.poll() is not None:
                    raise TargetError("%s exited with status %s before connecting: %s\n%s" % (
                        self.kind, self.proc.returncode, self.cmdline, self.stderr()))
                if time.monotonic() > deadline:
                    raise TargetError("%s did not connect within 30 s" % self.kind)

    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode(errors="replace")[-2000:]
        except OSError:
            return ""

    def stop(self):
        """SIGTERM, as libqtest's qtest_quit; returns the exit status (negative: killed by a
        signal), which must be 0 for a well-behaved emulator."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for s in (self.qtest, self.qmp_sock):
            if s is not None:
                s.close()
        rc = self.proc.returncode
        self.proc = None
        return rc

    # --- qtest ----------------------------------------------------------------------------

    def _readline(self, sock, attr):
        buf = getattr(self, attr)
        while b"\n" not in buf:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                raise TargetError("%s: no reply within 30 s" % self.kind)
            if not chunk:
                raise TargetError("%s closed the connection (exit status %s)\n%s" % (
                    self.kind, self.proc.poll(), self.stderr()))
            buf += chunk
        line, buf = buf.split(b"\n", 1)
        setattr(self, attr, buf)
        return line.decode().rstrip("\r")

    def request(self, line):
        self.qtest.sendall((line + "\n").encode())
        while True:
            r = self._readline(self.qtest, "qtest_buf")
            if r.startswith("IRQ "):
                _, what, num = r.split()
                if int(num) in self.irqs:
                    self.pending_irq.append("%s%s" % ("+" if what == "raise" else "-", num))
                continue
            if self.log is not None:
                self.log.append("%s | %s" % (line[:200], r[:200]))
            return r

    def pipeline(self, lines, chunk=256):
        """Sends many requests before reading their replies (a flood of port writes)."""
        replies = []
        for i in range(0, len(lines), chunk):
            part = lines[i:i + chunk]
            self.qtest.sendall(("".join(l + "\n" for l in part)).encode())
            while len(replies) < i + len(part):
                r = self._readline(self.qtest, "qtest_buf")
                if r.startswith("IRQ "):
                    _, what, num = r.split()
                    if int(num) in self.irqs:
                        self.pending_irq.append("%s%s" % ("+" if what == "raise" else "-", num))
                    continue
                replies.append(r)
        return replies

    def take_irqs(self):
        out, self.pending_irq = self.pending_irq, []
        return out

    def inb(self, port):
        r = self.request("inb 0x%x" % port)
        if not r.startswith("OK "):
            raise TargetError("%s: inb 0x%x: %s" % (self.kind, port, r))
        return int(r.split()[1], 16)

    def outb(self, port, value):
        r = self.request("outb 0x%x 0x%x" % (port, value))
        if r != "OK":
            raise TargetError("%s: outb: %s" % (self.kind, r))

    # --- QMP ------------------------------------------------------------------------------

    def _qmp_read(self):
        return json.loads(self._readline(self.qmp_sock, "qmp_buf"))

    def qmp(self, obj):
        self.qmp_sock.sendall((json.dumps(obj) + "\n").encode())
        while True:
            r = self._qmp_read()
            if "event" in r:
                self.events.append(r)
                continue
            return r

    def take_events(self, ignore=("STOP", "RESUME", "RESET")):
        out = [e for e in self.events if e["event"] not in ignore]
        self.events = []
        return out

    def wait_event(self, name, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e["event"] == name:
                    del self.events[i]
                    return e
            if time.monotonic() > deadline:
                raise TargetError("%s: no %s event within %d s" % (self.kind, name, timeout))
            self.qmp_sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                r = self._qmp_read()
            finally:
                self.qmp_sock.settimeout(30)
            if "event" in r:
                self.events.append(r)

    def system_reset(self):
        r = self.qmp({"execute": "system_reset"})
        if "return" not in r:
            raise TargetError("%s: system_reset: %r" % (self.kind, r))
        self.wait_event("RESET")

    # --- time -----------------------------------------------------------------------------

    def run_until(self, port, mask, value, timeout_s=2.0):
        """Lets guest time pass until (inb(port) & mask) == value, and returns the last value read.
        QEMU: let the halted VM run (the virtual clock follows the host's) and poll; fdplug: step
        the virtual clock deadline by deadline."""
        v = self.inb(port)
        if (v & mask) == value:
            return v
        if self.kind == "qemu":
            self.qmp({"execute": "cont"})
            deadline = time.monotonic() + timeout_s
            try:
                while (v & mask) != value and time.monotonic() < deadline:
                    time.sleep(0.001)
                    v = self.inb(port)
            finally:
                self.qmp({"execute": "stop"})
            return self.inb(port)
        for _ in range(int(timeout_s * 1000)):
            r = self.request("clock_step 1000000")
            if not r.startswith("OK"):
                raise TargetError("%s: clock_step: %s" % (self.kind, r))
            v = self.inb(port)
            if (v & mask) == value:
                break
        return v
