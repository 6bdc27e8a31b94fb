// Permission tests as root: root opens any file read-write, so a read-only or unreadable file
// needs another user. without_privileges() runs a body as `nobody` in a child when the tests run
// as root, in-process otherwise, and hands back the body's result as an exit code.
#pragma once

#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <optional>

namespace fdplug::floppy::test {

// `body`'s result (0-99); nullopt when root's privileges could not be dropped. The directories
// on the way to the files it opens must be searchable by `nobody` (chmod 0755).
inline std::optional<int> without_privileges(const std::function<int()> &body) {
    constexpr int kNoPrivilegeDrop = 100;
    if (::geteuid() != 0) return body();
    const pid_t pid = ::fork();
    if (pid == 0) {
        if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0)
            ::_exit(kNoPrivilegeDrop);
        ::_exit(body());
    }
    int status = 0;
    if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) == kNoPrivilegeDrop)
        return std::nullopt;
    return WEXITSTATUS(status);
}

}  // namespace fdplug::floppy::test
