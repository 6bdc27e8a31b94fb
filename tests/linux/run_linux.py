#!/usr/bin/env python3
"""Debian 12's Linux kernel and its floppy driver as fdplug's client in Bochs 2.7 (docs/linux.md).

For each variant, one Bochs boot: a small hard disk (FAT, SYSLINUX from Debian's syslinux
package, installed through mtools, so no mount) holds Debian's own vmlinuz and an initramfs built
here (cpio newc: busybox-static, floppy.ko, an /init script, the pattern to write). Drive A holds
a 1.44 MB image of pseudo-random data. /init loads floppy.ko, runs the checks and prints one
"FDLINUX ..." line per result on the kernel's console, Bochs' COM1 (a file), then powers off
through ACPI. The checks:
  ident  the driver names the controller a post-1991 82077 and drive 0 a 1.44M drive, and no
         other floppy line (error, timeout, reset) is in the kernel log after the whole run;
  read   a whole-disk read of /dev/fd0 (DMA, through the page cache) has the image's SHA-256;
  write  8 tracks (C40-C43) written with dd conv=fsync read back (O_DIRECT, after the driver's
         track buffer moved to track 0) with the pattern's SHA-256, and after Bochs exits those
         tracks of the image file hold the pattern and every other byte is unchanged;
and in the DMA variants, on drive B (a second 1.44 MB drive):
  format every track formatted through FDFMTBEG/FDFMTTRK/FDFMTEND (fdformat.c, built here with
         gcc -static) reads back as the fill byte, and the image file holds it after the run;
  fat    mformat + mcopy of the pattern onto the formatted disk and back in the guest (mtools and
         its glibc in the initramfs), and the host's mtools find the file in the image file.
and, in fdplug's DMA variants, once the raw commands are done with the driver unloaded:
  pio-*  floppy.ko loaded again with floppy=nodma (pseudo-DMA): identified again with no other
         floppy line, drive A read whole and 8 more tracks (C60-C63) written and read back.
Variants: fdplug (FDPLUG_TIMING=accurate), fdplug-fast (FDPLUG_TIMING=fast), stock (Bochs' own
floppy plugin); a "-pio" suffix loads the driver with floppy=nodma from the start (drive A's read
and write only), "-media" is the boot with other drives and media. Each boot is killed after
--timeout seconds. Exits 77 (skipped) when the kernel cache, busybox-static, mtools, syslinux,
gcc and libc.a or network isolation is missing.
"""
import argparse
import hashlib
import os
import re
import json
import resource
import shutil
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bochs"))
import run_boot  # noqa: E402  (Bochs' paths, the image generator, the plugin environment, unshare)

CACHE = os.environ.get("FDPLUG_LINUX_CACHE", "/var/cache/fdplug/linux")
BUSYBOX = "/bin/busybox"  # busybox-static: the initramfs has no libc
TOOLS = {"mformat": "mtools", "mcopy": "mtools", "mdir": "mtools", "syslinux": "syslinux", "gcc": "gcc"}
LIBC_A = "/usr/lib/x86_64-linux-gnu/libc.a"  # libc6-dev: fdformat is linked statically
MTOOLS = ("mformat", "mcopy")  # in the initramfs, as links to the mtools binary
# mtools converts file names through iconv to codepage 850: glibc loads this module for it.
GCONV_MODULE = "/usr/lib/x86_64-linux-gnu/gconv/IBM850.so"
GCONV_CACHE = "/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache"
FILL_BYTE = 0xF6  # what the driver's FORMAT writes into every sector (FD_FILL_BYTE)
IMAGE_SEED = 0xF10BB1E5    # = run_boot.SEED: the floppy's data
PATTERN_SEED = 0x0DDBA11   # the written tracks' data
IMAGE_B_SEED = 0x5EEDB0B   # drive B's data before its FORMAT
WP_SEED = 0x0B0E5EED       # the write-protected disk's data
WP_LABEL = "fdplug tests/linux write-protected"  # its sector 0's first line, which the guest polls for
# The media of the QMP swaps and the media boot: {name: (label, seed, bytes, track bytes)}.
MEDIA = {"720K": ("fdplug tests/linux 720K", 0x720720, 737280, 9 * 512),
         "1.2M": ("fdplug tests/linux 1.2M", 0x120120, 1228800, 15 * 512),
         "2.88M": ("fdplug tests/linux 2.88M", 0x288288, 2949120, 36 * 512),
         "360K": ("fdplug tests/linux 360K", 0x360360, 368640, 9 * 512)}
W2880, W360 = 100, 40  # the first written tracks, C50/H0 and C20/H0 (the 1.2 MB drive steps to C40 for it)
QMP_ANSWER = 1.0           # seconds: a floppy-* command must be answered sooner (QMP answers at once)
FDFORMAT_C = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fdformat.c")
FDCRAW_C = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fdcraw.c")
# What fdcraw.c's sequence must get back, from docs/hardware/82077aa.md: {check: [(step, want)]}.
# want: the result bytes in hex, "-" for none; "." matches any byte (a head position or sector
# the driver left behind, an ID that depends on the rotation).
ANY_R = "(0[1-9A-F]|1[0-2])"  # READ ID's R on an 18-sector track: whichever ID came first
RAW = {
    # §8: a software reset polls the four drives (ST0 C0-C3), then SENSE INTERRUPT says 0x80.
    "raw-reset": [("reset", "C0,C1,C2,C3,80"), ("reset_locked", "C0,C1,C2,C3,80"),
                  ("reset_unlocked", "C0,C1,C2,C3,80")],
    "raw-version": [("version", "90")],  # §5: 0x90, an 82077AA (the 765A answers 0x80)
    # §5.2 bytes 5-10 after SPECIFY DF 02, CONFIGURE 00 4A 05, PERPENDICULAR 84 and LOCK:
    # SRT/HUT, HLT/ND, (SC/EOT), LOCK|D0, EIS|FIFOTHR=A, PRETRK 5.
    "raw-dumpreg": [("specify", "-"), ("configure", "-"), ("dumpreg", "..,..,..,..,DF,02,..,84,4A,05")],
    # §8: a software reset with LOCK = 1 keeps EFIFO, FIFOTHR and PRETRK, clears EIS and POLL;
    # with LOCK = 0 it restores the CONFIGURE defaults (0x20, PRETRK 0). LOCK answers 0x10,
    # UNLOCK 0x00 (§5).
    "raw-lock": [("lock", "10"), ("dumpreg_locked", "..,..,..,..,DF,02,..,84,0A,05"), ("unlock", "00"),
                 ("dumpreg_unlocked", "..,..,..,..,DF,02,..,04,20,00")],
    # §5.3: D0 set with OW (byte 8 bit 2); GAP and WGATE without OW leave D0; a software reset
    # clears GAP and WGATE and keeps D0; OW with all D clear clears it.
    "raw-perpendicular": [("perpendicular", "-"), ("perpendicular_gap", "-"),
                          ("dumpreg_gap", "..,..,..,..,DF,02,..,07,0A,05"), ("perpendicular_off", "-"),
                          ("dumpreg_off", "..,..,..,..,DF,02,..,00,20,00")],
    # §4.4: ST3 = 0x28 | WP | T0 | HD | DS, after a RECALIBRATE (§6.2: SENSE INTERRUPT 20 00)
    # and a SEEK to C5 (20 05); drive B's head is where the driver left it (T0 either way), and
    # with fdplug its disk is the 720K one attached read-only (WP, 0x40): @WP_B@.
    "raw-sense-drive": [("recalibrate", "-"), ("recalibrate_sense", "20,00"), ("sense_drive", "38"),
                        ("sense_drive_head1", "3C"), ("sense_drive_b", "@WP_B@"), ("seek", "-"),
                        ("seek_sense", "20,05"), ("sense_drive_c5", "28")],
    # §6.3: ST0 ST1 ST2 and the first ID under the head: C H R N = C 0/1 R 2.
    "raw-read-id": [("read_id", "00,00,00,00,00," + ANY_R + ",02"), ("read_id_head1", "04,00,00,00,01," + ANY_R + ",02"),
                    ("read_id_c5", "00,00,00,05,00," + ANY_R + ",02")],
}
WRITE_TRACK = 80           # C40/H0
WRITE_TRACKS = 8           # C40-C43, both heads
PIO_TRACK = 120            # the PIO phase's write: C60-C63
HD_HEADS, HD_SPT = 16, 63  # the boot disk's CHS geometry; cylinders follow from its size
# Guest-time savers that leave the floppy path alone: cryptomgr.notests skips the crypto
# self-tests (15 s of guest time, the longest initcall), rodata=off two page-table walks (W+X
# checks, 5 s); mitigations=off spares system calls the speculation barriers.
CMDLINE = "console=ttyS0,115200 panic=-1 cryptomgr.notests rodata=off mitigations=off"
IDENT = [r"FDC 0 is a post-1991 82077$"]
DRIVES = r"Floppy drive\(s\): fd0 is 1\.44M$"          # PIO variants: drive A only
DRIVES_AB = r"Floppy drive\(s\): fd0 is 1\.44M, fd1 is 1\.44M$"  # DMA variants: A and B
# The media boot: CMOS type 5 is the driver's "2.88M AMI BIOS" entry.
DRIVES_MEDIA = r"Floppy drive\(s\): fd0 is 1\.2M, fd1 is 2\.88M"
# The driver's echo of floppy=nodma as it parses the option: expected in "-pio" variants only.
NODMA_ECHO = r"^floppy0: nodma=1$"
# Pseudo-DMA only: the guest served a FIFO burst's INT late (about 200 µs with interrupts off
# elsewhere in the kernel), the controller overran and raised the result phase's fresh INT edge
# (docs/hardware/82077aa.md §9.1), and the local APIC delivered both edges, so the driver's
# handler ran a second time with nothing left to do: it logs these three lines, sends SENSE
# INTERRUPT (0x80: nothing pending) and goes on; the transfer is retried and its data checks
# still apply (docs/linux.md, "Without DMA"). Tolerated as whole groups only, at most twice.
LATE_PDMA_SERVICE = [r"^floppy0: unexpected interrupt\s*$", r"^floppy0: sensei repl\[0\]=80\s*$",
                     r"^floppy0: -- FDC reply error$"]

INIT = r"""#!/bin/busybox sh
# PID 1 of tests/linux's initramfs: loads the floppy driver, runs the checks, prints one FDLINUX
# line per result on the console (Bochs' COM1), powers off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
up() { cut -d' ' -f1 /proc/uptime; }
say() { echo "FDLINUX $*"; }
size() { stat -c %s "$1"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
# The kernel's floppy lines since insmod, as FDLINUX K lines. The console itself is kept quiet
# (kernel lines would cut into ours), so a follower prints them as they come: a hang still shows
# what the driver said.
# Each K line names the phase of the checks it came in ("main" but for the QMP swaps), so that the
# kernel lines a swap or a write-protected disk brings are told from the others.
echo main >/tmp/phase
klog() { dmesg -c | grep -i -E 'flop|fd[0-9]|fdc' | sed "s/^/FDLINUX K $(cat /tmp/phase) /"; }
phase() { klog; echo $1 >/tmp/phase; }
follow() {
    trap 'exit 0' TERM  # taken between commands: no line is lost half printed
    while :; do klog; sleep 1; done
}
finish() {
    kill $follower 2>/dev/null
    wait $follower 2>/dev/null
    klog
    say END uptime=$(up)
    sync
    # The console's output is still in the tty buffer: stty's TCSADRAIN waits for it to go out.
    stty -F /dev/console "$(stty -F /dev/console -g)"
    sleep 0.5
    poweroff -f
    sleep 10
}
say BOOT uptime=$(up)
dmesg -n 1
dmesg -c >/dev/null
follow &
follower=$!
# load TAG OPTIONS: the modules, floppy.ko with OPTIONS, and /dev/fd0 there; one TAG line.
load() {
    for m in @MODULES@; do
        opts=
        [ $m = floppy ] && opts="$2"
        insmod /$m.ko $opts || { say $1 FAIL $m rc=$?; return 1; }
    done
    n=0
    while [ ! -b /dev/fd0 ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
    [ -b /dev/fd0 ] || { say $1 FAIL no /dev/fd0; return 1; }
    say $1 ok uptime=$(up)
}
load INSMOD "@OPTIONS@" || finish
# readall DEV TAG BS: DEV read whole through the page cache, one result line. TAGGO and TAGEND
# come just before and after the dd, so that the host can time the read alone.
readall() {
    say ${2}GO
    t0=$(up)
    dd if=$1 of=/tmp/m bs=$3 2>/tmp/dd.err
    rc=$?
    t1=$(up)
    say ${2}END
    say $2 rc=$rc bytes=$(size /tmp/m) sha256=$(sha /tmp/m) t0=$t0 t1=$t1
    [ $rc = 0 ] || sed 's/^/FDLINUX DD /' /tmp/dd.err
    rm -f /tmp/m
}
# writetracks DEV TAG BS SEEK [COUNT]: COUNT (2) tracks of the pattern at track SEEK, read back
# past the caches: the page cache dropped, and track 0 read so that the driver's one-track
# buffer holds none of them.
writetracks() {
    t0=$(up)
    dd if=/pattern.bin of=$1 bs=$3 count=${5:-2} seek=$4 conv=notrunc,fsync 2>/tmp/dd.err
    rc=$?
    t1=$(up)
    blockdev --flushbufs $1
    dd if=$1 of=/dev/null bs=$3 count=1 iflag=direct 2>/dev/null
    dd if=$1 of=/tmp/back bs=$3 count=${5:-2} skip=$4 iflag=direct 2>>/tmp/dd.err
    readrc=$?
    say $2 rc=$rc readrc=$readrc sha256=$(sha /tmp/back) t0=$t0 t1=$t1
    [ $rc = 0 ] && [ $readrc = 0 ] || sed 's/^/FDLINUX DD /' /tmp/dd.err
}
# label DEV: the first line of DEV's sector 0, read past every cache (O_DIRECT; the open checks
# for a disk change). await DEV TEXT: polls until it is TEXT (with !TEXT: readable and not TEXT).
label() { dd if=$1 bs=512 count=1 iflag=direct 2>/dev/null | head -n 1; }
await() {
    n=0
    while [ $n -lt 600 ]; do
        l=$(label $1) && case "$2" in
            !*) [ -n "$l" ] && [ "$l" != "${2#!}" ] && return 0 ;;
            *) [ "$l" = "$2" ] && return 0 ;;
        esac
        sleep 0.2
        n=$((n + 1))
    done
    return 1
}
# idle_at_0 DEV: the head on track 0 and the drive idle before the host swaps the disk. A step
# pulse with a disk in clears the change latch (docs/hardware/82077aa.md §10), so a swap that
# lands while the head is still stepping to where the polling reads go is lost to the driver,
# which then keeps the old disk's format; the polling reads themselves stay on track 0.
idle_at_0() { label $1 >/dev/null; }
@BODY@"""

MAIN_BODY = r"""
readall /dev/fd0 READ 9216
writetracks /dev/fd0 WRITE 9216 @TRACK@ @TRACKS@
[ @EXTRA@ = 1 ] || finish

# FORMAT: every track of drive B through FDFMTBEG/FDFMTTRK/FDFMTEND (tests/linux/fdformat.c),
# then the whole disk read back: every byte must be the driver's fill byte.
t0=$(up)
out=$(fdformat /dev/fd1 2>/tmp/fmt.err)
rc=$?
t1=$(up)
say FORMAT rc=$rc $out t0=$t0 t1=$t1
[ $rc = 0 ] || sed 's/^/FDLINUX DD /' /tmp/fmt.err
# A FAT file system on the formatted disk, and the pattern copied onto it and back (mtools).
export MTOOLS_SKIP_CHECK=1
t0=$(up)
{ mformat -i /dev/fd1 -f 1440 -v FDPLUG :: && mcopy -i /dev/fd1 /pattern.bin ::PATTERN.BIN && sync &&
  blockdev --flushbufs /dev/fd1 && mcopy -i /dev/fd1 ::PATTERN.BIN /tmp/fat; } >/tmp/m.err 2>&1
rc=$?
t1=$(up)
say FAT rc=$rc bytes=$(size /tmp/fat) sha256=$(sha /tmp/fat) t0=$t0 t1=$t1
[ $rc = 0 ] || sed 's/^/FDLINUX DD /' /tmp/m.err
if [ @QMP@ = 1 ]; then
# The QMP checks: the host swaps drive B's disk when it sees an ASK line.
# Disk change: the old disk's first 4 tracks in the page cache and in the driver's track buffer,
# held there by open descriptors (3 to read, 4 to write later) across the swap.
exec 3</dev/fd1 4<>/dev/fd1
dd if=/dev/fd1 of=/dev/null bs=9216 count=4 2>/dev/null
phase swap
idle_at_0 /dev/fd1
say ASKWP
t0=$(up)
await /dev/fd1 "@WP_LABEL@"
rc=$?
t1=$(up)
dd if=/dev/fd1 of=/tmp/new bs=9216 2>/tmp/dd.err
readrc=$?
say CHANGE rc=$rc readrc=$readrc bytes=$(size /tmp/new) sha256=$(sha /tmp/new) t0=$t0 t1=$t1
sed 's/^/FDLINUX DD /' /tmp/dd.err
rm -f /tmp/new
# Write protection: a write opened now (EROFS) and one through descriptor 4, opened read-write
# before the swap (the driver gets the controller's answer: EIO).
phase wp
dd if=/pattern.bin of=/dev/fd1 bs=512 count=1 conv=notrunc,fsync 2>/tmp/wp1.err
rc1=$?
dd if=/pattern.bin bs=512 count=1 conv=notrunc,fsync >&4 2>/tmp/wp2.err
rc2=$?
say WP openrc=$rc1 fdrc=$rc2
sed 's/^/FDLINUX DD open: /' /tmp/wp1.err
sed 's/^/FDLINUX DD fd: /' /tmp/wp2.err
exec 3<&- 4<&-
# A release during a long read: the read ends with an error, and soon.
phase release
dd if=/dev/fd1 of=/tmp/rel bs=9216 2>/tmp/rel.err &
pid=$!
t0=$(up)
say ASKREL
wait $pid
rc=$?
t1=$(up)
say RELEASE rc=$rc bytes=$(size /tmp/rel) t0=$t0 t1=$t1
sed 's/^/FDLINUX DD /' /tmp/rel.err
rm -f /tmp/rel
# Drive B's FAT disk again, after the empty drive: its first 10 tracks through the page cache.
phase attach
say ASKATT
t0=$(up)
await /dev/fd1 "!@WP_LABEL@"
rc=$?
t1=$(up)
dd if=/dev/fd1 of=/tmp/again bs=9216 count=10 2>/tmp/dd.err
readrc=$?
say ATTACH rc=$rc readrc=$readrc bytes=$(size /tmp/again) sha256=$(sha /tmp/again) t0=$t0 t1=$t1
sed 's/^/FDLINUX DD /' /tmp/dd.err
# 720 KB media in the 1.44 MB drive: the driver finds the format by itself (autodetection).
phase m720
idle_at_0 /dev/fd1
say ASK720
t0=$(up)
await /dev/fd1 "@LABEL_720K@"
rc=$?
dd if=/dev/fd1 of=/tmp/m bs=9216 2>/tmp/dd.err
readrc=$?
t1=$(up)
say M720 rc=$rc readrc=$readrc bytes=$(size /tmp/m) sha256=$(sha /tmp/m) t0=$t0 t1=$t1
sed 's/^/FDLINUX DD /' /tmp/dd.err
rm -f /tmp/m
fi

# Raw controller commands (tests/linux/fdcraw.c) on drive A, with the driver unloaded.
phase raw
rmmod floppy 2>/tmp/rm.err
rc=$?
say RAW rmmod=$rc $(fdcraw 2>&1)
[ $rc = 0 ] || sed 's/^/FDLINUX DD /' /tmp/rm.err
if [ @PIO@ = 1 ]; then
# Without DMA: the driver loaded again with floppy=nodma moves every byte itself (pseudo-DMA,
# docs/linux.md); drive A read whole (with the tracks written above) and 8 more tracks written.
phase pio
if load PINSMOD floppy=nodma; then
    readall /dev/fd0 PREAD 9216
    writetracks /dev/fd0 PWRITE 9216 @PIO_TRACK@ @TRACKS@
fi
fi
phase main
finish
"""


# The media boot (variant fdplug-media): drive A a 5.25" 1.2 MB drive with 1.2 MB media, drive B
# a 2.88 MB drive with 2.88 MB media; then 360 KB media into drive A over QMP (double stepping).
# Each disk is read whole, and two tracks are written to the 2.88 MB and the 360 KB disks.
MEDIA_BODY = r"""
readall /dev/fd0 M1200 15360
readall /dev/fd1 M2880 18432
writetracks /dev/fd1 W2880 18432 @W2880@
phase swap
idle_at_0 /dev/fd0
say ASK360
t0=$(up)
await /dev/fd0 "@LABEL_360K@"
say SWAP360 rc=$? t0=$t0 t1=$(up)
phase main
readall /dev/fd0 M360 4608
writetracks /dev/fd0 W360 4608 @W360@
finish
"""


def cpio_newc(entries):
    """An uncompressed cpio archive in the kernel's initramfs format ("newc"). entries:
    (name, mode, data, rdev major, rdev minor)."""
    out = bytearray()
    for ino, (name, mode, data, major, minor) in enumerate(entries + [("TRAILER!!!", 0, b"", 0, 0)], 1):
        raw = name.encode() + b"\0"
        fields = (ino, mode, 0, 0, 1, 0, len(data), 0, 0, major, minor, len(raw), 0)
        out += b"070701" + "".join(f"{v:08X}" for v in fields).encode() + raw
        out += bytes(-len(out) % 4)
        out += data
        out += bytes(-len(out) % 4)
    return bytes(out)


def initramfs(modules, options, pattern, fdformat=None, qmp=False, fdcraw=None, media=False, pio=False):
    """The initramfs. With fdformat (the path of the static tests/linux/fdformat.c build), the
    checks on drive B as well: fdformat, and mtools with the libraries and the codepage module
    it loads. With pio, the PIO phase at the end (pio_phase)."""
    init = (INIT.replace("@BODY@", MEDIA_BODY if media else MAIN_BODY)
            .replace("@MODULES@", " ".join(modules)).replace("@OPTIONS@", options)
            .replace("@TRACK@", str(WRITE_TRACK)).replace("@TRACKS@", str(WRITE_TRACKS))
            .replace("@EXTRA@", "1" if fdformat else "0").replace("@QMP@", "1" if qmp else "0")
            .replace("@PIO@", "1" if pio else "0").replace("@PIO_TRACK@", str(PIO_TRACK))
            .replace("@WP_LABEL@", WP_LABEL).replace("@LABEL_720K@", MEDIA["720K"][0])
            .replace("@LABEL_360K@", MEDIA["360K"][0]).replace("@W2880@", str(W2880)).replace("@W360@", str(W360)))
    dirs = ["bin", "dev", "proc", "sys", "tmp"]
    entries = [("dev/console", 0o020600, b"", 5, 1)]  # init's stdio before devtmpfs is mounted
    entries.append(("bin/busybox", 0o100755, open(BUSYBOX, "rb").read(), 0, 0))
    entries.append(("init", 0o100755, init.encode(), 0, 0))
    for m in modules:
        entries.append((f"{m}.ko", 0o100644, open(os.path.join(CACHE, f"{m}.ko"), "rb").read(), 0, 0))
    entries.append(("pattern.bin", 0o100644, pattern, 0, 0))
    if fdformat:
        entries.append(("bin/fdformat", 0o100755, open(fdformat, "rb").read(), 0, 0))
        entries.append(("bin/fdcraw", 0o100755, open(fdcraw, "rb").read(), 0, 0))
        mtools = os.path.realpath(shutil.which("mtools"))
        entries.append(("bin/mtools", 0o100755, open(mtools, "rb").read(), 0, 0))
        entries += [(f"bin/{name}", 0o120777, b"mtools", 0, 0) for name in MTOOLS]
        for path in sorted(set(shared_libraries(mtools) + [GCONV_MODULE, GCONV_CACHE])):
            entries.append((path.lstrip("/"), 0o100755, open(path, "rb").read(), 0, 0))
    for path in [e[0] for e in entries]:
        parent = os.path.dirname(path)
        while parent and parent not in dirs:
            dirs.append(parent)
            parent = os.path.dirname(parent)
    return cpio_newc([(d, 0o040755, b"", 0, 0) for d in sorted(dirs, key=len)] + entries)


def shared_libraries(program):
    """The shared libraries and the program interpreter that ldd lists for program."""
    out = subprocess.run(["ldd", program], check=True, capture_output=True, text=True).stdout
    return re.findall(r"(/\S+) \(0x", out)


def boot_disk(path, initrd, cmdline):
    """A FAT hard-disk image without partition table that SYSLINUX boots into the kernel."""
    kernel = os.path.join(CACHE, "vmlinuz")
    need = os.path.getsize(kernel) + len(initrd) + (2 << 20)
    cylinders = -(-need // (HD_HEADS * HD_SPT * 512))
    with open(path, "wb") as fh:
        fh.truncate(cylinders * HD_HEADS * HD_SPT * 512)
    rundir = os.path.dirname(path)
    with open(os.path.join(rundir, "initrd"), "wb") as fh:
        fh.write(initrd)
    with open(os.path.join(rundir, "syslinux.cfg"), "w") as fh:
        fh.write(f"DEFAULT linux\nLABEL linux\n  KERNEL vmlinuz\n  INITRD initrd\n  APPEND {cmdline}\n")
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    for cmd in (["mformat", "-i", path, "-t", str(cylinders), "-h", str(HD_HEADS), "-s", str(HD_SPT), "::"],
                ["mcopy", "-i", path, kernel, "::vmlinuz"],
                ["mcopy", "-i", path, os.path.join(rundir, "initrd"), "::initrd"],
                ["mcopy", "-i", path, os.path.join(rundir, "syslinux.cfg"), "::syslinux.cfg"],
                ["syslinux", "--install", path]):
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    return cylinders


def bochsrc(drives, disk, cylinders, serial, log):
    """drives: [(bochsrc drive, Bochs medium type, image path)]."""
    floppies = "".join(f"{drive}: {kind}={path}, status=inserted\n" for drive, kind, path in drives)
    return f"""romimage: file={run_boot.BIOSES['seabios']}
vgaromimage: file={run_boot.BXSHARE}/VGABIOS-lgpl-latest
megs: 128
cpu: model=core2_penryn_t9600, count=1, ips=50000000
{floppies}ata0-master: type=disk, path={disk}, mode=flat, cylinders={cylinders}, heads={HD_HEADS}, spt={HD_SPT}
boot: disk
com1: enabled=1, mode=file, dev={serial}
clock: sync=none
speaker: enabled=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
display_library: rfb, options="timeout=0"
log: {log}
"""


def parse(serial):
    """The FDLINUX lines: {tag: fields} per result line, with the dd error lines that follow it
    under "dd"; the kernel's floppy lines under "K"."""
    found, last = {"K": []}, None
    for line in serial.splitlines():
        line = line.rstrip("\r")
        if not line.startswith("FDLINUX "):
            continue
        tag, _, rest = line[8:].partition(" ")
        if tag == "K":
            found["K"].append(rest)
        elif tag == "DD":
            if last:
                last["dd"].append(rest)
        else:
            last = found[tag] = dict(f.split("=", 1) for f in rest.split() if "=" in f)
            last.update({"_": rest, "dd": []})
    return found


def klines(f, phase):
    """The kernel's floppy lines /init printed in a phase of its checks, without timestamps."""
    return [re.sub(r"^\[\s*[\d.]+\]\s*", "", k.partition(" ")[2]) for k in f["K"] if k.partition(" ")[0] == phase]


def seconds(fields, a="t0", b="t1"):
    try:
        return float(fields[b]) - float(fields[a])
    except (KeyError, ValueError):
        return float("nan")


def check(variant, r, image, pattern):
    """[(case, problem or None, detail)] for one boot."""
    f, cases = r["found"], []

    def wall(tag, since=None):
        """Host seconds until the console showed tag (since the line since, if given); the
        console is polled 4 times a second. A result line comes after its check's hashing; the
        read alone is timed between READGO and READEND, printed around its dd."""
        seen = r["seen"]
        if tag not in seen or (since and since not in seen):
            return "? s"
        return f"{seen[tag] - (seen[since] if since else 0):.1f} s"
    boot = "BOOT" in f and "END" in f and not r["plugin_problems"]
    why = []
    if r["killed"]:
        why.append(f"Bochs killed after {r['wall']:.0f} s wall: {r['killed']} (see serial.txt)")
    if "BOOT" not in f:
        why.append("the kernel did not reach /init")
    elif "END" not in f:
        why.append("/init did not finish its checks")
    why += r["plugin_problems"]
    cases.append(("boot", "; ".join(why) or None,
                  f"/init at {f.get('BOOT', {}).get('uptime', '?')} s guest time, {wall('BOOT')} wall"))

    parts = variant.split("-")
    media = "media" in parts
    drives = DRIVES_MEDIA if media else DRIVES_AB if extra_checks(variant) else DRIVES
    expected = [drives] + IDENT + ([NODMA_ECHO] if "pio" in parts else [])
    cases.append(("ident", *ident(f, "INSMOD", "main", expected, "pio" in parts)))
    if media:
        return fail_unbooted(cases + check_media(f, r, pattern, wall), boot)

    written = [WRITE_TRACK] + ([PIO_TRACK] if pio_phase(variant) else [])
    cases.append(("read", read_problem(f, "READ", image),
                  f"{len(image)} bytes in {seconds(f.get('READ', {})):.2f} s guest time, "
                  f"{wall('READEND', 'READGO')} wall"))
    cases.append(("write", write_problems(f, r, image, pattern, "WRITE", WRITE_TRACK, written),
                  f"{len(pattern)} bytes (C40-C43) in {seconds(f.get('WRITE', {})):.2f} s guest time, "
                  f"{wall('WRITE', 'READ')} wall; in the image file after exit"))
    if extra_checks(variant):
        cases += check_b(f, r, pattern, wall)
        cases += check_qmp(f, r, wall)
        cases += check_raw(f, r["host"] is not None)
    if pio_phase(variant):
        # Drive A as the DMA checks left it: the pattern at C40-C43.
        start = WRITE_TRACK * 9216
        before = image[:start] + pattern + image[start + len(pattern):]
        cases.append(("pio-ident", *ident(f, "PINSMOD", "pio", [drives, NODMA_ECHO] + IDENT, True)))
        cases.append(("pio-read", read_problem(f, "PREAD", before),
                      f"{len(image)} bytes by PIO in {seconds(f.get('PREAD', {})):.2f} s guest time, "
                      f"{wall('PREADEND', 'PREADGO')} wall"))
        cases.append(("pio-write", write_problems(f, r, image, pattern, "PWRITE", PIO_TRACK, written),
                      f"{len(pattern)} bytes (C60-C63) by PIO in {seconds(f.get('PWRITE', {})):.2f} s guest "
                      "time; in the image file after exit"))
    return fail_unbooted(cases, boot)


def ident(f, tag, phase, expected, pio):
    """(problem or None, detail) of the driver's load (the tag line) and the kernel's floppy lines
    of a phase: a line for each of expected, and no other; with pio (floppy=nodma) whole
    LATE_PDMA_SERVICE groups are tolerated, at most twice."""
    kernel = klines(f, phase)
    missing = [p for p in expected if not any(re.search(p, k) for k in kernel)]
    other = [k for k in kernel if not any(re.search(p, k) for p in expected)]
    late = 0
    if pio:
        other, late = drop_late_pdma_service(other)
    problem = []
    if tag not in f or not f[tag]["_"].startswith("ok"):
        problem.append(f"insmod: {f.get(tag, {}).get('_', 'no result')}")
    if missing:
        problem.append("no kernel line matching " + ", ".join(missing))
    if other:
        problem.append(f"{len(other)} other floppy line(s) in the kernel log: " + " | ".join(other[:6]))
    if late > 2:
        problem.append(f"{late} late pseudo-DMA services (unexpected interrupt), at most 2 tolerated")
    return "; ".join(problem) or None, (" | ".join(k for k in kernel if k not in other) +
                                        (f" ({late} late pseudo-DMA service(s) tolerated)" if late else ""))


def read_problem(f, tag, image):
    """What is wrong with readall's tag line, which must have read image whole, or None."""
    rd, want = f.get(tag, {}), hashlib.sha256(image).hexdigest()
    if rd.get("rc") == "0" and rd.get("bytes") == str(len(image)) and rd.get("sha256") == want:
        return None
    return (f"read rc={rd.get('rc')} bytes={rd.get('bytes')} sha256={rd.get('sha256')}; expected rc=0 "
            f"bytes={len(image)} sha256={want}" + "".join(" | " + d for d in rd.get("dd", [])[:4]))


def write_problems(f, r, image, pattern, tag, track, written):
    """What is wrong with writetracks' tag line (the pattern written at track and read back), and
    with drive A's image file after the run: the pattern at track, and outside the tracks of
    every write of the run (written) the image's own bytes; None when nothing is."""
    w, want = f.get(tag, {}), hashlib.sha256(pattern).hexdigest()
    problem = []
    if w.get("rc") != "0" or w.get("readrc") != "0" or w.get("sha256") != want:
        problem.append(f"write rc={w.get('rc')}, read back rc={w.get('readrc')} sha256={w.get('sha256')}; "
                       f"expected 0, 0 and the pattern's {want}" + "".join(" | " + d for d in w.get("dd", [])[:4]))
    after = r["after"]
    if len(after) != len(image):
        problem.append(f"the image file is {len(after)} bytes after the run")
        return "; ".join(problem)
    start = track * 9216
    if after[start:start + len(pattern)] != pattern:
        problem.append(f"bytes {start}-{start + len(pattern) - 1} of the image file do not hold the pattern")

    def outside(data):
        data = bytearray(data)
        for t in written:
            data[t * 9216:t * 9216 + len(pattern)] = bytes(len(pattern))
        return data
    if outside(after) != outside(image):
        problem.append("bytes outside the written tracks changed in the image file")
    return "; ".join(problem) or None


def fail_unbooted(cases, boot):
    """After a failed boot every check but boot fails too."""
    if not boot:
        cases = cases[:1] + [(c, p or "not reached: the boot failed", d) for c, p, d in cases[1:]]
    return cases


def drop_late_pdma_service(lines):
    """lines without each whole LATE_PDMA_SERVICE group, and how many groups there were."""
    out, groups, i = [], 0, 0
    n = len(LATE_PDMA_SERVICE)
    while i < len(lines):
        window = lines[i:i + n]
        if len(window) == n and all(re.search(p, l) for p, l in zip(LATE_PDMA_SERVICE, window)):
            groups += 1
            i += n
        else:
            out.append(lines[i])
            i += 1
    return out, groups


def check_media(f, r, pattern, wall):
    """The media boot: each disk read whole; two tracks written to the 2.88 MB and 360 KB disks,
    read back in the guest and in the image file after the run."""
    cases, media = [], r["media"]
    for case, name, tag, wtag, track in (("1.2m", "1.2M", "M1200", None, 0), ("2.88m", "2.88M", "M2880", "W2880", W2880),
                                         ("360k", "360K", "M360", "W360", W360)):
        size, tbytes = MEDIA[name][2], MEDIA[name][3]
        disk = media_image(name)
        m = f.get(tag, {})
        want = hashlib.sha256(disk).hexdigest()
        problem = []
        if m.get("rc") != "0" or m.get("bytes") != str(size) or m.get("sha256") != want:
            problem.append(f"read rc={m.get('rc')} bytes={m.get('bytes')} sha256={m.get('sha256')}; expected rc=0 "
                           f"bytes={size} and the image's {want}" + "".join(" | " + d for d in m.get("dd", [])[:4]))
        detail = f"{size} bytes read in {seconds(m):.2f} s guest time"
        if name == "360K":
            sw = f.get("SWAP360", {})
            if sw.get("rc") != "0":
                problem.insert(0, "the guest never saw the 360K disk's label")
            problem = host_problems(r, "ASK360") + problem
            detail = f"swapped in over QMP, label after {seconds(sw):.2f} s guest time; " + detail
        if wtag:
            w, data = f.get(wtag, {}), pattern[:2 * tbytes]
            want = hashlib.sha256(data).hexdigest()
            if w.get("rc") != "0" or w.get("readrc") != "0" or w.get("sha256") != want:
                problem.append(f"write of tracks {track}-{track + 1}: rc={w.get('rc')}, read back rc={w.get('readrc')} "
                               f"sha256={w.get('sha256')}, expected 0, 0 and {want}"
                               + "".join(" | " + d for d in w.get("dd", [])[:4]))
            after, start = media[name], track * tbytes
            end = start + 2 * tbytes
            if after[start:end] != data or after[:start] != disk[:start] or after[end:] != disk[end:]:
                problem.append(f"after the run the image file does not hold the pattern at tracks {track}-{track + 1} "
                               "and nothing else changed")
            detail += (f"; tracks {track}-{track + 1} written in {seconds(w):.2f} s guest time, read back, in the "
                       "image file after exit")
        cases.append((case, "; ".join(problem) or None, detail))
    return cases


def host_problems(r, tag):
    return list(r["host"].problems.get(tag, [])) if r["host"] else ["no QMP (Bochs' own plugin)"]


def pio_phase(variant):
    """True for the boots that, after the DMA checks, load the driver again with floppy=nodma and
    read and write drive A by PIO: fdplug's DMA variants (Bochs' plugin cannot do PIO: its driver
    loops resetting the controller, docs/linux.md)."""
    return extra_checks(variant) and variant.split("-")[0] == "fdplug"


def extra_checks(variant):
    """True for the variants that run the checks on drive B (FORMAT, mtools, QMP, raw commands):
    the DMA ones but the media boot."""
    return "pio" not in variant.split("-") and "media" not in variant.split("-")


def media_image(name):
    """A disk of MEDIA[name]: its label, then pseudo-random data."""
    label, seed, size, _ = MEDIA[name]
    data = run_boot.make_image((label + "\n").encode().ljust(512, b"\0"), seed)
    while len(data) < size:
        data += run_boot.make_image(bytes(512), seed + len(data))
    return data[:size]


def wp_image():
    """The disk attached read-only over QMP: WP_LABEL, then pseudo-random data."""
    return run_boot.make_image((WP_LABEL + "\n").encode().ljust(512, b"\0"), WP_SEED)


class Host:
    """The host's side of the QMP checks: a QMP client on FDPLUG_QMP's socket that swaps disks
    when the guest asks (ASK lines). Every request, its answer and how long it took are
    kept in self.log; what went wrong in self.problems, per ASK tag."""

    def __init__(self, path, steps):
        """steps: {ASK tag: [(command, arguments)]}."""
        self.path, self.steps = path, steps
        self.sock = self.rfile = None
        self.log, self.problems, self.slowest = [], {}, {}

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(10)
        self.sock.connect(self.path)
        self.rfile = self.sock.makefile("rb")
        self.log.append("<- " + self.rfile.readline().decode().strip())
        self.execute("qmp_capabilities")

    def execute(self, command, arguments=None):
        msg = json.dumps({"execute": command, **({"arguments": arguments} if arguments else {})})
        t = time.monotonic()
        self.sock.sendall(msg.encode() + b"\n")
        self.log.append("-> " + msg)
        while True:
            raw = self.rfile.readline()
            if not raw:
                raise OSError("the QMP connection closed")
            self.log.append("<- " + raw.decode().strip())
            reply = json.loads(raw)
            if "event" not in reply:
                break
        took = time.monotonic() - t
        self.log.append(f"   ({took * 1000:.1f} ms)")
        if "return" not in reply:
            raise OSError(f"{command}: {reply.get('error', reply)}")
        return took

    def ask(self, tag):
        steps = self.steps.get(tag)
        if not steps:
            return
        try:
            if not self.sock:
                self.connect()
            for command, arguments in steps:
                took = self.execute(command, arguments)
                self.slowest[tag] = max(self.slowest.get(tag, 0), took)
                if took > QMP_ANSWER:
                    self.problems.setdefault(tag, []).append(f"{command} answered after {took:.2f} s")
        except (OSError, ValueError) as e:
            self.problems.setdefault(tag, []).append(f"QMP: {e}")

    def close(self):
        if self.sock:
            self.sock.close()


def image_b():
    """Drive B's image before the run: pseudo-random data that no FORMAT leaves behind."""
    return run_boot.make_image(b"fdplug tests/linux drive B\n".ljust(512, b"\0"), IMAGE_B_SEED)


def check_b(f, r, pattern, wall):
    """The checks on drive B: FORMAT and mtools."""
    cases, after = [], r["after_b"]
    sectors = len(after) // 512
    fill = sum(1 for i in range(sectors) if after[i * 512:(i + 1) * 512] == bytes([FILL_BYTE]) * 512)
    # mformat writes the boot sector, two 9-sector FATs and the 14-sector root directory (33
    # sectors), mcopy the pattern's 144 sectors; every other sector keeps FORMAT's fill byte. The
    # image held pseudo-random data before, so these sectors were written by the FORMAT.
    want_fill = sectors - 33 - len(pattern) // 512
    fm = f.get("FORMAT", {})
    problem = []
    if fm.get("rc") != "0" or fm.get("tracks") != "160" or fm.get("bytes") != str(len(after)) or fm.get("notfill") != "0":
        problem.append(f"fdformat rc={fm.get('rc')} tracks={fm.get('tracks')} bytes={fm.get('bytes')} "
                       f"notfill={fm.get('notfill')}; expected rc=0 tracks=160 bytes={len(after)} notfill=0 "
                       f"(160 tracks formatted, the whole disk read back as 0x{FILL_BYTE:02X})"
                       + "".join(" | " + d for d in fm.get("dd", [])[:4]))
    if fill < want_fill:
        problem.append(f"after the run only {fill} of {sectors} sectors of the image file hold the fill byte "
                       f"0x{FILL_BYTE:02X}, expected at least {want_fill}: the FORMAT did not land in the file")
    cases.append(("format", "; ".join(problem) or None,
                  f"{fm.get('tracks')} tracks ({fm.get('geometry')}) formatted and read back as 0x{FILL_BYTE:02X} "
                  f"in {seconds(fm):.2f} s guest time, {wall('FORMAT', 'WRITE')} wall; {fill} of {sectors} "
                  "sectors of the image file hold the fill byte after the run"))

    fat = f.get("FAT", {})
    want = hashlib.sha256(pattern).hexdigest()
    problem = []
    if fat.get("rc") != "0" or fat.get("sha256") != want:
        problem.append(f"mformat/mcopy in the guest rc={fat.get('rc')} bytes={fat.get('bytes')} "
                       f"sha256={fat.get('sha256')}, expected rc=0 and the pattern's {want}"
                       + "".join(" | " + d for d in fat.get("dd", [])[:4]))
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    listing = subprocess.run(["mdir", "-b", "-i", r["image_b"], "::"], env=env, capture_output=True, text=True)
    copy = subprocess.run(["mcopy", "-n", "-i", r["image_b"], "::PATTERN.BIN", "-"], env=env, capture_output=True)
    if listing.returncode != 0 or "PATTERN.BIN" not in listing.stdout.upper():
        problem.append(f"host mdir of the image file: rc={listing.returncode} "
                       f"{(listing.stdout + listing.stderr).strip()[:200]!r}, expected PATTERN.BIN")
    elif copy.returncode != 0 or copy.stdout != pattern:
        problem.append(f"host mcopy of PATTERN.BIN from the image file: rc={copy.returncode}, "
                       f"{len(copy.stdout)} bytes, sha256 {hashlib.sha256(copy.stdout).hexdigest()}; expected the "
                       f"pattern ({len(pattern)} bytes, {want})")
    cases.append(("fat", "; ".join(problem) or None,
                  f"mformat + mcopy of {len(pattern)} bytes there and back in {seconds(fat):.2f} s guest time, "
                  f"{wall('FAT', 'FORMAT')} wall; host mdir/mcopy find the file in the image file"))
    return cases


def check_qmp(f, r, wall):
    """The checks of the QMP swaps on drive B: change, wp, release, attach."""
    host = r["host"]
    if not host:
        return [(c, "skip", "Bochs' own plugin has no QMP monitor") for c in ("change", "wp", "release", "attach", "720k")]
    cases = []

    def extra(tag, phase):
        """The host's QMP problems for tag and the kernel's lines in phase, as details."""
        return host.problems.get(tag, []), klines(f, phase)

    wp = wp_image()
    want = hashlib.sha256(wp).hexdigest()
    ch = f.get("CHANGE", {})
    problem, kernel = extra("ASKWP", "swap")
    if ch.get("rc") != "0":
        problem.append(f"the guest never read the new disk's label {WP_LABEL!r} from drive B")
    if ch.get("readrc") != "0" or ch.get("sha256") != want:
        problem.append(f"read of the new disk rc={ch.get('readrc')} bytes={ch.get('bytes')} sha256={ch.get('sha256')}, "
                       f"expected rc=0 and the new disk's {want}"
                       + (" (the old disk's cached sectors?)" if ch.get("readrc") == "0" else "")
                       + "".join(" | " + d for d in ch.get("dd", [])[:4]))
    cases.append(("change", "; ".join(problem) or None,
                  f"QMP release + read-only attach of another disk ({host.slowest.get('ASKWP', 0) * 1000:.0f} ms "
                  f"at most per command); the guest saw its label after {seconds(ch):.2f} s guest time and read "
                  f"all of it (its SHA-256) through the page cache that held the old disk's first 4 tracks"
                  + (f"; kernel: {' | '.join(kernel[:4])}" if kernel else "")))

    w = f.get("WP", {})
    problem, kernel = [], klines(f, "wp")
    errors = w.get("dd", [])
    if w.get("openrc") in (None, "0"):
        problem.append(f"a write opened after the read-only attach did not fail (rc={w.get('openrc')})")
    if w.get("fdrc") in (None, "0"):
        problem.append(f"a write through a descriptor opened before it did not fail (rc={w.get('fdrc')})")
    if r["wp_after"] != wp:
        problem.append("the write-protected image file changed: SHA-256 "
                       f"{hashlib.sha256(r['wp_after']).hexdigest()}, was {want}")
    cases.append(("wp", "; ".join(problem + errors[:4] if problem else []) or None,
                  "both writes failed: " + " | ".join(errors[:4]) + f"; the image file is byte-identical ({want[:16]}…)"
                  + (f"; kernel: {' | '.join(kernel[:4])}" if kernel else "")))

    rel = f.get("RELEASE", {})
    problem, kernel = extra("ASKREL", "release")
    if "RELEASE" not in f:
        problem.append("the read during the release never ended")
    elif rel.get("rc") == "0" or rel.get("bytes") == str(len(wp)):
        problem.append(f"the whole-disk read during the release did not fail: rc={rel.get('rc')} bytes={rel.get('bytes')}")
    cases.append(("release", "; ".join(problem) or None,
                  f"QMP release answered in {host.slowest.get('ASKREL', 0) * 1000:.0f} ms during a whole-disk read, "
                  f"which ended with rc={rel.get('rc')} after {rel.get('bytes')} bytes, {seconds(rel):.2f} s guest time: "
                  + " | ".join(rel.get("dd", [])[:2]) + (f"; kernel: {' | '.join(kernel[:4])}" if kernel else "")))

    at = f.get("ATTACH", {})
    problem, kernel = extra("ASKATT", "attach")
    after = r["after_b"][:10 * 9216]
    want = hashlib.sha256(after).hexdigest()
    if at.get("rc") != "0" or at.get("readrc") != "0" or at.get("sha256") != want:
        problem.append(f"after the attach of drive B's disk: label rc={at.get('rc')}, read rc={at.get('readrc')} "
                       f"bytes={at.get('bytes')} sha256={at.get('sha256')}, expected 0, 0, {len(after)} bytes and the "
                       f"image file's {want}" + "".join(" | " + d for d in at.get("dd", [])[:4]))
    m = f.get("M720", {})
    disk = media_image("720K")
    want720 = hashlib.sha256(disk).hexdigest()
    problem720 = host_problems(r, "ASK720")
    if m.get("rc") != "0" or m.get("readrc") != "0" or m.get("bytes") != str(len(disk)) or m.get("sha256") != want720:
        problem720.append(f"720K disk in drive B: label rc={m.get('rc')}, read rc={m.get('readrc')} bytes={m.get('bytes')} "
                          f"sha256={m.get('sha256')}; expected 0, 0, {len(disk)} bytes (the driver found the 720K "
                          f"format) and the image's {want720}" + "".join(" | " + d for d in m.get("dd", [])[:4]))
    cases.append(("attach", "; ".join(problem) or None,
                  f"drive B's FAT disk attached again after the empty drive; its first 10 tracks read "
                  f"{seconds(at):.2f} s guest time later" + (f"; kernel: {' | '.join(kernel[:4])}" if kernel else "")))
    kernel = klines(f, "m720")
    cases.append(("720k", "; ".join(problem720) or None,
                  f"720K disk in the 1.44M drive B over QMP: {m.get('bytes')} bytes read whole (autodetected) in "
                  f"{seconds(m):.2f} s guest time" + (f"; kernel: {' | '.join(kernel[:4])}" if kernel else "")))
    return cases


def check_raw(f, wp_b):
    """fdcraw's answers against RAW, one case per group of commands. wp_b: drive B holds a
    write-protected disk."""
    raw = f.get("RAW", {})
    cases = []
    for case, steps in RAW.items():
        problem, got = [], []
        if raw.get("rmmod") != "0":
            problem.append(f"rmmod floppy rc={raw.get('rmmod')}" + "".join(" | " + d for d in raw.get("dd", [])[:2]))
        for step, want in steps:
            want = want.replace("@WP_B@", "(69|79)" if wp_b else "(29|39)")
            have = raw.get(step)
            got.append(f"{step} {have}")
            if have is None:
                problem.append(f"{step}: no answer" + (f" (fdcraw stuck at {raw['stuck']}, MSR {raw.get('msr')})"
                                                      if "stuck" in raw else ""))
            elif not re.fullmatch(want, have):
                problem.append(f"{step} answered {have}, expected {want}")
        cases.append((case, "; ".join(problem) or None, ", ".join(got)))
    return cases


def run(args, variant, image, pattern, modules, prefix):
    parts = variant.split("-")
    fdplug = parts[0] == "fdplug"
    timing = "fast" if "fast" in parts else "accurate"
    rundir = os.path.join(args.workdir, variant)
    shutil.rmtree(rundir, ignore_errors=True)
    os.makedirs(rundir)
    floppy, disk = os.path.join(rundir, "fd.img"), os.path.join(rundir, "hd.img")
    serial, log = os.path.join(rundir, "serial.txt"), os.path.join(rundir, "bochs.log")
    options = "floppy=nodma" if "pio" in parts else ""

    def put(name, data):
        path = os.path.join(rundir, name)
        with open(path, "wb") as fh:
            fh.write(data)
        return path
    floppy_b = fdformat = fdcraw = wp = None
    qmp = os.path.join(rundir, "qmp.sock") if fdplug and (extra_checks(variant) or "media" in parts) else None
    steps, media = {}, {}
    if "media" in parts:
        media = {name: put(f"m{name}.img", media_image(name)) for name in MEDIA if name != "720K"}
        floppy, floppy_b = media["1.2M"], media["2.88M"]
        drives = [("floppya", "1_2", floppy), ("floppyb", "2_88", floppy_b)]
        steps["ASK360"] = [("floppy-release-image", {"id": "floppya"}),
                           ("floppy-attach-image", {"id": "floppya", "filename": media["360K"]})]
    else:
        floppy = put("fd.img", image)
        drives = [("floppya", "1_44", floppy)]
    if extra_checks(variant):
        floppy_b = put("fd1.img", image_b())
        fdformat, fdcraw = os.path.join(rundir, "fdformat"), os.path.join(rundir, "fdcraw")
        drives.append(("floppyb", "1_44", floppy_b))
        for exe, source in ((fdformat, FDFORMAT_C), (fdcraw, FDCRAW_C)):
            subprocess.run(["gcc", "-static", "-O2", "-Wall", "-o", exe, source], check=True)
        if qmp:
            wp, media["720K"] = put("wp.img", wp_image()), put("m720K.img", media_image("720K"))
            steps.update({
                "ASKWP": [("floppy-release-image", {"id": "floppyb"}),
                          ("floppy-attach-image", {"id": "floppyb", "filename": wp, "read-only": True})],
                "ASKREL": [("floppy-release-image", {"id": "floppyb"})],
                "ASKATT": [("floppy-attach-image", {"id": "floppyb", "filename": floppy_b})],
                "ASK720": [("floppy-release-image", {"id": "floppyb"}),
                           ("floppy-attach-image", {"id": "floppyb", "filename": media["720K"], "read-only": True})]})
    cylinders = boot_disk(disk, initramfs(modules, options, pattern, fdformat, bool(qmp), fdcraw, "media" in parts,
                                    pio_phase(variant)),
                          " ".join([CMDLINE, args.append]).strip())
    with open(os.path.join(rundir, "linux.bxrc"), "w") as fh:
        fh.write(bochsrc(drives, disk, cylinders, serial, log))
    with open(os.path.join(rundir, "c.rc"), "w") as fh:
        fh.write("c\n")  # the debugger is compiled in: continue at once
    env = run_boot.bochs_env(args.plugin if fdplug else None, timing if fdplug else None)
    if qmp:
        env["FDPLUG_QMP"] = "unix:" + qmp
    host = Host(qmp, steps) if qmp else None
    cmd = prefix + [args.bochs, "-q", "-f", "linux.bxrc", "-rc", "c.rc"]
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    with open(os.path.join(rundir, "bochs.out"), "wb") as out:
        proc = subprocess.Popen(cmd, cwd=rundir, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT)
        killed, seen = watch(proc, serial, t0, t0 + args.timeout, host.ask if host else None)
    if host:
        host.close()
        with open(os.path.join(rundir, "qmp.txt"), "w") as fh:
            fh.write("\n".join(host.log) + "\n")
    wall = time.monotonic() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    text = open(serial, encoding="latin-1").read() if os.path.exists(serial) else ""
    logtext = open(log, encoding="latin-1").read() if os.path.exists(log) else ""
    log_errors = [l for l in logtext.splitlines() if re.match(r"^\d+[ep]\[PLUGIN\s*\] fdplug", l)]
    problem = run_boot.plugin_problem(logtext, fdplug, timing)
    return {"rundir": rundir, "wall": wall, "cpu": (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime),
            "killed": killed, "seen": seen, "found": parse(text), "after": open(floppy, "rb").read(),
            "after_b": open(floppy_b, "rb").read() if floppy_b else None, "image_b": floppy_b,
            "wp_after": open(wp, "rb").read() if wp else None, "host": host,
            "media": {name: open(path, "rb").read() for name, path in media.items()},
            "plugin_problems": ([problem] if problem else []) + log_errors[:4]}


def watch(proc, serial, t0, deadline, ask=None):
    """Waits for Bochs to exit, noting when (wall seconds after t0) each FDLINUX result line
    first showed on the console, and calling ask(tag) when a line's tag is new. Kills Bochs, and
    says why, when the console shows that the run cannot end well (a panic, or a second boot:
    panic=-1 reboots) or at the deadline. Returns (why or None, {tag: seconds})."""
    why, seen, text = None, {}, ""
    while True:
        try:
            proc.wait(timeout=0.25)
            exited = True
        except subprocess.TimeoutExpired:
            exited = False
        if os.path.exists(serial):
            # newline="": the console writes CR LF, and a translated read would make len(text)
            # lag behind the file offset, so the next read would start inside old text and could
            # splice a line ("FDLIFDLINUX ASK720"), losing its tag and the swap it asks for.
            with open(serial, encoding="latin-1", newline="") as fh:
                fh.seek(len(text))
                text += fh.read()
        # Whole lines only: Bochs may have written half of one.
        for line in text[:text.rfind("\n") + 1].splitlines():
            tag = line.split()[1:2] if line.startswith("FDLINUX ") else []
            if tag and tag[0] not in seen:
                seen[tag[0]] = time.monotonic() - t0
                if ask:
                    ask(tag[0])
        if exited:
            return None, seen
        if "Kernel panic" in text:
            why = "the kernel panicked"
        elif text.count("Linux version ") > 1:
            why = "the guest rebooted"
        elif time.monotonic() > deadline:
            why = "time is up"
        if why:
            proc.kill()
            proc.wait()
            return why, seen


def dynamic_elf(path):
    """True when the 64-bit ELF file at path asks for a program interpreter (PT_INTERP): the
    busybox package's busybox does, busybox-static's does not, and the initramfs has no libc."""
    with open(path, "rb") as fh:
        head = fh.read(64)
        if head[:5] != b"\x7fELF\x02":
            return True
        phoff, = struct.unpack_from("<Q", head, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", head, 0x36)
        fh.seek(phoff)
        table = fh.read(phentsize * phnum)
    return any(struct.unpack_from("<I", table, i * phentsize)[0] == 3 for i in range(phnum))


def missing_prerequisites():
    need = [f"{CACHE}/{f}" for f in ("vmlinuz", "modules") if not os.path.exists(os.path.join(CACHE, f))]
    if need:
        need = [" and ".join(need) + " (Debian's kernel package, unpacked; FDPLUG_LINUX_CACHE moves it)"]
    if not os.access(BUSYBOX, os.X_OK) or dynamic_elf(BUSYBOX):
        need.append(f"a static {BUSYBOX} (package busybox-static)")
    need += [f"{tool} (package {pkg})" for tool, pkg in TOOLS.items() if not shutil.which(tool)]
    need += [f"{path} (package {pkg})" for path, pkg in ((LIBC_A, "libc6-dev"), (GCONV_MODULE, "libc6"),
                                                         (GCONV_CACHE, "libc6")) if not os.path.exists(path)]
    return need


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bochs", required=True, help="bochs-bin")
    ap.add_argument("--plugin", required=True, help="fdplug's libbx_floppy.so")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--variants", default="fdplug,fdplug-fast",
                    help="comma-separated: fdplug, fdplug-fast, stock, each with an optional -pio suffix")
    ap.add_argument("--timeout", type=float, default=750, help="seconds before a Bochs run is killed")
    ap.add_argument("--append", default="", help="more kernel command-line arguments")
    args = ap.parse_args()

    need = missing_prerequisites()
    if need:
        print("skip: missing " + "; ".join(need) + ". scripts/setup installs all of it.")
        return 77
    prefix, how = run_boot.isolation()
    if not prefix:
        print(f"skip: {how}; Bochs' rfb display needs an empty network namespace")
        return 77
    os.makedirs(args.workdir, exist_ok=True)
    modules = open(os.path.join(CACHE, "modules")).read().split()
    package = open(os.path.join(CACHE, "package")).read().strip() if os.path.exists(os.path.join(CACHE, "package")) else "?"
    image = run_boot.make_image(b"fdplug tests/linux floppy\n".ljust(512, b"\0"), IMAGE_SEED)
    pattern = run_boot.make_image(bytes(512), PATTERN_SEED)[512:512 + WRITE_TRACKS * 9216]
    print(f"kernel: {package}; modules: {' '.join(modules)}; floppy SHA-256 {hashlib.sha256(image).hexdigest()}")

    failures = 0
    for variant in args.variants.split(","):
        r = run(args, variant, image, pattern, modules, prefix)
        cases = check(variant, r, image, pattern)
        for case, problem, detail in cases:
            mark = "ok  " if not problem else "skip" if problem == "skip" else "FAIL"
            print(f"{mark} {variant} {case}: {detail if problem in (None, 'skip') else problem}")
        bad = sum(1 for _, p, _ in cases if p and p != "skip")
        failures += bad
        print(f"time {variant}: {r['wall']:.1f} s wall, {r['cpu']:.1f} s CPU (Bochs); "
              f"{'ok' if not bad else f'{bad} failed, see ' + r['rundir']}")
    print(f"linux test: {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
