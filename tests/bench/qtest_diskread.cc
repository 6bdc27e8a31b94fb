// Whole-disk DMA read over qtest, the same client for fdplug-host and QEMU: starts the emulator
// with `-qtest unix:SOCKET -qtest-log none` appended to the given command line (libqtest's
// way: the client listens, the emulator connects), intercepts the ioapic's IRQs, then reads the
// 1.44 MB disk RUNS times with tests/bench/floppy_driver.h (SEEK + SENSE INTERRUPT, 8237
// programming, MT READ of a whole cylinder, the `read` of guest memory) and checks every byte
// against the image. Only the reads are timed, not the emulator's start.
//
// The client never steps the clock: QEMU 7.2 in Debian has no qtest accelerator (it runs with
// -accel tcg -S, where clock_step is refused), so both hosts run the controller in its
// immediate mode (QEMU's only one; fdplug-host with -global isa-fdc.timing=fast).
//
// usage: bench_qtest_diskread [--runs N] [--json FILE] [--label NAME] IMAGE BINARY [ARGS...]
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/bench/floppy_driver.h"

namespace fdplug::bench {
namespace {

[[noreturn]] void die(const std::string &what) {
    std::fprintf(stderr, "bench_qtest_diskread: %s\n", what.c_str());
    std::exit(1);
}

class QtestIo {
  public:
    QtestIo(const std::string &binary, std::vector<std::string> args) {
        const char *tmp = std::getenv("TMPDIR");
        path_ = std::string(tmp && *tmp ? tmp : "/tmp") + "/fdplug-bench-qtest-" +
                std::to_string(getpid()) + ".sock";
        unlink(path_.c_str());
        const int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
        if (lfd < 0 || bind(lfd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) < 0 ||
            listen(lfd, 1) < 0)
            die("cannot listen on " + path_ + ": " + std::strerror(errno));
        args.insert(args.end(), {"-qtest", "unix:" + path_, "-qtest-log", "none"});
        pid_ = fork();
        if (pid_ == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            std::vector<char *> argv;
            argv.push_back(const_cast<char *>(binary.c_str()));
            for (auto &a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            execvp(binary.c_str(), argv.data());
            _exit(127);
        }
        for (int i = 0; i < 300 && fd_ < 0; ++i) {
            pollfd p{lfd, POLLIN, 0};
            if (poll(&p, 1, 100) > 0) fd_ = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
            int status;
            if (fd_ < 0 && waitpid(pid_, &status, WNOHANG) == pid_)
                die(binary + " exited before connecting");
        }
        close(lfd);
        unlink(path_.c_str());
        if (fd_ < 0) die(binary + " did not connect to the qtest socket");
        if (request("endianness") != "OK little") die("unexpected endianness reply");
        if (request("irq_intercept_in ioapic") != "OK") die("irq_intercept_in ioapic refused");
    }
    ~QtestIo() {
        if (fd_ >= 0) close(fd_);
        if (pid_ > 0) {
            kill(pid_, SIGTERM);
            int status;
            waitpid(pid_, &status, 0);
        }
    }

    uint64_t round_trips() const { return round_trips_; }

    std::string request(const std::string &line) {
        ++round_trips_;
        out_ = line;
        out_ += '\n';
        for (size_t sent = 0; sent < out_.size();) {
            const ssize_t n = send(fd_, out_.data() + sent, out_.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) die("cannot send '" + line + "'");
            sent += size_t(n);
        }
        for (;;) {
            std::string reply = read_line();
            if (reply.starts_with("IRQ raise ") || reply.starts_with("IRQ lower ")) {
                const unsigned n = unsigned(std::strtoul(reply.c_str() + 10, nullptr, 0));
                if (n < 16) irq_[n] = reply[4] == 'r';
                continue;
            }
            return reply;
        }
    }

    // The backend FloppyDriver wants.
    uint8_t inb(uint16_t port) { return uint8_t(value_of(request("inb " + hex(port)))); }
    void outb(uint16_t port, uint8_t v) {
        const std::string r = request("outb " + hex(port) + " " + hex(v));
        if (r != "OK") die("outb: " + r);
    }
    bool irq(unsigned line) {
        // As libqtest's get_irq: a dummy access first, so that an IRQ line the emulator sent
        // since the last reply has been read (port 0x80, POST codes: no side effects).
        if (!irq_[line]) inb(0x80);
        return irq_[line];
    }
    bool step_next() { return false; }
    void memread(uint64_t addr, std::span<uint8_t> out) {
        const std::string r = request("read " + hex(addr) + " " + hex(out.size()));
        if (!r.starts_with("OK 0x") || r.size() != 5 + 2 * out.size())
            die("read: unexpected reply of " + std::to_string(r.size()) + " bytes");
        const char *p = r.data() + 5;
        for (size_t i = 0; i < out.size(); ++i)
            out[i] = uint8_t(nibble(p[2 * i]) << 4 | nibble(p[2 * i + 1]));
    }

  private:
    static int nibble(char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; }
    static std::string hex(uint64_t v) {
        char b[24];
        std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
        return b;
    }
    static uint64_t value_of(const std::string &reply) {
        if (!reply.starts_with("OK ")) die("unexpected reply '" + reply + "'");
        return std::strtoull(reply.c_str() + 3, nullptr, 0);
    }
    std::string read_line() {
        for (;;) {
            const size_t nl = buf_.find('\n', pos_);
            if (nl != std::string::npos) {
                std::string line = buf_.substr(pos_, nl - pos_);
                pos_ = nl + 1;
                if (pos_ == buf_.size()) buf_.clear(), pos_ = 0;
                return line;
            }
            pollfd p{fd_, POLLIN, 0};
            if (poll(&p, 1, 30000) <= 0) die("timed out waiting for a reply");
            char chunk[65536];
            const ssize_t n = read(fd_, chunk, sizeof chunk);
            if (n <= 0) die("the emulator closed the connection");
            buf_.append(chunk, size_t(n));
        }
    }

    std::string path_, buf_, out_;
    size_t pos_ = 0;
    pid_t pid_ = -1;
    int fd_ = -1;
    bool irq_[16] = {};
    uint64_t round_trips_ = 0;
};

int run(int argc, char **argv) {
    int runs = 3;
    std::string json_path, label;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; ++i) {
        if (!std::strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = std::max(1, std::atoi(argv[++i]));
        else if (!std::strcmp(argv[i], "--json") && i + 1 < argc)
            json_path = argv[++i];
        else if (!std::strcmp(argv[i], "--label") && i + 1 < argc)
            label = argv[++i];
        else
            die("unknown option " + std::string(argv[i]));
    }
    if (argc - i < 2)
        die("usage: bench_qtest_diskread [--runs N] [--json FILE] [--label NAME] IMAGE BINARY "
            "[ARGS...]");
    std::ifstream in(argv[i], std::ios::binary);
    const std::vector<uint8_t> image((std::istreambuf_iterator<char>(in)), {});
    if (image.size() != Geometry144::kDiskBytes)
        die(std::string(argv[i]) + " is not a 1.44 MB image");
    const std::string binary = argv[i + 1];
    if (label.empty()) label = binary.substr(binary.rfind('/') + 1);
    QtestIo io(binary, std::vector<std::string>(argv + i + 2, argv + argc));

    std::vector<double> times;
    std::vector<uint8_t> disk(Geometry144::kDiskBytes);
    uint64_t trips = 0;
    for (int r = 0; r < runs; ++r) {
        std::fill(disk.begin(), disk.end(), 0);
        FloppyDriver<QtestIo> drv(io);
        const uint64_t trips0 = io.round_trips();
        const auto t0 = std::chrono::steady_clock::now();
        drv.start();
        drv.seek(-1);
        drv.read_disk(0x10000, disk);
        const auto t1 = std::chrono::steady_clock::now();
        if (!drv.ok()) die(label + ": " + drv.error());
        if (disk != image) die(label + ": the data read differ from the image");
        trips = io.round_trips() - trips0;
        times.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    std::vector<double> sorted = times;
    std::sort(sorted.begin(), sorted.end());
    const double median = sorted[sorted.size() / 2];
    std::printf(
        "%s: whole-disk DMA read over qtest: median %.1f ms, min %.1f ms over %d runs (%llu qtest "
        "round trips per read, %.2f us each)\n",
        label.c_str(), median, sorted.front(), runs, static_cast<unsigned long long>(trips),
        median * 1000.0 / double(trips));
    if (!json_path.empty()) {
        std::ofstream out(json_path);
        out << "{\"label\": \"" << label << "\", \"median_ms\": " << median
            << ", \"min_ms\": " << sorted.front() << ", \"runs\": " << runs
            << ", \"round_trips\": " << trips << "}\n";
    }
    return 0;
}

}  // namespace
}  // namespace fdplug::bench

int main(int argc, char **argv) {
    return fdplug::bench::run(argc, argv);
}
