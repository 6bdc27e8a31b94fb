/* fdcraw for tests/linux's initramfs (docs/linux.md): raw commands to the floppy controller at
 * 0x3F0, from user space through ioperm(), after floppy.ko has been unloaded. It stands in for
 * fdutils' fdrawcmd, whose FDRAWCMD ioctl Debian's 6.1 kernel does not have
 * (CONFIG_BLK_DEV_FD_RAWCMD is not set). run_linux.py builds it with `gcc -static`.
 *
 * It runs one fixed sequence on drive 0 (which holds a 1.44 MB disk) and prints every answer as
 * key=hex-bytes fields on one line, for run_linux.py to compare with what
 * docs/hardware/82077aa.md documents; it judges nothing itself. A step whose handshake does
 * not complete within 3 seconds prints stuck=STEP and ends the line there.
 *
 * Handshake (docs/hardware/82077aa.md §3): a byte goes to the FIFO when MSR reads RQM = 1 and
 * DIO = 0, comes from it when RQM = 1 and DIO = 1; the command is over when CB drops. Without
 * floppy.ko nothing services IRQ 6, so the program polls MSR and collects interrupt statuses
 * with SENSE INTERRUPT itself.
 */
#include <stdio.h>
#include <string.h>
#include <sys/io.h>
#include <time.h>
#include <unistd.h>

enum { BASE = 0x3F0, DOR = BASE + 2, MSR = BASE + 4, FIFO = BASE + 5, CCR = BASE + 7 };
enum { RQM = 0x80, DIO = 0x40, CB = 0x10 };

static char line[4096];
static const char *stuck;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void field(const char *key, const unsigned char *b, int n) {
    size_t len = strlen(line);
    snprintf(line + len, sizeof line - len, "%s%s=", len ? " " : "", key);
    for (int i = 0; i < n; i++) {
        len = strlen(line);
        snprintf(line + len, sizeof line - len, "%s%02X", i ? "," : "", b[i]);
    }
    if (n == 0) strncat(line, "-", sizeof line - strlen(line) - 1);
}

/* Waits until MSR has RQM; returns MSR, or -1 after 3 seconds. */
static int ready(void) {
    double end = now() + 3.0;
    for (;;) {
        int msr = inb(MSR);
        if (msr & RQM) return msr;
        if (now() > end) return -1;
        usleep(50);
    }
}

/* One command: its bytes out, then its result bytes in until CB drops. Returns the number of
 * result bytes, or -1 when the handshake stalls (stuck names the command). */
static int command(const char *name, const unsigned char *out, int n, unsigned char *res, int max) {
    for (int i = 0; i < n; i++) {
        int msr = ready();
        if (msr < 0 || (msr & DIO)) {
            stuck = name;
            return -1;
        }
        outb(out[i], FIFO);
    }
    int got = 0;
    for (;;) {
        int msr = ready();
        if (msr < 0) {
            stuck = name;
            return -1;
        }
        if (!(msr & DIO)) {
            /* RQM without DIO: the controller waits for a new command (CB clear), or for a
             * byte it will never get (CB set: the command was cut short). */
            if (msr & CB) {
                stuck = name;
                return -1;
            }
            return got;
        }
        unsigned char b = inb(FIFO);
        if (got < max) res[got] = b;
        got++;
    }
}

/* Runs a command and prints its result under key. */
static int run(const char *key, const unsigned char *out, int n) {
    unsigned char res[16];
    int got = command(key, out, n, res, sizeof res);
    if (got < 0) return -1;
    field(key, res, got < 16 ? got : 16);
    return 0;
}

/* SENSE INTERRUPT until one returns more than the invalid-command byte 0x80, polling for up to
 * 3 seconds (a seek's end). */
static int sense_until_status(const char *key) {
    unsigned char si = 0x08, res[2];
    double end = now() + 3.0;
    for (;;) {
        int got = command(key, &si, 1, res, 2);
        if (got < 0) return -1;
        if (got == 2) {
            field(key, res, 2);
            return 0;
        }
        if (now() > end) {
            stuck = key;
            return -1;
        }
        usleep(1000);
    }
}

/* A software reset through DOR bit 2 (drive 0 selected, its motor on, DMA gate on), then the
 * four polling statuses and the fifth SENSE INTERRUPT's 0x80 (§8). */
static int reset(const char *key) {
    outb(0x18, DOR);
    usleep(100);
    outb(0x1C, DOR);
    usleep(20000); /* polling raises INT 250 us after the reset ends (timing.md §9) */
    unsigned char st0[5], si = 0x08, res[2];
    for (int i = 0; i < 5; i++) {
        int got = command(key, &si, 1, res, 2);
        if (got < 1) return -1;
        st0[i] = res[0];
    }
    field(key, st0, 5);
    return 0;
}

int main(void) {
    if (ioperm(BASE, 8, 1) < 0) {
        perror("ioperm");
        return 1;
    }
    static const unsigned char version[] = {0x10}, dumpreg[] = {0x0E}, lock[] = {0x94},
                               unlock[] = {0x14};
    static const unsigned char specify[] = {0x03, 0xDF, 0x02},
                               configure[] = {0x13, 0x00, 0x4A, 0x05};
    static const unsigned char perp_d0[] = {0x12, 0x84}, perp_gap[] = {0x12, 0x03},
                               perp_off[] = {0x12, 0x80};
    static const unsigned char recal[] = {0x07, 0x00}, seek5[] = {0x0F, 0x00, 0x05};
    static const unsigned char sense0[] = {0x04, 0x00}, sense0h1[] = {0x04, 0x04},
                               sense1[] = {0x04, 0x01};
    static const unsigned char readid0[] = {0x4A, 0x00}, readid1[] = {0x4A, 0x04};
    outb(0x00, CCR); /* 500 kbit/s, the 1.44 MB disk's rate */
    if (reset("reset") || run("version", version, 1) || run("specify", specify, 3) ||
        run("configure", configure, 4) || run("perpendicular", perp_d0, 2) ||
        run("lock", lock, 1) || run("dumpreg", dumpreg, 1) || reset("reset_locked") ||
        run("dumpreg_locked", dumpreg, 1) || run("unlock", unlock, 1) ||
        run("perpendicular_gap", perp_gap, 2) || run("dumpreg_gap", dumpreg, 1) ||
        reset("reset_unlocked") || run("dumpreg_unlocked", dumpreg, 1) ||
        run("perpendicular_off", perp_off, 2) || run("dumpreg_off", dumpreg, 1) ||
        run("recalibrate", recal, 2) || sense_until_status("recalibrate_sense") ||
        run("sense_drive", sense0, 2) || run("sense_drive_head1", sense0h1, 2) ||
        run("sense_drive_b", sense1, 2) || run("read_id", readid0, 2) ||
        run("read_id_head1", readid1, 2) || run("seek", seek5, 3) ||
        sense_until_status("seek_sense") || run("sense_drive_c5", sense0, 2) ||
        run("read_id_c5", readid0, 2)) {
        size_t len = strlen(line);
        snprintf(line + len, sizeof line - len, "%sstuck=%s msr=%02X", len ? " " : "",
                 stuck ? stuck : "?", inb(MSR));
    }
    puts(line);
    return 0;
}
