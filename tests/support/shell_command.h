// A shell command line run by a test: its exit status and everything it printed (stdout and
// stderr together). For the independent tools the tests check fdplug against (MAME's floptool)
// and for starting the host without sockets.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace fdplug::test {

struct ShellResult {
    int status;  // the exit status, -1 when the command could not run or was killed
    std::string output;
};

inline ShellResult run_shell(const std::string &command) {
    ShellResult r{-1, ""};
    FILE *p = ::popen((command + " 2>&1").c_str(), "r");
    if (!p) return r;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
    const int status = ::pclose(p);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

// The shell finds `name` on the PATH.
inline bool have_command(const std::string &name) {
    return run_shell("command -v " + name).status == 0;
}

}  // namespace fdplug::test
