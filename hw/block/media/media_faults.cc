#include "hw/block/media/media_faults.h"

#include <unistd.h>

#include <cerrno>

#include "hw/block/media/posix_io.h"

namespace fdplug::floppy {

ssize_t read_with_faults(const MediaFaultsPtr &faults, int fd, uint8_t *buf, size_t len,
                         uint64_t offset) {
    if (faults && faults->take_read()) {
        errno = EIO;
        return -1;
    }
    return posix::pread_full(fd, buf, len, offset);
}

int sync_with_faults(const MediaFaultsPtr &faults, int fd) {
    if (faults && faults->take_flush()) {
        errno = EIO;
        return -1;
    }
    int rc;
    do rc = ::fdatasync(fd);
    while (rc != 0 && errno == EINTR);
    return rc;
}

}  // namespace fdplug::floppy
