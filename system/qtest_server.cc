#include "system/qtest_server.h"

#include <glib.h>

#include <cerrno>
#include <cinttypes>
#include <cstdlib>

#include "system/virtual_clock.h"

namespace fdplug {

namespace {

// qemu_strtou64(…, 0): the whole word must be a number.
std::optional<uint64_t> parse_u64(const std::string &word) {
    if (word.empty() || word[0] == '-') return std::nullopt;
    errno = 0;
    char *end = nullptr;
    const unsigned long long v = std::strtoull(word.c_str(), &end, 0);
    if (errno || *end) return std::nullopt;
    return v;
}

std::vector<std::string> split_words(std::string_view line) {
    std::vector<std::string> words(1);
    for (char c : line) {
        if (c == ' ')
            words.emplace_back();
        else
            words.back() += c;
    }
    return words;
}

std::string hex_bytes(std::span<const uint8_t> bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string s;
    s.reserve(bytes.size() * 2);
    for (uint8_t b : bytes) {
        s += digits[b >> 4];
        s += digits[b & 15];
    }
    return s;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string format(const char *fmt, auto... args) {
    char buf[64];
    std::snprintf(buf, sizeof buf, fmt, args...);
    return buf;
}

struct Access {
    const char *name;
    unsigned size;
};
constexpr Access kPortReads[] = {{"inb", 1}, {"inw", 2}, {"inl", 4}};
constexpr Access kPortWrites[] = {{"outb", 1}, {"outw", 2}, {"outl", 4}};
constexpr Access kMemReads[] = {{"readb", 1}, {"readw", 2}, {"readl", 4}, {"readq", 8}};
constexpr Access kMemWrites[] = {{"writeb", 1}, {"writew", 2}, {"writel", 4}, {"writeq", 8}};

const Access *find(std::span<const Access> table, const std::string &name) {
    for (const Access &a : table)
        if (name == a.name) return &a;
    return nullptr;
}

}  // namespace

QtestServer::QtestServer(QtestTarget &target, Chardev &chardev, std::string log_path)
    : target_(target), chardev_(chardev) {
    if (log_path == "/dev/fd/2") {
        log_ = stderr;
    } else if (!log_path.empty() && log_path != "none") {
        log_ = std::fopen(log_path.c_str(), "w");
        close_log_ = log_ != nullptr;
    }
    start_us_ = g_get_monotonic_time();
    chardev_.set_client(this);
}

QtestServer::~QtestServer() {
    chardev_.set_client(nullptr);
    if (close_log_) std::fclose(log_);
}

void QtestServer::log(const char *tag, bool relative, const std::string &text) {
    if (!log_) return;
    const int64_t us = g_get_monotonic_time() - start_us_;
    std::fprintf(log_, "[%s %s%" PRId64 ".%06" PRId64 "] %s\n", tag, relative ? "+" : "",
                 us / 1000000, us % 1000000, text.c_str());
    std::fflush(log_);
}

void QtestServer::send(const std::string &text) {
    if (capture_) {
        *capture_ += text;
        return;
    }
    chardev_.write(text);
}

void QtestServer::chardev_opened() {
    levels_.assign(levels_.size(), false);  // QEMU forgets cached levels on open
    start_us_ = g_get_monotonic_time();
    if (log_) {  // QEMU stamps OPENED with the wall-clock time, the other lines relative to it
        const int64_t wall_us = g_get_real_time();
        std::fprintf(log_, "[I %" PRId64 ".%06" PRId64 "] OPENED\n", wall_us / 1000000,
                     wall_us % 1000000);
        std::fflush(log_);
    }
}

void QtestServer::chardev_closed() {
    input_.clear();
    log("I", true, "CLOSED");
}

void QtestServer::chardev_received(std::string_view bytes) {
    input_.append(bytes);
    size_t nl;
    while ((nl = input_.find('\n')) != std::string::npos) {
        const std::string line = input_.substr(0, nl);
        input_.erase(0, nl + 1);
        log("R", true, line);
        const std::string reply = execute(split_words(line));
        log("S", true, reply.substr(0, reply.size() - 1));
        send(reply);
        if (!chardev_.connected()) return;
    }
    if (input_.size() > (1u << 20)) {  // a "line" of a megabyte is no request
        send("FAIL request line too long\n");
        input_.clear();
    }
}

std::string QtestServer::handle_line(std::string_view line) {
    std::string out;
    capture_ = &out;
    out += execute(split_words(line));
    capture_ = nullptr;
    return out;
}

void QtestServer::intercepted_pin_changed(const std::string &path, unsigned pin, bool level) {
    if (path != intercepted_path_ || intercept_out_) return;
    if (pin >= levels_.size()) levels_.resize(pin + 1, false);
    if (levels_[pin] == level) return;
    levels_[pin] = level;
    const std::string line = format("IRQ %s %u", level ? "raise" : "lower", pin);
    log("S", true, line);
    send(line + "\n");
}

std::string QtestServer::execute(const std::vector<std::string> &w) {
    const std::string &cmd = w[0];
    auto need = [&](size_t n) { return w.size() >= n; };
    auto bad = [](const std::string &why) { return "FAIL " + why + "\n"; };

    if (const Access *a = find(kPortWrites, cmd)) {
        if (!need(3)) return bad(cmd + " needs PORT and VALUE");
        auto port = parse_u64(w[1]), value = parse_u64(w[2]);
        if (!port || *port > 0xFFFF) return bad("bad port '" + w[1] + "'");
        if (!value) return bad("bad value '" + w[2] + "'");
        target_.port_write(uint16_t(*port), uint32_t(*value), a->size);
        return "OK\n";
    }
    if (const Access *a = find(kPortReads, cmd)) {
        if (!need(2)) return bad(cmd + " needs PORT");
        auto port = parse_u64(w[1]);
        if (!port || *port > 0xFFFF) return bad("bad port '" + w[1] + "'");
        return format("OK 0x%04x\n", target_.port_read(uint16_t(*port), a->size));
    }
    if (const Access *a = find(kMemWrites, cmd)) {
        if (!need(3)) return bad(cmd + " needs ADDR and VALUE");
        auto addr = parse_u64(w[1]), value = parse_u64(w[2]);
        if (!addr || !value) return bad("bad number in '" + cmd + "'");
        uint8_t bytes[8];
        for (unsigned i = 0; i < a->size; ++i) bytes[i] = uint8_t(*value >> (8 * i));
        target_.mem_write(*addr, std::span<const uint8_t>(bytes, a->size));
        return "OK\n";
    }
    if (const Access *a = find(kMemReads, cmd)) {
        if (!need(2)) return bad(cmd + " needs ADDR");
        auto addr = parse_u64(w[1]);
        if (!addr) return bad("bad address '" + w[1] + "'");
        uint8_t bytes[8] = {};
        target_.mem_read(*addr, std::span<uint8_t>(bytes, a->size));
        uint64_t v = 0;
        for (unsigned i = 0; i < a->size; ++i) v |= uint64_t(bytes[i]) << (8 * i);
        return format("OK 0x%016" PRIx64 "\n", v);
    }
    if (cmd == "read" || cmd == "b64read") {
        if (!need(3)) return bad(cmd + " needs ADDR and SIZE");
        auto addr = parse_u64(w[1]), size = parse_u64(w[2]);
        if (!addr || !size || *size == 0) return bad("bad address or size");
        if (*size > (64u << 20)) return bad("size over 64 MiB");
        std::vector<uint8_t> data(*size);
        target_.mem_read(*addr, data);
        if (cmd == "read") return "OK 0x" + hex_bytes(data) + "\n";
        gchar *b64 = g_base64_encode(data.data(), data.size());
        std::string reply = std::string("OK ") + b64 + "\n";
        g_free(b64);
        return reply;
    }
    if (cmd == "write" || cmd == "b64write") {
        if (!need(4)) return bad(cmd + " needs ADDR, SIZE and DATA");
        auto addr = parse_u64(w[1]), size = parse_u64(w[2]);
        if (!addr || !size) return bad("bad address or size");
        if (*size > (64u << 20)) return bad("size over 64 MiB");
        if (w[3].size() < 3) return "ERR invalid argument size\n";
        std::vector<uint8_t> data(*size, 0);  // missing trailing bytes are written as 0
        if (cmd == "write") {
            const std::string &hex = w[3];
            if (hex[0] != '0' || (hex[1] != 'x' && hex[1] != 'X'))
                return bad("data must start with 0x");
            for (size_t i = 0; i < *size && 2 + 2 * i + 1 < hex.size(); ++i) {
                const int hi = hex_value(hex[2 + 2 * i]), lo = hex_value(hex[3 + 2 * i]);
                if (hi < 0 || lo < 0) return bad("bad hex data");
                data[i] = uint8_t(hi << 4 | lo);
            }
        } else {
            gsize len = 0;
            guchar *decoded = g_base64_decode(w[3].c_str(), &len);
            if (len != *size)
                log("S", true,
                    format("b64write: data length mismatch %zu != %zu", size_t(len),
                           size_t(*size)));
            std::copy_n(decoded, std::min<size_t>(len, *size), data.begin());
            g_free(decoded);
        }
        target_.mem_write(*addr, data);
        return "OK\n";
    }
    if (cmd == "memset") {
        if (!need(4)) return bad("memset needs ADDR, SIZE and BYTE");
        auto addr = parse_u64(w[1]), size = parse_u64(w[2]), byte = parse_u64(w[3]);
        if (!addr || !size || !byte) return bad("bad number in memset");
        if (*size > (64u << 20)) return bad("size over 64 MiB");
        std::vector<uint8_t> data(*size, uint8_t(*byte));
        if (!data.empty()) target_.mem_write(*addr, data);
        return "OK\n";
    }
    if (cmd == "clock_step") {
        VirtualClock &clock = target_.clock();
        if (clock.mode() != VirtualClock::Mode::Manual)
            return bad("clock_step needs -accel qtest (the clock follows the host otherwise)");
        int64_t dest;
        if (w.size() >= 2) {
            auto ns = parse_u64(w[1]);
            if (!ns || *ns > uint64_t(INT64_MAX - clock.now()))
                return bad("bad step '" + w[1] + "'");
            dest = clock.now() + int64_t(*ns);
        } else {
            dest = clock.next_deadline().value_or(clock.now());  // 7.2: no timer, no move
        }
        clock.step_to(dest);
        return format("OK %" PRId64 "\n", clock.now());
    }
    if (cmd == "clock_set") {
        VirtualClock &clock = target_.clock();
        if (clock.mode() != VirtualClock::Mode::Manual)
            return bad("clock_set needs -accel qtest (the clock follows the host otherwise)");
        if (!need(2)) return bad("clock_set needs NS");
        auto ns = parse_u64(w[1]);
        if (!ns || *ns > uint64_t(INT64_MAX)) return bad("bad time '" + w[1] + "'");
        clock.step_to(int64_t(*ns));  // a time in the past is a no-op, as in 7.2
        return format("OK %" PRId64 "\n", clock.now());
    }
    if (cmd == "endianness") return "OK little\n";
    if (cmd == "irq_intercept_in" || cmd == "irq_intercept_out") {
        if (!need(2)) return bad(cmd + " needs a QOM path");
        auto path = target_.resolve_path(w[1]);
        if (!path) return "FAIL Unknown device\n";
        const bool out = cmd == "irq_intercept_out";
        if (!intercepted_path_.empty()) {
            if (*path == intercepted_path_ && out == intercept_out_) return "OK\n";
            return "FAIL IRQ intercept already enabled\n";
        }
        intercepted_path_ = *path;
        intercept_out_ = out;
        levels_.assign(out ? 0 : target_.gpio_in_count(*path), false);
        return "OK\n";
    }
    if (cmd == "set_irq_in") {
        if (!need(5)) return bad("set_irq_in needs PATH NAME NUM LEVEL");
        auto path = target_.resolve_path(w[1]);
        if (!path) return "FAIL Unknown device\n";
        if (w[2] != "unnamed-gpio-in") return bad("no GPIO list named '" + w[2] + "'");
        auto pin = parse_u64(w[3]);
        char *end = nullptr;
        const long level = std::strtol(w[4].c_str(), &end, 0);
        if (!pin || *end || w[4].empty()) return bad("bad pin or level");
        if (*pin >= target_.gpio_in_count(*path)) return bad("pin " + w[3] + " out of range");
        target_.set_gpio_in(*path, unsigned(*pin), level != 0);
        return "OK\n";
    }
    if (cmd == "module_load") return "OK\n";  // nothing is modular here
    return "FAIL Unknown command '" + cmd + "'\n";
}

}  // namespace fdplug
