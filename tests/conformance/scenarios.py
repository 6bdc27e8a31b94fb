# The differential scenarios: a systematic generator (every opcode, every data command with valid
# and invalid parameters, every geometry and data rate, seeks, resets, registers) plus
# hand-written cases (QEMU's fdc-test cases, media changes over QMP, the FDC CVE reproducers).
#
# A scenario is a dict:
#   name      unique, [a-z0-9-]
#   machine   tuple of drive specs for units 0.. ("" = no drive on that unit):
#               "144" "720" "288" "120"  a patterned image of that geometry, read-write
#               "<geom>:ro"               the same, -drive readonly=on
#               "blank144"                a zero-filled 1.44 MB image
#               "empty" / "empty:<type>"  -device floppy without a medium (drive-type)
#   steps     operations of engine.Runner (op name, args…)
#   group     scenarios with the same group share one process pair, with a QMP system_reset
#             between them; only scenarios that leave no state a reset does not clear on both
#             targets may share (no writes, no CONFIGURE/LOCK/SPECIFY changes: QEMU keeps those
#             across a reset, Δ23). None = a fresh pair of processes.
#   origin    "generated" or "hand"
#   media     extra images the scenario names in QMP commands ("$IMG:<name>" -> that target's copy)
from engine import CCR, DIR, DOR, DSR, FIFO, MSR, SRA, SRB, TDR

GEOMS = {  # cylinders, heads, sectors per track, CCR rate, bytes
    "144": (80, 2, 18, 0, 1474560),
    "720": (80, 2, 9, 2, 737280),
    "288": (80, 2, 36, 3, 2949120),
    "120": (80, 2, 15, 0, 1228800),
}
BUF = 0x20000  # guest buffer for DMA (page 2, so the page register matters)

READ, READ_MT, WRITE, WRITE_MT = 0x46, 0xC6, 0x45, 0xC5
READ_DEL, WRITE_DEL, READ_TRACK, VERIFY, FORMAT, READ_ID = 0x4C, 0x49, 0x42, 0x56, 0x4D, 0x4A
SCAN_EQ, SCAN_LE, SCAN_HE = 0x51, 0x59, 0x5D


def lba(geom, c, h, r):
    _, heads, spt, _, _ = GEOMS[geom]
    return (c * heads + h) * spt + r - 1


# --- step builders -----------------------------------------------------------------------------

def sis():
    return [("sis",)]


def rate(geom_or_rate):
    r = GEOMS[geom_or_rate][3] if isinstance(geom_or_rate, str) else geom_or_rate
    return [("out", CCR, r)]


def seek(c, drive=0, head=0):
    return [("cmdq", 0x0F, (head << 2) | drive, c), ("sis",)]


def recal(drive=0):
    return [("cmdq", 0x07, drive), ("sis",)]


def specify(nd=0, srt_hut=0xAF, hlt=0x02):
    return [("cmd", 0x03, srt_hut, hlt | nd)]


def preamble():
    """The portable reset preamble (docs/hardware/82077aa.md §13.1, Δ3): DOR 0x08 then 0x0C,
    four SENSE INTERRUPTs."""
    return [("out", DOR, 0x08), ("out", DOR, 0x0C)] + sis() * 4


def pio_mode():
    """The portable PIO recipe of Δ2: DOR with bit 3 set first, then SPECIFY ND=1, no DOR write after."""
    return [("out", DOR, 0x0C)] + specify(nd=1)


def data_cmd(op, c, h, r, eot, drive=0, n=2, gpl=0x1B, dtl=0xFF, hds=None):
    hds = h if hds is None else hds
    return ("cmd", op, (hds << 2) | drive, c, h, r, n, eot, gpl, dtl)


def dma_read(geom, c, h, r, eot, sectors, op=READ, drive=0, do_seek=True, extra=None):
    steps = rate(geom) + (seek(c, drive) if do_seek else [])
    steps += [("memfill", BUF, sectors * 512, "fill:ee"), ("dma", "read", BUF, sectors * 512),
              data_cmd(op, c, h, r, eot, drive), ("result",), ("dma_status",),
              ("mem", BUF, sectors * 512)]
    return steps


def dma_write(geom, c, h, r, eot, sectors, op=WRITE, drive=0, tag=0x31):
    first = lba(geom, c, h, r)
    steps = rate(geom) + seek(c, drive)
    steps += [("memfill", BUF, sectors * 512, "tag:%02x" % tag), ("dma", "write", BUF, sectors * 512),
              data_cmd(op, c, h, r, eot, drive), ("result",), ("dma_status",),
              ("image", "$IMG:%d" % drive, max(0, first - 1) * 512, (sectors + 2) * 512)]
    return steps


def pio_read(geom, c, h, r, eot, nbytes, op=READ):
    return (rate(geom) + pio_mode() + seek(c) +
            [data_cmd(op, c, h, r, eot), ("pio_read", nbytes), ("result",)])


def pio_write(geom, c, h, r, eot, nbytes, op=WRITE, tag=0x52):
    off = lba(geom, c, h, r) * 512
    return (rate(geom) + pio_mode() + seek(c) +
            [data_cmd(op, c, h, r, eot), ("pio_write", nbytes, "tag:%02x" % tag), ("result",),
             ("image", "$IMG:0", off, max(nbytes, 512) + 512)])


# --- the generator ---------------------------------------------------------------------------

def generated():
    out = []

    def add(name, machine, steps, group=None, media=()):
        out.append(dict(name=name, machine=tuple(machine), steps=steps, group=group,
                        origin="generated", media=tuple(media)))

    # 1. Every opcode's first response (MSR after the opcode, any result bytes, IRQ), on a drive
    #    with a 1.44 MB medium. The VENOM rule is covered in the CVE section.
    for op in range(256):
        add("opcode-%02x" % op, ("144",), [("cmd", op), ("result",)], group="opcodes")

    # 2. Register defaults after start-up, per machine.
    machines = {"m144": ("144",), "mempty": ("empty",), "mro": ("720:ro",), "mtwo": ("144", "empty:144"),
                "mnone": ()}
    regs = {"sra": SRA, "srb": SRB, "dor": DOR, "tdr": TDR, "msr": MSR, "fifo": FIFO, "dir": DIR}
    for mname, m in machines.items():
        for rname, port in regs.items():
            add("default-%s-%s" % (rname, mname), m, [("in", port)], group="defaults-" + mname)

    # 3. Register writes read back.
    for v in (0x00, 0x04, 0x08, 0x0C, 0x0D, 0x0E, 0x0F, 0x1C, 0x2D, 0x3E, 0x4F, 0xFC, 0xFF):
        add("dor-write-%02x" % v, ("144", "empty:144"),
            [("out", DOR, v), ("in", DOR), ("in", MSR), ("in", DIR), ("in", SRB), ("out", DOR, 0x0C),
             ("result",)] + sis() * 5, group="dor2")
    for v in (0x00, 0x01, 0x02, 0x03, 0x04, 0xFF):
        add("tdr-write-%02x" % v, ("144",), [("out", TDR, v), ("in", TDR)])  # QEMU keeps TDR over a reset
    for v in (0x00, 0x01, 0x02, 0x03):
        add("ccr-dir-%02x" % v, ("144",), [("out", CCR, v), ("in", DIR), ("in", MSR)], group="dor")
        add("dsr-dir-%02x" % v, ("144",), [("out", DSR, v), ("in", DIR), ("in", MSR)], group="dor")
    add("dor-after-cmd-drive1", ("144", "144"), [("out", DOR, 0x1C)] + seek(2, drive=1) + [("in", DOR)] +
        [("cmd", 0x04, 0x01), ("result",), ("in", DOR), ("out", DOR, 0x1C), ("in", DOR)])
    add("access-16-32bit", ("144",),
        [("raw", "inw 0x3f4"), ("raw", "inl 0x3f4"), ("raw", "outw 0x3f4 0x1000"), ("result",),
         ("raw", "inw 0x3f2")])

    # 4. Reset and polling: DOR and DSR resets, SIS counts, a reset in the middle of a command.
    add("reset-dor-poll", ("144",), preamble() + sis())
    add("reset-dsr-poll", ("144",), [("out", DSR, 0x80), ("in", MSR)] + sis() * 5)
    add("reset-dor-held-msr", ("144",), [("out", DOR, 0x08), ("in", MSR), ("in", DOR)] + sis())
    add("reset-dor-held-fifo", ("144",),
        [("out", DOR, 0x08), ("cmd", 0x10), ("out", DOR, 0x0C), ("result",)] + sis() * 4 + [("cmd", 0x10), ("result",)])
    add("reset-mid-params", ("144",), [("cmd", 0x0F, 0x00), ("out", DOR, 0x08), ("out", DOR, 0x0C)] + sis() * 4 + seek(3))
    add("reset-mid-result", ("144",), [("cmd", 0x10), ("out", DSR, 0x80)] + sis() * 4 + [("cmd", 0x10), ("result",)])
    add("reset-poll-cancel-by-cmd", ("144",), [("out", DOR, 0x08), ("out", DOR, 0x0C), ("cmd", 0x10), ("result",)] + sis())
    add("reset-poll-first-sis-lowers", ("144",), [("out", DOR, 0x08), ("out", DOR, 0x0C)] + sis() + [("cmd", 0x10), ("result",)] + sis())
    add("reset-keeps-pcn", ("144",), seek(10) + preamble() + [("cmd", 0x04, 0x00), ("result",)] + seek(10))
    add("reset-sis-after-seek", ("144",), [("cmd", 0x0F, 0x00, 0x05), ("out", DOR, 0x08), ("out", DOR, 0x0C)] + sis() * 5)
    add("system-reset-state", ("144",), seek(5) + [("reset",), ("in", DOR), ("in", MSR), ("in", DIR)] + sis())

    # 5. Register commands with their parameters.
    add("version", ("144",), [("cmd", 0x10), ("result",)], group="regcmd")
    add("lock-unlock", ("144",), [("cmd", 0x94), ("result",), ("cmd", 0x14), ("result",)], group="regcmd")
    for drv in range(4):
        for head in (0, 1):
            for mname, m in (("m144", ("144",)), ("mempty", ("empty",)), ("mro", ("720:ro",))):
                add("sense-drive-d%d-h%d-%s" % (drv, head, mname), m,
                    [("cmd", 0x04, (head << 2) | drv), ("result",)], group="sds-" + mname)
    add("sense-drive-after-seek", ("144",), seek(7) + [("cmd", 0x04, 0x00), ("result",)] + recal() + [("cmd", 0x04, 0x04), ("result",)])
    add("sis-nothing-pending", ("144",), sis() * 2, group="regcmd")
    for srt in (0x00, 0xAF, 0xDF, 0xFF):
        for hlt in (0x00, 0x02, 0xFE):
            add("specify-%02x-%02x" % (srt, hlt), ("144",), specify(0, srt, hlt) + [("cmd", 0x10), ("result",)] + seek(2))
    for b3 in (0x00, 0x10, 0x20, 0x40, 0x57, 0x7F):
        add("configure-%02x" % b3, ("144",), [("cmd", 0x13, 0x00, b3, 0x00), ("result",), ("cmd", 0x10), ("result",)] + seek(1))
    for pm in (0x00, 0x03, 0x80, 0x84, 0xBC, 0xFF):
        add("perpendicular-%02x" % pm, ("144",), [("cmd", 0x12, pm), ("result",), ("cmd", 0x10), ("result",)])

    # 6. Seeks: absolute to many cylinders, relative in both directions, recalibrate; two drives.
    for c in (0, 1, 2, 39, 40, 78, 79, 80, 83, 127, 255):
        add("seek-%d" % c, ("144",), [("cmd", 0x0F, 0x00, c), ("sis",)] + [("cmd", 0x04, 0x00), ("result",), ("in", DIR)])
    add("seek-head1", ("144",), seek(9, head=1) + [("cmd", 0x04, 0x04), ("result",)])
    add("seek-drive1", ("144", "144"), seek(12, drive=1) + seek(3, drive=0) + [("cmd", 0x04, 0x01), ("result",)])
    add("seek-two-pending", ("144", "144"), [("cmd", 0x0F, 0x00, 0x05), ("cmd", 0x0F, 0x01, 0x06)] + sis() * 3)
    add("seek-empty-drive", ("empty",), seek(5) + [("cmd", 0x04, 0x00), ("result",)])
    add("seek-absent-drive", ("144",), seek(5, drive=2) + [("cmd", 0x04, 0x02), ("result",)])
    for start, steps_, d in ((0, 5, "in"), (10, 3, "out"), (10, 10, "out"), (3, 10, "out"), (70, 20, "in"), (0, 0, "in")):
        op = 0xCF if d == "in" else 0x8F
        add("relseek-%s-%d-from-%d" % (d, steps_, start), ("144",),
            seek(start) + [("cmd", op, 0x00, steps_), ("sis",), ("cmd", 0x04, 0x00), ("result",)])
    add("recal-from-40", ("144",), seek(40) + recal() + [("cmd", 0x04, 0x00), ("result",)])
    add("recal-absent", ("144",), recal(3))

    # 7. Data commands x parameter variants (valid and invalid), DMA, 1.44 MB medium at C0.
    cmds = {"read": READ, "read-mt": READ_MT, "read-sk": 0x66, "read-fm": 0x06, "read-deleted": READ_DEL,
            "read-track": READ_TRACK, "verify": VERIFY, "scan-eq": SCAN_EQ, "scan-le": SCAN_LE,
            "scan-he": SCAN_HE, "write": WRITE, "write-deleted": WRITE_DEL}
    variants = {  # name: (c, h, r, n, eot, hds, drive); EOT past R so that TC ends the transfer (Δ20)
        "valid": (0, 0, 1, 2, 18, 0, 0), "r0": (0, 0, 0, 2, 18, 0, 0), "r19": (0, 0, 19, 2, 19, 0, 0),
        "n0": (0, 0, 1, 0, 18, 0, 0), "n1": (0, 0, 1, 1, 18, 0, 0), "n3": (0, 0, 1, 3, 18, 0, 0),
        "n7": (0, 0, 1, 7, 18, 0, 0), "eot-lt-r": (0, 0, 5, 2, 3, 0, 0), "eot-eq-r": (0, 0, 4, 2, 4, 0, 0),
        "eot-ff": (0, 0, 18, 2, 0xFF, 0, 0), "h-mismatch": (0, 1, 1, 2, 18, 0, 0),
        "c-mismatch": (3, 0, 1, 2, 18, 0, 0), "c-beyond": (85, 0, 1, 2, 18, 0, 0),
        "drive1-absent": (0, 0, 1, 2, 18, 0, 1), "head1": (0, 1, 1, 2, 18, 1, 0),
    }
    for cname, op in cmds.items():
        writes = cname.startswith("write")
        scan = cname.startswith("scan")
        for vname, (c, h, r, n, eot, hds, drive) in variants.items():
            mode = "write" if (writes or scan) else ("verify" if op == VERIFY else "read")
            steps = rate("144") + recal()
            if scan:
                steps.append(("memfill", BUF, 512, "sector:18:0"))
            elif writes:
                steps.append(("memfill", BUF, 512, "tag:77"))
            else:
                steps.append(("memfill", BUF, 512, "fill:ee"))
            last = 0x01 if scan else (0x80 if n == 0 else 0xFF)  # SCAN: STP=1; N=0: DTL=128
            steps += [("dma", mode, BUF, 512), ("cmd", op, (hds << 2) | drive, c, h, r, n, eot, 0x1B, last),
                      ("result",), ("dma_status",)]
            if not writes:
                steps.append(("mem", BUF, 512))
            else:
                steps.append(("image", "$IMG:0", 0, 1024))
            add("param-%s-%s" % (cname, vname), ("144",), steps,
                group=None if writes else "param-" + cname)

    # 8. DMA reads and writes on every geometry: single sectors at several places, multi-sector,
    #    multi-track, TC before/at EOT, EOT before TC.
    for g, (cyls, heads, spt, rt, size) in GEOMS.items():
        for (c, h, r) in ((0, 0, 1), (0, 1, 1), (1, 0, 2), (cyls // 2, 1, spt // 2), (cyls - 1, 1, spt)):
            add("dma-read-%s-c%d-h%d-r%d" % (g, c, h, r), (g,),
                dma_read(g, c, h, r, spt, 1, do_seek=True), group="dmaread-" + g)
        add("dma-read-%s-multi" % g, (g,), dma_read(g, 2, 0, 1, spt, 4), group="dmaread-" + g)
        add("dma-read-%s-mt-cross" % g, (g,), dma_read(g, 3, 0, spt - 1, spt, 3, op=READ_MT), group="dmaread-" + g)
        add("dma-read-%s-tc-at-eot" % g, (g,), dma_read(g, 4, 0, spt - 1, spt, 2), group="dmaread-" + g)
        add("dma-read-%s-tc-at-eot-mt-h1" % g, (g,), dma_read(g, 4, 1, spt - 1, spt, 2, op=READ_MT), group="dmaread-" + g)
        add("dma-read-%s-eot-before-tc" % g, (g,), dma_read(g, 5, 0, 1, 2, 4), group="dmaread-" + g)
        add("dma-read-%s-whole-cyl-mt" % g, (g,), dma_read(g, 6, 0, 1, spt, 2 * spt, op=READ_MT), group="dmaread-" + g)
        add("dma-write-%s-c0-r1" % g, (g,), dma_write(g, 0, 0, 1, spt, 1))
        add("dma-write-%s-multi" % g, (g,), dma_write(g, 7, 1, 2, spt, 3, tag=0x44))
        add("dma-write-%s-mt-cross" % g, (g,), dma_write(g, 8, 0, spt, spt, 2, op=WRITE_MT, tag=0x55))
        add("dma-write-%s-then-read" % g, (g,),
            dma_write(g, 9, 0, 3, spt, 1, tag=0x66) + [("memfill", BUF, 512, "fill:00"), ("dma", "read", BUF, 512),
                                                       data_cmd(READ, 9, 0, 3, spt), ("result",), ("mem", BUF, 512)])
        # data rate: every CCR value against this medium
        for r_ in range(4):
            add("rate-%s-ccr%d" % (g, r_), (g,),
                rate(r_) + recal() + [("dma", "read", BUF, 512), data_cmd(READ, 0, 0, 1, spt), ("result",),
                                      ("dma_status",)], group="rate-" + g)
            add("rate-%s-dsr%d-write" % (g, r_), (g,),
                [("out", DSR, r_)] + recal() + [("memfill", BUF, 512, "fill:99"), ("dma", "write", BUF, 512),
                                                data_cmd(WRITE, 0, 0, 1, spt), ("result",),
                                                ("image", "$IMG:0", 0, 512)])
        # PIO (Δ2 portable recipe)
        add("pio-read-%s-one" % g, (g,), pio_read(g, 1, 0, 1, 1, 512), group="pio-" + g)
        add("pio-read-%s-two-mt" % g, (g,), pio_read(g, 2, 0, spt, spt, 1024, op=READ_MT), group="pio-" + g)
        add("pio-read-%s-stop-early" % g, (g,), pio_read(g, 1, 0, 3, 4, 100) + [("in", MSR)], group="pio-" + g)
        add("pio-write-%s-one" % g, (g,), pio_write(g, 3, 1, 4, 4, 512))
        # masked DMA channel: execution waits with MSR=0x10 until unmasked
        add("dma-masked-%s" % g, (g,),
            rate(g) + seek(1) + [("memfill", BUF, 512, "fill:ee"), ("dma", "read", BUF, 512, False),
                                 data_cmd(READ, 1, 0, 1, spt), ("in", MSR), ("in", MSR), ("dma_unmask",),
                                 ("result",), ("mem", BUF, 512)], group="dmaread-" + g)

    # 9. READ ID: sequences on each geometry, FM, wrong rate, empty and absent drives.
    for g, (cyls, heads, spt, rt, size) in GEOMS.items():
        steps = rate(g) + seek(4)
        for _ in range(3):
            steps += [("cmd", READ_ID, 0x00), ("wait",), ("result",)]
        steps += [("cmd", READ_ID, 0x04), ("wait",), ("result",)]
        add("readid-seq-%s" % g, (g,), steps)
        add("readid-wrong-rate-%s" % g, (g,), rate((rt + 1) % 4) + [("cmd", READ_ID, 0x00), ("wait",), ("result",)])
    add("readid-fm", ("144",), rate("144") + [("cmd", 0x0A, 0x00), ("wait",), ("result",)])
    add("readid-empty", ("empty",), [("cmd", READ_ID, 0x00), ("wait",), ("result",)])
    add("readid-other-drive", ("144", "empty:144"),
        [("out", DOR, 0x1C), ("cmd", READ_ID, 0x01), ("wait",), ("result",)])
    add("readid-selected-other", ("empty:144", "144"),
        [("out", DOR, 0x2D), ("cmd", READ_ID, 0x00), ("wait",), ("result",)])
    add("readid-absent", ("144",), [("cmd", READ_ID, 0x03), ("wait",), ("result",)])

    # 10. FORMAT TRACK (DMA ID list), VERIFY with EC, READ TRACK across geometries.
    for g, (cyls, heads, spt, rt, size) in GEOMS.items():
        add("format-%s-c2" % g, (g,),
            rate(g) + seek(2) + [("memfill", BUF, 4 * spt, "ids:2:0:2"), ("dma", "write", BUF, 4 * spt),
                                 ("cmd", FORMAT, 0x00, 0x02, spt, 0x54, 0xE5), ("result",), ("dma_status",),
                                 ("image", "$IMG:0", lba(g, 2, 0, 1) * 512, 1024)] +
            [("memfill", BUF, 512, "fill:00"), ("dma", "read", BUF, 512), data_cmd(READ, 2, 0, 1, spt),
             ("result",), ("mem", BUF, 512)])
        add("format-%s-bad-ids" % g, (g,),
            rate(g) + seek(2) + [("memfill", BUF, 4 * spt, "inc"), ("dma", "write", BUF, 4 * spt),
                                 ("cmd", FORMAT, 0x00, 0x02, spt, 0x54, 0xE5), ("result",),
                                 ("image", "$IMG:0", lba(g, 2, 0, 1) * 512, 1024)])
        add("verify-ec-sc3-%s" % g, (g,), rate(g) + seek(1) + [
            ("dma", "verify", BUF, 512), ("cmd", VERIFY, 0x80, 1, 0, 1, 2, spt, 0x1B, 3), ("result",)])
        add("verify-ec-past-eot-%s" % g, (g,), rate(g) + seek(1) + [
            ("dma", "verify", BUF, 512), ("cmd", VERIFY, 0x80, 1, 0, 1, 2, 3, 0x1B, 0xFF), ("result",)])
        add("verify-mt-%s" % g, (g,), rate(g) + seek(1) + [
            ("dma", "verify", BUF, 512), ("cmd", 0xD6, 0x00, 1, 0, spt - 1, 2, spt, 0x1B, 0xFF), ("result",)])
        add("read-track-%s" % g, (g,), rate(g) + seek(1) + [
            ("memfill", BUF, 1024, "fill:ee"), ("dma", "read", BUF, 1024), data_cmd(READ_TRACK, 1, 0, 1, spt),
            ("result",), ("mem", BUF, 1024)], group="dmaread-" + g)

    # 11. Write protect.
    for g in ("144", "720"):
        rt = GEOMS[g][3]
        m = (g + ":ro",)
        add("wp-%s-sense" % g, m, [("cmd", 0x04, 0x00), ("result",), ("cmd", 0x04, 0x04), ("result",)])
        add("wp-%s-dma-write" % g, m, rate(rt) + recal() + [
            ("memfill", BUF, 512, "fill:11"), ("dma", "write", BUF, 512), data_cmd(WRITE, 0, 0, 1, 1),
            ("result",), ("image", "$IMG:0", 0, 512)])
        add("wp-%s-pio-write" % g, m, rate(rt) + pio_mode() + recal() + [
            data_cmd(WRITE, 0, 0, 1, 1), ("pio_write", 512, "fill:22"), ("result",), ("image", "$IMG:0", 0, 512)])
        add("wp-%s-format" % g, m, rate(rt) + recal() + [
            ("memfill", BUF, 36, "inc"), ("dma", "write", BUF, 36), ("cmd", FORMAT, 0x00, 0x02, 9, 0x54, 0xE5),
            ("result",)])
        add("wp-%s-read-ok" % g, m, dma_read(g, 0, 0, 1, GEOMS[g][2], 1))
    return out


# --- hand-written ----------------------------------------------------------------------------

def hand():
    out = []

    def add(name, machine, steps, media=()):
        out.append(dict(name=name, machine=tuple(machine), steps=steps, group=None, origin="hand",
                        media=tuple(media)))

    one_empty = ("empty",)
    # QEMU 7.2 fdc-test cases, through port I/O as fdc-test does them.
    add("fdctest-no-media-on-start", one_empty, [("in", DIR), ("out", DOR, 0x1C), ("in", DIR)] + seek(1) + [("in", DIR)])
    add("fdctest-read-without-media", one_empty,
        [("dma", "read", 0x1000, 512), data_cmd(READ, 0, 0, 1, 1), ("result",), ("in", DIR)])
    add("fdctest-media-change", ("144",),
        [("in", DIR)] + seek(0) + [("in", DIR)] + seek(1) + [("in", DIR),
        ("qmp", {"execute": "eject", "arguments": {"id": "fd0"}}), ("in", DIR)] + seek(0) + [("in", DIR)] +
        seek(1) + [("in", DIR),
        ("qmp", {"execute": "blockdev-change-medium",
                 "arguments": {"id": "fd0", "filename": "$IMG:0", "format": "raw"}}), ("in", DIR)] +
        seek(0) + [("in", DIR)] + seek(1) + [("in", DIR), ("media", "fd0")])
    add("fdctest-sense-interrupt", ("144",),
        sis() + seek(0) + [("cmd", 0x0F, 0x00, 0x02), ("in", MSR), ("sis",), ("sis",)])
    add("fdctest-relative-seek", ("144",),
        seek(0) + [("cmd", 0xCF, 0x00, 1), ("sis",), ("cmd", 0xCF, 0x00, 5), ("sis",),
                   ("cmd", 0x8F, 0x00, 6), ("sis",)])
    add("fdctest-read-id", ("144",),
        rate("144") + seek(0) + [("cmd", READ_ID, 0x00), ("in", MSR), ("wait",), ("result",)] +
        seek(8) + [("cmd", READ_ID, 0x04), ("wait",), ("result",)])
    for n in (1, 18, 19):
        # read_no_dma_N: PIO read of sector N of C0 with MT, EOT as fdc-test (with the Δ2 recipe)
        add("fdctest-read-no-dma-%d" % n, ("144",),
            rate("144") + pio_mode() + seek(0) + [
                data_cmd(0xE6 if n != 19 else 0xC6, 0, 0, n, 18 if n != 1 else 1), ("pio_read", 512 * 40), ("result",)])
    add("fdctest-verify", one_empty,
        [("dma", "verify", 0x1000, 512), ("cmd", VERIFY, 0x00, 0, 0, 1, 2, 1, 0x1B, 0xFF), ("result",)])
    add("fdctest-cmos", ("144",), [("out", 0x70, 0x10), ("in", 0x71), ("out", 0x70, 0x14), ("inm", 0x71, 0xC1)])
    add("cmos-two-drives", ("144", "720"), [("out", 0x70, 0x10), ("in", 0x71), ("out", 0x70, 0x14), ("inm", 0x71, 0xC1)])
    add("cmos-none", (), [("out", 0x70, 0x10), ("in", 0x71), ("out", 0x70, 0x14), ("inm", 0x71, 0xC1)])
    add("fdctest-cmos-empty-auto", one_empty, [("out", 0x70, 0x10), ("in", 0x71)])

    # Media changes over QMP (blockdev-change-medium / eject exist on both).
    eject = lambda **a: ("qmp", {"execute": "eject", "arguments": a})  # noqa: E731
    change = lambda **a: ("qmp", {"execute": "blockdev-change-medium", "arguments": dict(a, format="raw")})  # noqa: E731
    add("qmp-eject-then-read", ("144",),
        [eject(id="fd0"), ("media", "fd0"), ("in", DIR)] + seek(1) + [("in", DIR)] + rate("144") +
        [("dma", "read", BUF, 512), data_cmd(READ, 1, 0, 1, 1), ("result",)])
    add("qmp-eject-empty", one_empty, [eject(id="fd0"), eject(id="fd0"), ("media", "fd0")])
    add("qmp-eject-errors", ("144",),
        [eject(id="nope"), eject(device="nope"), ("qmp", {"execute": "eject"}), eject(id="fd0", device="d0"),
         ("media", "fd0")])
    add("qmp-change-rw-then-read", ("144",),
        [eject(id="fd0"), change(id="fd0", filename="$IMG:x720", **{"read-only-mode": "read-write"}),
         ("media", "fd0"), ("in", DIR)] + seek(1) + [("in", DIR)] +
        dma_read("720", 1, 0, 1, 9, 1, do_seek=False), media=("x720",))
    add("qmp-change-no-eject", ("144",),
        [change(id="fd0", filename="$IMG:x144"), ("media", "fd0"), ("in", DIR)] + seek(2) + [("in", DIR)] +
        dma_read("144", 2, 0, 1, 18, 1, do_seek=False), media=("x144",))
    add("qmp-change-ro", ("144",),
        [change(id="fd0", filename="$IMG:x144", **{"read-only-mode": "read-only"}), ("media", "fd0"),
         ("cmd", 0x04, 0x00), ("result",)] + seek(1) +
        [("memfill", BUF, 512, "fill:33"), ("dma", "write", BUF, 512), data_cmd(WRITE, 1, 0, 1, 1), ("result",)],
        media=("x144",))
    add("qmp-change-into-empty-retain", ("empty:144",),
        [change(id="fd0", filename="$IMG:x144"), ("media", "fd0"), ("cmd", 0x04, 0x00), ("result",)],
        media=("x144",))
    add("qmp-change-into-empty-rw", ("empty:144",),
        [change(id="fd0", filename="$IMG:x144", **{"read-only-mode": "read-write"}), ("media", "fd0"),
         ("cmd", 0x04, 0x00), ("result",)] + seek(1) +
        [("memfill", BUF, 512, "fill:34"), ("dma", "write", BUF, 512), data_cmd(WRITE, 1, 0, 1, 18), ("result",),
         ("image", "$IMG:x144", lba("144", 1, 0, 1) * 512, 512)], media=("x144",))
    add("qmp-change-missing-file", ("144",),
        [change(id="fd0", filename="$IMG:x144.missing"), ("media", "fd0")], media=("x144",))
    add("qmp-change-bad-id", ("144",), [change(id="nope", filename="$IMG:x144")], media=("x144",))
    add("qmp-change-by-device", ("144",),
        [eject(device="d0"), ("media", "fd0"), change(device="d0", filename="$IMG:x144"), ("media", "fd0")],
        media=("x144",))
    add("qmp-change-during-pio-read", ("144",),
        rate("144") + pio_mode() + seek(0) + [data_cmd(READ, 0, 0, 1, 2), ("pio_read", 100),
                                               eject(id="fd0"), ("in", MSR), ("pio_read", 1024), ("result",)])
    add("qmp-dskchg-two-drives", ("144", "empty:144"),
        [("out", DOR, 0x1C), ("in", DIR), ("out", DOR, 0x1D), ("in", DIR)] + seek(1, drive=0) +
        [("out", DOR, 0x1C), ("in", DIR), ("out", DOR, 0x1D), ("in", DIR),
         eject(id="fd0"), ("out", DOR, 0x1C), ("in", DIR)])
    add("dskchg-recal-at-0-no-step", ("144",),
        [("in", DIR)] + recal() + [("in", DIR)] + seek(0) + [("in", DIR)] + seek(1) + [("in", DIR)] +
        recal() + [("in", DIR)])
    add("dskchg-motor-off", ("144",), [("out", DOR, 0x0C), ("in", DIR)] + seek(3) + [("in", DIR), ("out", DOR, 0x1C), ("in", DIR)])
    add("dskchg-after-controller-reset", ("144",), seek(4) + [("in", DIR)] + preamble() + [("in", DIR)])

    add("readid-wrong-rate-after-seek", ("144",), rate(2) + seek(5) + [("cmd", READ_ID, 0x04), ("wait",), ("result",)])
    add("sis-after-read", ("144",), dma_read("144", 0, 0, 1, 18, 1) + sis())
    add("dskchg-eject-insert-step", ("144",),
        seek(1) + [("in", DIR), eject(id="fd0"), ("in", DIR),
                   change(id="fd0", filename="$IMG:x720", **{"read-only-mode": "read-write"}), ("in", DIR)] +
        seek(1) + [("in", DIR)] + seek(2) + [("in", DIR)], media=("x720",))
    add("read-after-write-two-drives", ("144", "720"),
        dma_write("144", 1, 0, 1, 18, 1, tag=0x21) + dma_read("720", 1, 0, 1, 9, 1, drive=1) +
        dma_read("144", 1, 0, 1, 18, 1))

    # FDC CVE reproducers (docs/security.md#fdc-cves) – each ends by checking the controller
    # still works.
    alive = [("out", DOR, 0x08), ("out", DOR, 0x0C)] + sis() * 4 + [("cmd", 0x10), ("result",), ("in", MSR)]
    for op in (0x0A, 0x8E, 0x46, 0x13, 0x4E):
        add("cve-2015-3456-venom-%02x" % op, ("144",), [("cmd", op), ("flood", 0x00, 10000)] + alive)
    add("cve-2015-3456-venom-dsr-interleave", ("144",), [("cmd", 0x8E), ("flood", 0x80, 2000, True)] + alive)
    add("cve-2021-20196", ("144",),
        [("out", DSR, 0), ("cmd", 0x05, 0x00, 0x00), ("out", DSR, 0), ("cmd", 0x00, 0x00), ("out", DOR, 0x04),
         ("out", DSR, 0), ("cmd", 0x00), ("out", DSR, 0), ("cmd", 0x00, 0x00, 0x01), ("out", DOR, 0x05),
         ("cmd", 0x00), ("in", MSR)] + alive)
    add("cve-2021-20196-pio-switch", ("144",),
        rate("144") + pio_mode() + seek(0) + [data_cmd(WRITE, 0, 0, 1, 1), ("pio_write", 10, "fill:aa"),
                                               ("out", DOR, 0x0D), ("pio_write", 600, "fill:bb"), ("in", MSR)] + alive)
    add("cve-2021-3507", ("144",),
        [("out", 0x09, 0x06), ("out", 0x0A, 0x02), ("out", 0x0B, 0x0A), ("out", 0x0C, 0x00)] +
        [x for b in (0x16, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00) for x in (("out", DSR, 0), ("cmd", b))] +
        [("in", MSR), ("result",)] + alive)
    for n, eot in ((2, 0), (0, 0), (7, 1)):
        add("cve-2021-3507-read-n%d-eot%d" % (n, eot), ("144",),
            rate("144") + [("dma", "read", BUF, 512), ("cmd", READ, 0x00, 0, 0, 3, n, eot, 0x1B, 0x00),
                           ("result",), ("dma_status",)] + alive)
    add("issue-3800-format-sc-beyond", ("720",),
        rate("720") + recal() + [("memfill", BUF, 4 * 40, "inc"), ("dma", "write", BUF, 4 * 40),
                                 ("cmd", FORMAT, 0x00, 0x02, 40, 0x54, 0xE5), ("result",)] + alive +
        rate("720") + [("dma", "read", BUF, 512), data_cmd(READ, 0, 0, 9, 9), ("result",)])
    return out


def all_scenarios():
    s = generated() + hand()
    names = [x["name"] for x in s]
    dup = {n for n in names if names.count(n) > 1}
    assert not dup, dup
    return s
