# Runs one scenario's steps against one target and returns its trace: one line per step, the
# step's own text, "=>", and what the target answered (values read, the FIFO bytes of a result
# phase, every change of the FDC's IRQ line and the access it happened in, QMP replies). The two
# targets run the same steps, so their traces align line by line and are diffed that way.
#
# Steps are tuples; the first word names the operation (see OPS below). Ports are relative to
# the controller base 0x3F0 unless the step says otherwise.
import base64
import json
import zlib

BASE = 0x3F0
SRA, SRB, DOR, TDR, MSR, FIFO, DIR = (BASE + i for i in (0, 1, 2, 3, 4, 5, 7))
DSR, CCR = MSR, DIR

# 8237 channel 2 ports
DMA_ADDR2, DMA_COUNT2, DMA_MASK, DMA_MODE, DMA_FLIPFLOP, DMA_PAGE2 = 0x04, 0x05, 0x0A, 0x0B, 0x0C, 0x81
DMA_MODES = {"read": 0x46, "write": 0x4A, "verify": 0x42}  # device->memory, memory->device, verify


def _rle(data):
    out, i = [], 0
    while i < len(data):
        j = i
        while j < len(data) and data[j] == data[i]:
            j += 1
        if j - i >= 4:
            out.append("%02x*%d" % (data[i], j - i))
        else:
            out.extend("%02x" % b for b in data[i:j])
        i = j
    return " ".join(out)


def rle(data):
    """Bytes as hex, runs of 4 or more written as xx*n, so a 512-byte test sector fits in a few
    words; a 512-byte block without long runs is shortened to its first bytes and a CRC."""
    if not data:
        return "(none)"
    parts = []
    for k in range(0, len(data), 512):
        block = data[k:k + 512]
        text = _rle(block)
        if len(text) > 64:
            text = "%s… (%d bytes crc32 %08x)" % (_rle(block[:6]), len(block), zlib.crc32(block))
        parts.append(text)
    return " | ".join(parts)


def sector_bytes(spt, lba, heads=2):
    """The content of sector `lba` in the harness's test images: C, H, R, then a byte that
    differs per sector, so a misplaced sector shows in the trace as its own address."""
    c, rest = divmod(lba, heads * spt)
    h, r0 = divmod(rest, spt)
    return bytes([c & 0xFF, h, r0 + 1]) + bytes([(lba * 13 + 7) & 0xFF]) * 509


def pattern_bytes(name, length):
    """Data the harness writes into guest memory for DMA/PIO writes: 'inc' (0,1,2…), 'fill:XX',
    or 'tag:XX' (XX then an incrementing counter)."""
    if name == "inc":
        return bytes(i & 0xFF for i in range(length))
    kind, _, arg = name.partition(":")
    v = int(arg, 16) if kind in ("fill", "tag") else 0
    if kind == "fill":
        return bytes([v]) * length
    if kind == "sector":  # sector:SPT:LBA, then following sectors
        spt, lba = (int(x) for x in arg.split(":"))
        out = b"".join(sector_bytes(spt, lba + i) for i in range((length + 511) // 512))
        return out[:length]
    if kind == "ids":  # ids:C:H:N — FORMAT's ID list, R = 1, 2, …
        c, h, n = (int(x) for x in arg.split(":"))
        return bytes(b for r in range(1, length // 4 + 1) for b in (c, h, r, n))[:length]
    if kind == "tag":
        return bytes([v] + [(i * 3 + v) & 0xFF for i in range(1, length)])
    raise ValueError("unknown pattern " + name)


class Runner:
    def __init__(self, target, paths):
        self.t = target
        self.paths = paths  # "$IMG:name" -> this target's file

    def irq(self, label=None):
        ev = self.t.take_irqs()
        if not ev:
            return []
        return ["%s@%s" % (e, label) if label else e for e in ev]

    def fmt(self, text, irqs):
        return text + ((" irq " + ",".join(irqs)) if irqs else "")

    def subst(self, s):
        for k, v in self.paths.items():
            s = s.replace(k, v)
        return s

    def unsubst(self, s):
        for k, v in sorted(self.paths.items(), key=lambda kv: -len(kv[1])):
            s = s.replace(v, k)
        return s

    # --- operations -----------------------------------------------------------------------

    def op_out(self, port, value):
        self.t.outb(port, value)
        return self.fmt("ok", self.irq())

    def op_in(self, port):
        v = self.t.inb(port)
        return self.fmt("%02x" % v, self.irq())

    def op_inm(self, port, mask):
        """A read of which only the `mask` bits are compared (CMOS bytes that hold more than the
        floppy's bits)."""
        v = self.t.inb(port) & mask
        return self.fmt("%02x (mask %02x)" % (v, mask), self.irq())

    def op_raw(self, line):
        """A qtest request verbatim (outw/inw/inl/outl/read…); the reply is recorded as is."""
        r = self.t.request(line)
        return self.fmt(r, self.irq())

    def op_cmd(self, *data):
        """Writes the bytes to the FIFO without looking at MSR (as a guest that trusts its count),
        then reads MSR once."""
        irqs = []
        for i, b in enumerate(data, 1):
            self.t.outb(FIFO, b)
            irqs += self.irq("b%d" % i)
        msr = self.t.inb(MSR)
        irqs += self.irq("msr")
        return self.fmt("msr=%02x" % msr, irqs)

    def op_cmdq(self, *data):
        """Writes the bytes to the FIFO and does not read MSR after them (the seek helper: MSR's
        drive-busy bits right after a seek are Δ5, checked by their own scenarios)."""
        irqs = []
        for i, b in enumerate(data, 1):
            self.t.outb(FIFO, b)
            irqs += self.irq("b%d" % i)
        return self.fmt("ok", irqs)

    def op_send(self, *data):
        """Writes the bytes the way libqtest's floppy_send does: MSR must show RQM=1 DIO=0 before
        each byte; the step stops at the first byte the controller does not want."""
        irqs, sent = [], 0
        for i, b in enumerate(data, 1):
            msr = self.t.inb(MSR)
            irqs += self.irq("m%d" % i)
            if (msr & 0xC0) != 0x80:
                return self.fmt("refused byte %d msr=%02x" % (i, msr), irqs)
            self.t.outb(FIFO, b)
            irqs += self.irq("b%d" % i)
            sent += 1
        msr = self.t.inb(MSR)
        irqs += self.irq("msr")
        return self.fmt("msr=%02x" % msr, irqs)

    def op_result(self, limit=20):
        """Reads result bytes while MSR shows RQM=1 DIO=1, at most `limit`."""
        irqs, got = [], []
        msr = self.t.inb(MSR)
        irqs += self.irq("m0")
        first = msr
        while (msr & 0xC0) == 0xC0 and len(got) < limit:
            got.append(self.t.inb(FIFO))
            irqs += self.irq("b%d" % len(got))
            msr = self.t.inb(MSR)
            irqs += self.irq("m%d" % len(got))
        text = "[%s] msr=%02x" % (" ".join("%02x" % b for b in got), msr)
        if not got:
            text = "[] msr=%02x" % first
        return self.fmt(text, irqs)

    def op_sis(self):
        a = self.op_cmd(0x08)
        b = self.op_result()
        return a + " ; " + b

    def op_pio_read(self, count):
        """Reads up to `count` data bytes while MSR shows RQM=1 DIO=1 NON-DMA=1."""
        irqs, data, msrs = [], bytearray(), bytearray()
        msr = self.t.inb(MSR)
        irqs += self.irq("m0")
        while (msr & 0xE0) == 0xE0 and len(data) < count:
            msrs.append(msr)
            data.append(self.t.inb(FIFO))
            irqs += self.irq("b%d" % len(data))
            msr = self.t.inb(MSR)
            irqs += self.irq("m%d" % len(data))
        return self.fmt("%d bytes [%s] msr-during [%s] msr=%02x" % (
            len(data), rle(bytes(data)), rle(bytes(msrs)), msr), irqs)

    def op_pio_write(self, count, pattern):
        """Writes up to `count` bytes of `pattern` while MSR shows RQM=1 DIO=0 NON-DMA=1."""
        irqs, n, msrs = [], 0, bytearray()
        data = pattern_bytes(pattern, count)
        msr = self.t.inb(MSR)
        irqs += self.irq("m0")
        while (msr & 0xE0) == 0xA0 and n < count:
            msrs.append(msr)
            self.t.outb(FIFO, data[n])
            n += 1
            irqs += self.irq("b%d" % n)
            msr = self.t.inb(MSR)
            irqs += self.irq("m%d" % n)
        return self.fmt("%d bytes msr-during [%s] msr=%02x" % (n, rle(bytes(msrs)), msr), irqs)

    def op_dma(self, mode, addr, count, unmask=True):
        """Programs 8237 channel 2: mask, flip-flop, address, page, count-1, mode, unmask."""
        irqs = []
        m = DMA_MODES[mode] if isinstance(mode, str) else mode
        seq = [(DMA_MASK, 0x06), (DMA_FLIPFLOP, 0), (DMA_ADDR2, addr & 0xFF), (DMA_ADDR2, (addr >> 8) & 0xFF),
               (DMA_PAGE2, (addr >> 16) & 0xFF), (DMA_FLIPFLOP, 0), (DMA_COUNT2, (count - 1) & 0xFF),
               (DMA_COUNT2, ((count - 1) >> 8) & 0xFF), (DMA_MODE, m)]
        if unmask:
            seq.append((DMA_MASK, 0x02))
        for port, v in seq:
            self.t.outb(port, v)
            irqs += self.irq("p%02x" % port)
        return self.fmt("ok", irqs)

    def op_dma_unmask(self):
        self.t.outb(DMA_MASK, 0x02)
        return self.fmt("ok", self.irq())

    def op_dma_status(self):
        """8237 status (TC bits) and the channel 2 remaining count."""
        st = self.t.inb(0x08)
        self.t.outb(DMA_FLIPFLOP, 0)
        lo, hi = self.t.inb(DMA_COUNT2), self.t.inb(DMA_COUNT2)
        return self.fmt("tc2=%d count=%04x" % ((st >> 2) & 1, lo | hi << 8), self.irq())

    def op_memfill(self, addr, length, pattern):
        data = pattern_bytes(pattern, length)
        r = self.t.request("b64write 0x%x 0x%x %s" % (addr, length, base64.b64encode(data).decode()))
        return self.fmt(r, self.irq())

    def op_mem(self, addr, length):
        r = self.t.request("read 0x%x 0x%x" % (addr, length))
        if not r.startswith("OK 0x"):
            return r
        return self.fmt(rle(bytes.fromhex(r[5:])), self.irq())

    def op_image(self, name, offset, length):
        """Bytes of this target's image file, as written by the emulator."""
        with open(self.paths[name], "rb") as f:
            f.seek(offset)
            return rle(f.read(length))

    def op_wait(self, mask=0x80, value=0x80, timeout=2.0):
        """Lets guest time pass until MSR & mask == value (READ ID's 20 ms)."""
        msr = self.t.run_until(MSR, mask, value, timeout)
        return self.fmt("msr=%02x" % msr, self.irq())

    def op_qmp(self, obj):
        obj = _map_strings(obj, self.subst)
        r = self.t.qmp(obj)
        if "return" in r:
            ret = r["return"]
            text = "return " + json.dumps(ret, sort_keys=True)
        else:
            text = "error %s: %s" % (r["error"]["class"], r["error"].get("desc", ""))
        ev = [e["event"] for e in self.t.take_events()]
        if ev:
            text += " events " + ",".join(ev)
        return self.fmt(self.unsubst(text), self.irq())

    def op_media(self, qdev):
        """The inserted medium of drive `qdev` from query-block, reduced to what both hosts
        report the same way: present, read-only, virtual size."""
        r = self.t.qmp({"execute": "query-block"})
        for b in r.get("return", []):
            if b.get("qdev") == qdev or b.get("qdev", "").endswith("/" + qdev):
                ins = b.get("inserted")
                if not ins:
                    return self.fmt("empty removable=%s" % b.get("removable"), self.irq())
                size = ins.get("image", {}).get("virtual-size")
                return self.fmt("inserted ro=%s size=%s" % (ins.get("ro"), size), self.irq())
        return "no such drive"

    def op_reset(self):
        """QMP system_reset, waiting for its RESET event."""
        self.t.system_reset()
        return self.fmt("ok", self.irq())

    def op_flood(self, value, count, dsr_between=False):
        """Writes `value` to the FIFO `count` times ignoring MSR (the VENOM pattern); with
        dsr_between a DSR write of 0 goes before each byte (the fuzzers' word-write pattern)."""
        one = ["outb 0x%x 0x0" % DSR] if dsr_between else []
        lines = (one + ["outb 0x%x 0x%x" % (FIFO, value)]) * count
        replies = self.t.pipeline(lines)
        bad = [r for r in replies if r != "OK"]
        ev = self.t.take_irqs()
        msr = self.t.inb(MSR)
        ev += self.t.take_irqs()
        level = "high" if ev and ev[-1].startswith("+") else ("low" if ev else "unchanged")
        return "%d writes%s, irq changes %d (%s), msr=%02x" % (
            len(replies), (" %d not OK" % len(bad)) if bad else "", len(ev), level, msr)

    def op_note(self, text):
        return text


def _map_strings(obj, fn):
    if isinstance(obj, str):
        return fn(obj)
    if isinstance(obj, dict):
        return {k: _map_strings(v, fn) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_map_strings(v, fn) for v in obj]
    return obj


PORT_NAMES = {SRA: "sra", SRB: "srb", DOR: "dor", TDR: "tdr", MSR: "msr", FIFO: "fifo", DIR: "dir"}
OUT_NAMES = {SRA: "+0", SRB: "+1", DOR: "dor", TDR: "tdr", DSR: "dsr", FIFO: "fifo", CCR: "ccr"}


def step_text(step):
    op, args = step[0], step[1:]
    if op == "out":
        return "out %s %02x" % (OUT_NAMES.get(args[0], "0x%x" % args[0]), args[1])
    if op == "in":
        return "in %s" % PORT_NAMES.get(args[0], "0x%x" % args[0])
    if op in ("cmd", "cmdq", "send"):
        return "%s %s" % (op, " ".join("%02x" % b for b in args))
    if op == "dma":
        a = list(args)
        return "dma %s addr=%#x count=%d%s" % (a[0], a[1], a[2], "" if len(a) < 4 or a[3] else " masked")
    if op == "qmp":
        return "qmp " + json.dumps(args[0], sort_keys=True)
    return " ".join([op] + [("%#x" % a) if isinstance(a, int) and a > 9 else str(a) for a in args])


def run_steps(target, steps, paths):
    r = Runner(target, paths)
    target.take_irqs()
    target.take_events()
    lines = []
    for i, step in enumerate(steps):
        fn = getattr(r, "op_" + step[0])
        result = fn(*step[1:])
        lines.append("%03d %s => %s" % (i, step_text(step), result))
    return lines
