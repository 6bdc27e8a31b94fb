/* fdformat for tests/linux's initramfs (docs/linux.md): formats every track of a floppy through
 * the Linux floppy driver's FDFMTBEG / FDFMTTRK / FDFMTEND ioctls, then reads the whole disk
 * back and counts the bytes that are not the driver's fill byte. Debian 12's busybox and
 * util-linux ship no fdformat; run_linux.py builds this one with `gcc -static` (the initramfs has
 * no libc of its own for it).
 *
 * usage: fdformat DEVICE
 * Prints one line of key=value fields on stdout (geometry, tracks formatted, bytes read back,
 * bytes that differ from the fill byte) and exits 0 when every step worked; on a failed step it
 * prints what failed, with errno's text, on stderr and exits 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fd.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int fail(const char *what, unsigned track, unsigned head) {
    fprintf(stderr, "%s (track %u head %u): %s\n", what, track, head, strerror(errno));
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: fdformat DEVICE\n");
        return 2;
    }
    int fd = open(argv[1], O_RDWR);
    if (fd < 0) return fail("open", 0, 0);
    /* One sector first: on a drive without a fixed format the driver learns the medium's
     * geometry by autodetection on the first read, and FDGETPRM then reports it. */
    static unsigned char buf[64 * 1024];
    if (read(fd, buf, 512) != 512) return fail("read of sector 0", 0, 0);
    struct floppy_struct g;
    if (ioctl(fd, FDGETPRM, &g) < 0) return fail("FDGETPRM", 0, 0);
    if (ioctl(fd, FDFMTBEG, 0) < 0) return fail("FDFMTBEG", 0, 0);
    unsigned formatted = 0;
    for (unsigned track = 0; track < g.track; track++) {
        for (unsigned head = 0; head < g.head; head++) {
            struct format_descr d = {.device = 0, .head = head, .track = track};
            if (ioctl(fd, FDFMTTRK, &d) < 0) return fail("FDFMTTRK", track, head);
            formatted++;
        }
    }
    if (ioctl(fd, FDFMTEND, 0) < 0) return fail("FDFMTEND", 0, 0);
    /* Read back from the disk, not from the page cache that still holds sector 0. */
    if (ioctl(fd, BLKFLSBUF, 0) < 0) return fail("BLKFLSBUF", 0, 0);
    if (lseek(fd, 0, SEEK_SET) != 0) return fail("lseek", 0, 0);
    unsigned long total = 0, other = 0;
    size_t chunk = (size_t)g.sect * 512;
    if (chunk == 0 || chunk > sizeof buf) chunk = 512;
    for (;;) {
        ssize_t n = read(fd, buf, chunk);
        if (n < 0) return fail("read back", (unsigned)(total / 512 / g.sect / g.head), 0);
        if (n == 0) break;
        for (ssize_t i = 0; i < n; i++) other += buf[i] != FD_FILL_BYTE;
        total += (unsigned long)n;
    }
    close(fd);
    printf("geometry=%ux%ux%u tracks=%u bytes=%lu notfill=%lu\n", g.track, g.head, g.sect,
           formatted, total, other);
    return 0;
}
