// Small POSIX helpers the file-backed media backends share (raw image files, host drives):
// EINTR-safe open/pread/pwrite, a descriptor guard, errno texts. No floppy knowledge.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

namespace fdplug::floppy::posix {

// strerror() text of an errno value, e.g. "No such file or directory".
std::string errno_text(int err);
// 'path', for messages.
std::string quoted(const std::string &path);

// Closes the descriptor unless it was handed on. Moves, never copies (one owner per fd).
struct FdGuard {
    int fd;
    explicit FdGuard(int descriptor) : fd(descriptor) {}
    FdGuard(FdGuard &&other) noexcept : fd(other.release()) {}
    FdGuard &operator=(FdGuard &&) = delete;
    ~FdGuard();
    int release() { return std::exchange(fd, -1); }
};

// open(2), retried on EINTR.
int open_retry(const std::string &path, int flags);
// Reads until `len` bytes or end of file; the count, or -1 with errno set.
ssize_t pread_full(int fd, uint8_t *buf, size_t len, uint64_t offset);
// Writes all `len` bytes; false with errno set (EIO when the kernel made no progress).
bool pwrite_full(int fd, const uint8_t *buf, size_t len, uint64_t offset);
// "a directory", "a FIFO (named pipe)", … for a st_mode that is not what was asked for.
const char *file_kind(mode_t mode);

}  // namespace fdplug::floppy::posix
