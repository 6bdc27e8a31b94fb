// Test-only fault injection for the file-backed media backends (raw images, host drives).
// A drive can be told that the next N flushes, or the next N sector reads (the boot-sector read
// at open included), of the media opened for it fail with EIO. The backend's own code runs; only
// the system call's result is replaced, so tests reach the real error paths (a failing
// fdatasync, a failing read) without a mock. Every count is 0 unless a test sets one
// (the `floppy` device's x-fail-flush / x-fail-read properties).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>

namespace fdplug::floppy {

struct MediaFaults {
    uint32_t fail_flushes = 0;
    uint32_t fail_reads = 0;

    // true when this flush (read) is to fail; each use spends one.
    bool take_flush() { return take(fail_flushes); }
    bool take_read() { return take(fail_reads); }

  private:
    static bool take(uint32_t &left) {
        if (left == 0) return false;
        --left;
        return true;
    }
};

// Shared by a drive and whatever media it opens, so a count outlives one image.
using MediaFaultsPtr = std::shared_ptr<MediaFaults>;

// The backends' system calls, with the faults applied: posix::pread_full (bytes read, or -1
// with errno), and fdatasync retried on EINTR (0, or -1 with errno). `faults` may be null.
ssize_t read_with_faults(const MediaFaultsPtr &faults, int fd, uint8_t *buf, size_t len,
                         uint64_t offset);
int sync_with_faults(const MediaFaultsPtr &faults, int fd);

}  // namespace fdplug::floppy
