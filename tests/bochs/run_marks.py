#!/usr/bin/env python3
"""Deleted marks and CRC errors reaching a guest in Bochs 2.7 through fdplug (docs/bochs.md).

marks.asm boots from a 1.44 MB disk (run_boot.py's data) and reads sectors of C2/H1 through the
controller's ports in PIO, printing each command's result bytes and the sum of the bytes moved.
The disk is either raw ("raw") or its ImageDisk twin ("marks", run_boot.marked_imd), whose C2/H1
also holds R=19 with a deleted data mark and R=20 with a data CRC error between R=9 and R=10.
What each probe must give follows from docs/hardware/82077aa.md §6.1 (marks, CRC, search), §6.5
(the C/H/R/N of a result) and §6.6 (how each command ends; PIO has no TC, so a read that reaches
EOT ends with ST1 EN), and is written out in expected() below. Then a FORMAT of C3/H1 with five
interleaved 1024-byte sectors (§6.4: a raw image refuses it with EN; the IMD twin takes it) and
a READ DATA of its R=3 with N = 3. Variants: "fdplug" (raw, timing
accurate), "fdplug-imd-marks" and "fdplug-fast-imd-marks" (the twin, accurate and fast). Also
checked: the twin's file still holds both sectors with their flags after Bochs exits, and C3/H1
as the five 1024-byte sectors in the order formatted; the raw image is unchanged.
"""
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_boot  # noqa: E402  (the disk, its IMD twin, the bochsrc, the environment, unshare)

C, H = run_boot.MARKS_TRACK
LINE = re.compile(r"^(FDMARK|END|SEEK [0-9A-F]{2} [0-9A-F]{2}|(MARK|FMT)( [0-9A-F]{2,4})+)$")
FORMAT_C = C + 1                      # marks.asm's FORMAT_C
FORMAT_RS = [1, 4, 2, 5, 3]           # the IDs' R in the order sent (interleave 2), N = 3
FORMAT_FILL = 0xF6
READ_DATA, READ_DELETED = 0x46, 0x4C  # MFM, MT = 0, SK = 0
ST0_HEAD = H << 2                     # ST0's head bit for head 1, drive 0
IC_OK, IC_ABNORMAL = 0x00, 0x40
EN, DE, ND = 0x80, 0x20, 0x04         # ST1
CM, DD = 0x40, 0x20                   # ST2


def mark_line(op, r, st, chrn, data):
    """A MARK line as marks.asm prints it."""
    fields = [f"{op:02X}", f"{r:02X}"] + [f"{b:02X}" for b in st + chrn] + \
        [f"{len(data):04X}", f"{sum(data) & 0xFFFF:04X}"]
    return "MARK " + " ".join(fields)


def fmt_line(st, chrn):
    """The FMT line: FORMAT's seven result bytes."""
    return "FMT " + " ".join(f"{b:02X}" for b in st + chrn)


def expected(medium, image_bytes):
    """The MARK lines for a medium ("raw" or "marks")."""
    track = (C * 2 + H) * run_boot.TRACK_BYTES
    sector9 = image_bytes[track + 8 * 512:track + 9 * 512]
    fills = {r: bytes([fill]) * 512 for r, _, fill in run_boot.MARKS}
    # R=9 is an ordinary sector on both: moved whole, then EOT without TC ends with EN and the
    # result names the last sector transferred (§6.5).
    lines = [f"SEEK 20 {C:02X}", f"SEEK 20 {FORMAT_C:02X}",
             mark_line(READ_DATA, 9, [IC_ABNORMAL | ST0_HEAD, EN, 0], [C, H, 9, 2], sector9)]
    if medium == "raw":
        # No ID with R=19 or 20 on the track: ND at the second index pulse, nothing moved.
        for op, r in ((READ_DATA, 19), (READ_DELETED, 19), (READ_DATA, 20)):
            lines.append(mark_line(op, r, [IC_ABNORMAL | ST0_HEAD, ND, 0], [C, H, r, 2], b""))
        # FORMAT with N = 3 ends before the index with EN (§6.4): no ID taken, so C/H are the
        # head's, R 0 and N the command's. The track keeps its 512-byte sectors: ND for N = 3.
        lines.append(fmt_line([IC_ABNORMAL | ST0_HEAD, EN, 0], [FORMAT_C, H, 0, 3]))
        lines.append(mark_line(READ_DATA, 3, [IC_ABNORMAL | ST0_HEAD, ND, 0], [FORMAT_C, H, 3, 3], b""))
        return lines
    # READ DATA meeting the deleted mark with SK = 0: the sector moves, ST2 CM, a normal end
    # after it (IC = 00) whose C/H/R/N name the next sector: EOT with MT = 0 gives C + 1, R = 1.
    lines.append(mark_line(READ_DATA, 19, [IC_OK | ST0_HEAD, 0, CM], [C + 1, H, 1, 2], fills[19]))
    # READ DELETED DATA of the same sector is an ordinary read of it: EN at EOT.
    lines.append(mark_line(READ_DELETED, 19, [IC_ABNORMAL | ST0_HEAD, EN, 0], [C, H, 19, 2], fills[19]))
    # The data CRC error: the data moves, then ST1 DE + ST2 DD naming that sector.
    lines.append(mark_line(READ_DATA, 20, [IC_ABNORMAL | ST0_HEAD, DE, DD], [C, H, 20, 2], fills[20]))
    # FORMAT lays the five 1024-byte sectors down (IC = 00, the last ID sent), and R=3 reads
    # back 1024 bytes of the fill, ending with EN at EOT.
    lines.append(fmt_line([IC_OK | ST0_HEAD, 0, 0], [FORMAT_C, H, FORMAT_RS[-1], 3]))
    lines.append(mark_line(READ_DATA, 3, [IC_ABNORMAL | ST0_HEAD, EN, 0], [FORMAT_C, H, 3, 3],
                           bytes([FORMAT_FILL]) * 1024))
    return lines


def run_once(args, variant, index, image_bytes, prefix):
    rundir = os.path.join(args.workdir, f"marks-{variant}-{index}")
    shutil.rmtree(rundir, ignore_errors=True)
    os.makedirs(rundir)
    marked = variant.endswith("-imd-marks")
    image = os.path.join(rundir, "fd.imd" if marked else "fd.img")
    content = run_boot.marked_imd(image_bytes) if marked else image_bytes
    with open(image, "wb") as fh:
        fh.write(content)
    log = os.path.join(rundir, "bochs.log")
    timing = "fast" if variant.startswith("fdplug-fast") else "accurate"
    out, timed_out, wall = run_boot.run_bochs(args, rundir, run_boot.bochsrc(image, log, "seabios"),
                                              run_boot.bochs_env(args.plugin, timing), prefix)
    lines = [l.strip() for l in out.decode("latin-1").splitlines() if LINE.match(l.strip())]
    problems = ["timed out (Bochs killed)"] if timed_out else []
    for l in expected("marks" if marked else "raw", image_bytes):
        if l not in lines:
            got = [g for g in lines if g.startswith(l[:10] if l.startswith("MARK") else l[:4])]
            problems.append(f"expected '{l}', got {got[:1] or 'no such line'}")
    if "END" not in lines:
        problems.append("no 'END': the boot sector did not finish")
    after = open(image, "rb").read()
    if marked:
        track = run_boot.imd_track_records(after, (C, H))
        want = run_boot.marked_records()
        if track is None or [run_boot.record_kind(r) for r in track[1]] != want:
            problems.append(f"C{C}/H{H} in the IMD file after the run is {track}, expected {want}")
        track = run_boot.imd_track_records(after, (FORMAT_C, H))
        want = (3, [(r, run_boot.IMD_DATA) for r in FORMAT_RS])
        if track is None or (track[0], [run_boot.record_kind(r) for r in track[1]]) != want:
            problems.append(f"C{FORMAT_C}/H{H} in the IMD file after the run is {track}, expected {want}")
    elif after != content:
        problems.append("the raw image changed")
    logtext = open(log, encoding="latin-1").read() if os.path.exists(log) else ""
    problem = run_boot.plugin_problem(logtext, True, timing)
    if problem:
        problems.append(problem)
    return wall, lines, problems, rundir


def main():
    ap = run_boot.common_args(__doc__.splitlines()[0], "marks.asm")
    ap.add_argument("--timeout", type=float, default=60, help="seconds before a Bochs run is killed")
    ap.add_argument("--variants", default="fdplug,fdplug-imd-marks,fdplug-fast-imd-marks")
    args = ap.parse_args()
    boot = run_boot.assemble(args, "marks.bin")
    if boot is None:
        return 1
    image_bytes = run_boot.make_image(boot)
    prefix, how = run_boot.isolation()
    print(f"mark probe of C{C}/H{H}; network: {how}")
    failures = 0
    for variant in args.variants.split(","):
        wall, lines, problems, rundir = run_once(args, variant, 0, image_bytes, prefix)
        print(f"{'ok  ' if not problems else 'FAIL'} {variant}: {wall:.2f} s wall")
        for l in lines:
            print(f"       {l}")
        for p in problems:
            print(f"       {p} (see {rundir})")
        failures += bool(problems)
    print(f"mark probe: {len(args.variants.split(','))} Bochs runs, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
