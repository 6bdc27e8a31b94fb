// Device state over the real host: a random guest scenario (ports, the 8237, IRQ 6, the virtual
// clock) runs once uninterrupted (A); then, for each cut point, a host runs the scenario up to
// the cut, stops, saves with x-save-devices and quits; a FRESH host started with -S loads the
// file with x-load-devices, continues, and runs the rest. The qtest transcripts of the rests —
// every reply, every IRQ line, every virtual timestamp, the DMA'd memory — must be identical,
// and so must the image files at the end. Both timing modes. Then the refusals: a running
// machine, a corrupt, truncated or foreign file, another medium, another device set.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "hw/block/state/fdc_state_format.h"
#include "tests/qtest/floppy_machine.h"
#include "tests/qtest/libqtest.h"
#include "tests/qtest/scratch_dir.h"

namespace fdplug::test {
namespace {

using nlohmann::json;

constexpr int64_t kUs = 1000, kMs = 1'000'000;
constexpr uint32_t k144Bytes = 1474560, k720Bytes = 737280;

std::vector<uint8_t> image_bytes(uint32_t size, uint32_t seed) {
    std::vector<uint8_t> v(size);
    for (uint32_t i = 0; i < size; ++i) v[i] = uint8_t((i / 512) * 29 + (i % 512) * 7 + seed);
    return v;
}

std::string hex(uint64_t v) {
    char b[24];
    std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
    return b;
}

// --- the guest: qtest request lines, generated once, replayed on any host --------------------

constexpr uint32_t kBuf = 0x10000;  // the DMA buffer (page 1)

// Records port writes as qtest request lines, for the helpers of tests/support/fdc_guest.h
// that only write.
struct ScriptPorts {
    std::vector<std::string> &ops;
    uint8_t read(uint16_t port) {
        ops.push_back("inb " + hex(port));
        return 0;  // nothing is known before the replay
    }
    void write(uint16_t port, uint8_t v) { ops.push_back("outb " + hex(port) + " " + hex(v)); }
};

std::vector<std::string> make_guest(uint32_t seed, bool accurate, unsigned blocks) {
    std::mt19937 rng(seed);
    auto pick = [&](unsigned n) { return unsigned(rng() % n); };
    std::vector<std::string> ops;
    auto out = [&](uint16_t port, unsigned v) {
        ops.push_back("outb " + hex(port) + " " + hex(v & 0xFF));
    };
    auto in = [&](uint16_t port) { ops.push_back("inb " + hex(port)); };
    auto step = [&](int64_t ns) { ops.push_back("clock_step " + std::to_string(ns)); };
    auto fifo = [&](std::initializer_list<unsigned> bytes) {
        for (unsigned b : bytes) {
            in(kMsrPort);
            out(kFifoPort, b);
        }
    };
    auto results = [&](unsigned n) {
        for (unsigned i = 0; i < n; ++i) {
            in(kMsrPort);
            in(kFifoPort);
        }
    };
    ScriptPorts script{ops};
    auto dma = [&](bool to_memory, unsigned len) {
        // Sometimes left masked (a driver forgot to unmask): DRQ waits, or overruns.
        const bool masked = pick(10) == 0;
        program_dma_channel2(script, to_memory, kBuf, uint16_t(len), masked);
    };
    auto wait = [&]() {
        switch (pick(5)) {
            case 0:
                step(1 + pick(40) * kUs);
                break;
            case 1:
                step(50 * kUs + pick(500) * kUs);
                break;
            case 2:
                step(kMs + pick(20) * kMs);
                break;
            case 3:
                step(30 * kMs + pick(300) * kMs);
                break;
            default:
                step(pick(3000) + 1);
                break;
        }
    };
    uint8_t cyl = 0;
    bool pio = false;
    out(kDorPort, 0x1C);
    fifo({0x03, 0xDF, 0x02});
    step(accurate ? 500 * kMs : kMs);
    for (unsigned block = 0; block < blocks; ++block) {
        const unsigned r = pick(100);
        if (r < 7) {
            pio = pick(8) == 0;
            fifo({0x03, pick(256), ((1 + pick(6)) << 1) | (pio ? 1u : 0u)});
        } else if (r < 12) {
            fifo({0x13, 0x00, pick(2) << 6 | pick(2) << 5 | pick(16), pick(3)});
        } else if (r < 16) {
            if (pick(4) == 0) {
                out(kDorPort, 0x18);
                wait();
                out(kDorPort, 0x1C);
                step(kMs);
                for (int i = 0; i < 4; ++i) {
                    fifo({0x08});
                    results(2);
                }
            } else {
                out(kDorPort, pick(6) ? 0x1C : 0x0C);
                if (pick(2)) in(kDirPort);
            }
        } else if (r < 18) {
            out(kCcrPort, pick(10) == 0 ? pick(4) : 0);
        } else if (r < 32) {  // seeks
            if (pick(5) == 0) {
                fifo({0x07, 0x00});
                cyl = 0;
            } else {
                cyl = uint8_t(pick(5) == 0 ? pick(80) : pick(6));
                fifo({0x0F, pick(2) << 2, cyl});
            }
            for (unsigned i = pick(5); i > 0; --i) {
                wait();
                in(kMsrPort);
            }
            if (accurate && pick(4)) step(1500 * kMs);
            if (pick(5)) {
                fifo({0x08});
                results(2);
            }
        } else if (r < 36) {
            fifo({0x08});
            results(2);
        } else if (r < 41) {
            switch (pick(4)) {
                case 0:
                    fifo({0x04, pick(8)});
                    results(1);
                    break;
                case 1:
                    fifo({0x0E});
                    results(10);
                    break;
                case 2:
                    fifo({0x10});
                    results(1);
                    break;
                default:
                    fifo({pick(256)});
                    results(1);
                    break;
            }
        } else if (r < 85) {  // data commands
            const unsigned k = pick(100);
            unsigned op;
            bool to_memory = true, readid = false;
            if (k < 50)
                op = pick(3) ? 0x46 : 0xC6;
            else if (k < 70) {
                op = 0x45;
                to_memory = false;
            } else if (k < 78)
                op = 0x56;
            else if (k < 88) {
                op = 0x4A;
                readid = true;
            } else if (k < 94)
                op = 0x42;
            else {
                op = 0x51;
                to_memory = false;
            }
            const unsigned h = pick(2), sr = pick(12) == 0 ? 1 + pick(22) : 1 + pick(18),
                           nsec = 1 + pick(3);
            const unsigned c = pick(6) == 0 ? pick(8) : cyl;
            const unsigned len = pick(8) == 0 ? 1 + pick(2000) : nsec * 512;
            if (!to_memory) {
                std::string data = "0x";
                static const char digits[] = "0123456789abcdef";
                for (unsigned i = 0; i < len; ++i) {
                    const unsigned b = (i * 13 + seed + block) & 0xFF;
                    data += digits[b >> 4];
                    data += digits[b & 15];
                }
                ops.push_back("write " + hex(kBuf) + " " + hex(len) + " " + data);
            }
            if (!pio && !readid) dma(to_memory, len);
            if (readid)
                fifo({op, h << 2});
            else
                fifo({op, (h << 2) | (op == 0x56 ? 0x80u : 0u), c, h, sr, 2,
                      std::min(18u, sr + nsec - 1), 0x1B, op == 0x56 ? nsec : 0xFF});
            if (pio && !readid && op != 0x56) {
                for (unsigned i = 0, n = std::min(520u, nsec * 512); i < n; ++i) {
                    step(pick(6) == 0 ? 1 + pick(50) * kUs : 5 * kUs + pick(12) * kUs);
                    in(kMsrPort);
                    if (to_memory)
                        in(kFifoPort);
                    else
                        out(kFifoPort, i * 3 + seed);
                }
            } else if (accurate) {
                for (unsigned s = 20 + pick(80); s > 0; --s) {
                    const unsigned q = pick(20);
                    step(q < 4    ? 1 + pick(30) * kUs
                         : q < 12 ? 30 * kUs + pick(470) * kUs
                         : q < 18 ? 500 * kUs + pick(3500) * kUs
                                  : 20 * kMs + pick(80) * kMs);
                    if (pick(3) == 0) in(kMsrPort);
                    if (pick(12) == 0) in(0x08);  // 8237 status: TC and request bits
                }
            } else {
                for (unsigned s = 1 + pick(3); s > 0; --s) wait();
            }
            results(7);
            if (to_memory && !readid)
                ops.push_back("read " + hex(kBuf) + " " + hex(std::min(len, 1536u)));
            if (pick(8) == 0) {  // a driver's time-out
                out(kDsrPort, 0x80);
                step(kMs);
                for (int i = 0; i < 4; ++i) {
                    fifo({0x08});
                    results(2);
                }
            }
        } else if (r < 90) {
            if (pick(2))
                out(uint16_t(0x3F0 + pick(8)), pick(256));
            else
                in(uint16_t(0x3F0 + pick(8)));
        } else {
            wait();
        }
    }
    return ops;
}

// A guest that streams sectors under DMA and steps the clock through them 100-300 us at a time
// (accurate timing), FIFO on at a random threshold: cuts land inside sectors, between the bytes
// the 8237 moves.
std::vector<std::string> make_streaming_guest(uint32_t seed, unsigned commands) {
    std::mt19937 rng(seed);
    auto pick = [&](unsigned n) { return unsigned(rng() % n); };
    std::vector<std::string> ops;
    auto out = [&](uint16_t port, unsigned v) {
        ops.push_back("outb " + hex(port) + " " + hex(v & 0xFF));
    };
    auto in = [&](uint16_t port) { ops.push_back("inb " + hex(port)); };
    out(kDorPort, 0x1C);
    for (unsigned b : {0x03u, 0xDFu, 0x02u}) out(kFifoPort, b);
    for (unsigned b : {0x13u, 0x00u, pick(2) << 5 | pick(16), 0x00u}) out(kFifoPort, b);
    ops.push_back("clock_step " + std::to_string(500 * kMs));
    for (unsigned k = 0; k < commands; ++k) {
        const bool write = pick(3) == 0;
        const unsigned r = 1 + pick(17), h = pick(2), nsec = 1 + pick(2), len = nsec * 512;
        if (write)
            ops.push_back("write " + hex(kBuf) + " " + hex(len) + " 0x" +
                          std::string(len * 2, "0123456789abcdef"[k % 16]));
        ScriptPorts script{ops};
        program_dma_channel2(script, !write, kBuf, uint16_t(len));
        for (unsigned b : {write ? 0x45u : 0x46u, h << 2, 0u, h, r, 2u, std::min(18u, r + nsec - 1),
                           0x1Bu, 0xFFu})
            out(kFifoPort, b);
        for (unsigned i = 0; i < 1400; ++i) {
            ops.push_back("clock_step " + std::to_string(100 * kUs + pick(200) * kUs + pick(1000)));
            if (pick(8) == 0) in(kMsrPort);
        }
        for (int i = 0; i < 7; ++i) {
            in(kMsrPort);
            in(kFifoPort);
        }
        if (!write) ops.push_back("read " + hex(kBuf) + " " + hex(len));
    }
    return ops;
}

// --- hosts ------------------------------------------------------------------------------------

struct HostSetup {
    std::string timing;
    std::string img0, img1;  // unit 0 (1.44M), unit 1 (720K, read-only)
    std::string args() const {
        return floppy_plugin_args() + "-machine pc -m 16M -nodefaults" +
               " -drive if=floppy,index=0,format=raw,file=" + img0 +
               " -drive if=floppy,index=1,format=raw,readonly=on,file=" + img1 +
               " -global isa-fdc.timing=" + timing;
    }
};

json qmp_ok(QTestState &q, const std::string &cmd) {
    json r = q.qmp(cmd);
    EXPECT_TRUE(r.contains("return")) << cmd << " -> " << r.dump();
    return r;
}

std::string qmp_error(QTestState &q, const std::string &cmd) {
    json r = q.qmp(cmd);
    EXPECT_TRUE(r.contains("error")) << cmd << " -> " << r.dump();
    return r.contains("error") ? r["error"].value("desc", "") : "";
}

std::string save_cmd(const std::string &file) {
    return "{'execute':'x-save-devices','arguments':{'filename':'" + file + "'}}";
}
std::string load_cmd(const std::string &file) {
    return "{'execute':'x-load-devices','arguments':{'filename':'" + file + "'}}";
}

// The transcript from line `from`, clock replies made relative to `base`.
std::vector<std::string> rest(const std::vector<std::string> &t, size_t from, int64_t base) {
    std::vector<std::string> out;
    bool clock_reply = false;
    for (size_t i = from; i < t.size(); ++i) {
        std::string line = t[i];
        if (line.starts_with("> "))
            clock_reply = line.starts_with("> clock_step") || line.starts_with("> clock_set");
        else if (clock_reply && line.starts_with("< OK ")) {
            line = "< OK +" + std::to_string(std::strtoll(line.c_str() + 5, nullptr, 10) - base);
            clock_reply = false;
        }
        out.push_back(line);
    }
    return out;
}

int64_t clock_of(const std::vector<std::string> &t, size_t upto) {
    int64_t now = 0;
    bool clock_reply = false;
    for (size_t i = 0; i < upto && i < t.size(); ++i) {
        if (t[i].starts_with("> "))
            clock_reply = t[i].starts_with("> clock_step") || t[i].starts_with("> clock_set");
        else if (clock_reply && t[i].starts_with("< OK ")) {  // IRQ lines may come between
            now = std::strtoll(t[i].c_str() + 5, nullptr, 10);
            clock_reply = false;
        }
    }
    return now;
}

bool irq6_of(const std::vector<std::string> &t, size_t upto) {
    bool level = false;
    for (size_t i = 0; i < upto && i < t.size(); ++i) {
        if (t[i] == "< IRQ raise 6") level = true;
        if (t[i] == "< IRQ lower 6") level = false;
    }
    return level;
}

// The cut points one test checked, by what the host showed there. Each test keeps its own and
// checks its own minimum, so that no test depends on another having run.
struct Tally {
    unsigned cuts = 0;
    std::map<std::string, unsigned> kinds;
};

// Prints the tally to the test's log and checks at least `min_cuts` cuts, `minima` of them of
// each kind named.
void expect_tally(const Tally &t, unsigned min_cuts,
                  std::initializer_list<std::pair<const char *, unsigned>> minima) {
    std::printf("%u cut points, each over a fresh host\n", t.cuts);
    for (const auto &[k, v] : t.kinds) std::printf("    %-36s %u\n", k.c_str(), v);
    EXPECT_GE(t.cuts, min_cuts) << "cut points";
    for (const auto &[kind, min] : minima) {
        const auto it = t.kinds.find(kind);
        EXPECT_GE(it == t.kinds.end() ? 0u : it->second, min) << kind;
    }
}

void check_ops(uint32_t seed, bool accurate, const std::vector<std::string> &ops, unsigned cuts,
               Tally &tally) {
    ScratchDir dir;
    const std::vector<uint8_t> base0 = image_bytes(k144Bytes, seed),
                               base1 = image_bytes(k720Bytes, seed + 1);
    HostSetup s{accurate ? "accurate" : "fast", dir.path("a0.img"), dir.path("a1.img")};
    write_file(s.img0, base0);
    write_file(s.img1, base1);

    // A, uninterrupted. P, the same with an MSR read between the operations (no side effect),
    // to find cut points in every phase.
    std::vector<std::string> a_transcript;
    std::vector<size_t> a_at(ops.size() + 1);
    std::map<std::string, std::vector<size_t>> by_msr;
    {
        QTestState a(s.args());
        ASSERT_TRUE(a.ok()) << a.error();
        a.irq_intercept_in("ioapic");
        for (size_t i = 0; i < ops.size(); ++i) {
            a_at[i] = a.transcript().size();
            a.request(ops[i]);
        }
        a_at[ops.size()] = a.transcript().size();
        a_transcript = a.transcript();
    }
    const std::vector<uint8_t> a_img0 = read_file(s.img0);
    write_file(s.img0, base0);
    {
        QTestState p(s.args());
        ASSERT_TRUE(p.ok()) << p.error();
        p.irq_intercept_in("ioapic");
        for (size_t i = 0; i < ops.size(); ++i) {
            if (i > 0) {
                const uint8_t msr = p.inb(kMsrPort);
                const char *k = (msr & 0x0F)           ? "a seek running"
                                : (msr & 0xD0) == 0xD0 ? "result phase"
                                : (msr & 0x30) == 0x30 ? "PIO execution"
                                : (msr & 0x90) == 0x10 ? "DMA execution"
                                : (msr & 0xD0) == 0x90 ? "command bytes"
                                                       : "idle";
                by_msr[k].push_back(i);
                // After a clock step (never inside a DMA programming sequence) the 8237's count
                // can be read without changing anything: clear the flip-flop, read both bytes.
                if (ops[i - 1].starts_with("clock_step") && (msr & 0xB0) == 0x10) {
                    QtestPorts ports{p};
                    const unsigned left = dma_channel2_count(ports);
                    if (left != 0xFFFF && (left + 1) % 512 != 0)
                        by_msr["DMA mid-sector"].push_back(i);
                }
            }
            p.request(ops[i]);
        }
    }
    std::mt19937 rng(seed * 31 + 7);
    std::set<size_t> at;
    for (auto &[k, list] : by_msr) {
        std::shuffle(list.begin(), list.end(), rng);
        for (size_t i = 0; i < list.size() && i < cuts / 6 + 1; ++i) at.insert(list[i]);
    }
    while (at.size() < cuts) at.insert(1 + rng() % (ops.size() - 1));

    unsigned n = 0;
    for (size_t cut : at) {
        ++n;
        const std::string img = dir.path("b0.img"), state = dir.path("cut.state");
        write_file(img, base0);
        HostSetup sb = s;
        sb.img0 = img;
        // B1: the prefix, stop, save, look at what was cut, quit.
        {
            QTestState b1(sb.args());
            ASSERT_TRUE(b1.ok()) << b1.error();
            b1.irq_intercept_in("ioapic");
            for (size_t i = 0; i < cut; ++i) b1.request(ops[i]);
            qmp_ok(b1, "{'execute':'stop'}");
            qmp_ok(b1, save_cmd(state));
            // What the cut found (the host quits right after: these looks change nothing that
            // counts).
            const uint8_t msr = b1.inb(kMsrPort);
            QtestPorts ports{b1};
            const unsigned left = dma_channel2_count(ports);
            const int64_t now = b1.clock_step(0), next = b1.clock_step();
            if (msr & 0x0F) ++tally.kinds["mid-seek"];
            if ((msr & 0xD0) == 0xD0) ++tally.kinds["result phase"];
            if ((msr & 0x30) == 0x30) ++tally.kinds["PIO execution"];
            if ((msr & 0xB0) == 0x10) {
                ++tally.kinds["DMA execution"];
                if (left != 0xFFFF && (left + 1) % 512 != 0)
                    ++tally.kinds["DMA execution, channel mid-sector"];
            }
            if ((msr & 0x90) == 0x90 && !(msr & 0x40) && (msr & 0x10))
                ++tally.kinds["mid command bytes"];
            if (next > now) ++tally.kinds["timer pending"];
        }
        // B2: a fresh host, stopped, loads and goes on; its clock where A's was, or elsewhere.
        QTestState b2(sb.args() + " -S");
        ASSERT_TRUE(b2.ok()) << b2.error();
        b2.irq_intercept_in("ioapic");
        const int64_t a0 = clock_of(a_transcript, a_at[cut]);
        const int64_t b0 = n % 2 ? a0 : (n % 4 == 0 ? 0 : a0 + 1'234'567'890'123);
        if (b0 > 0) {
            ASSERT_EQ(b2.clock_set(b0), b0);
        }
        json r = b2.qmp(load_cmd(state));
        ASSERT_TRUE(r.contains("return")) << "seed " << seed << " cut " << cut << ": " << r.dump();
        b2.request("readb 0x0");  // collects the IRQ line the load drove
        EXPECT_EQ(irq6_of(b2.transcript(), b2.transcript().size()),
                  irq6_of(a_transcript, a_at[cut]))
            << "IRQ 6 at the cut";
        qmp_ok(b2, "{'execute':'cont'}");
        const size_t from = b2.transcript().size();
        for (size_t i = cut; i < ops.size(); ++i) b2.request(ops[i]);
        const std::vector<std::string> ra = rest(a_transcript, a_at[cut], a0),
                                       rb = rest(b2.transcript(), from, b0);
        size_t k = 0;
        while (k < ra.size() && k < rb.size() && ra[k] == rb[k]) ++k;
        ASSERT_TRUE(k == ra.size() && k == rb.size())
            << "seed " << seed << " (" << s.timing << ") cut at op " << cut << " of " << ops.size()
            << ": line " << k << " of " << ra.size()
            << " differs:\n  A: " << (k < ra.size() ? ra[k] : "(end)")
            << "\n  B: " << (k < rb.size() ? rb[k] : "(end)")
            << "\n  after: " << (k > 0 ? ra[k - 1] : "");
        b2.quit();
        EXPECT_TRUE(read_file(img) == a_img0) << "the image after the run, cut " << cut;
        ++tally.cuts;
    }
}

void check_guest(uint32_t seed, bool accurate, unsigned blocks, unsigned cuts, Tally &tally) {
    check_ops(seed, accurate, make_guest(seed, accurate, blocks), cuts, tally);
}

// Each test checks the cut points it reached itself: about half of what its seeds give for the
// moments it is there for.

TEST(StateOverTheHost, StreamingSectorsAccurate) {
    Tally tally;
    check_ops(31, true, make_streaming_guest(31, 3), 24, tally);
    if (HasFatalFailure()) return;
    expect_tally(tally, 24,
                 {{"DMA execution", 5},
                  {"DMA execution, channel mid-sector", 4},
                  {"result phase", 3},
                  {"timer pending", 5}});
}

TEST(StateOverTheHost, RandomGuestAccurate) {
    Tally tally;
    for (uint32_t seed = 1; seed <= 2; ++seed) {
        check_guest(seed, true, 45, 24, tally);
        if (HasFatalFailure()) return;
    }
    expect_tally(tally, 48,
                 {{"DMA execution", 10},
                  {"DMA execution, channel mid-sector", 6},
                  {"PIO execution", 3},
                  {"mid command bytes", 6},
                  {"mid-seek", 5},
                  {"result phase", 5},
                  {"timer pending", 15}});
}

TEST(StateOverTheHost, RandomGuestFast) {
    Tally tally;
    for (uint32_t seed = 11; seed <= 12; ++seed) {
        check_guest(seed, false, 45, 16, tally);
        if (HasFatalFailure()) return;
    }
    expect_tally(tally, 32,
                 {{"DMA execution", 6},
                  {"DMA execution, channel mid-sector", 6},
                  {"mid command bytes", 3},
                  {"mid-seek", 3},
                  {"result phase", 4}});
}

// --- refusals ---------------------------------------------------------------------------------

class Refusals : public ::testing::Test {
  protected:
    void SetUp() override {
        s = HostSetup{"accurate", dir.path("r0.img"), dir.path("r1.img")};
        write_file(s.img0, image_bytes(k144Bytes, 5));
        write_file(s.img1, image_bytes(k720Bytes, 6));
        state = dir.path("good.state");
        // A state in the middle of a DMA read with a seek pending on it.
        QTestState q(s.args());
        ASSERT_TRUE(q.ok()) << q.error();
        for (const std::string &line : make_guest(77, true, 12)) q.request(line);
        qmp_ok(q, "{'execute':'stop'}");
        qmp_ok(q, save_cmd(state));
    }
    // A stopped host that must refuse `file`, and is unchanged afterwards: what it saves before
    // and after the refusal is the same, byte for byte.
    void expect_refused(const std::string &file, const std::string &args,
                        const std::string &in_error) {
        QTestState q(args + " -S");
        ASSERT_TRUE(q.ok()) << q.error();
        q.clock_step(3 * kMs);
        qmp_ok(q, save_cmd(dir.path("before.state")));
        const std::string error = qmp_error(q, load_cmd(file));
        EXPECT_NE(error.find(in_error), std::string::npos) << "error: " << error;
        qmp_ok(q, save_cmd(dir.path("after.state")));
        EXPECT_TRUE(read_file(dir.path("before.state")) == read_file(dir.path("after.state")))
            << "the refused load changed the machine";
    }
    ScratchDir dir;
    HostSetup s;
    std::string state;
};

TEST_F(Refusals, WhileRunning) {
    QTestState q(s.args());
    ASSERT_TRUE(q.ok()) << q.error();
    EXPECT_NE(qmp_error(q, save_cmd(dir.path("x.state"))).find("the machine is running"),
              std::string::npos);
    EXPECT_NE(qmp_error(q, load_cmd(state)).find("the machine is running"), std::string::npos);
    EXPECT_FALSE(std::filesystem::exists(dir.path("x.state")));
}

TEST_F(Refusals, CorruptTruncatedOrForeignFiles) {
    const std::vector<uint8_t> good = read_file(state);
    ASSERT_GT(good.size(), 100u);
    std::vector<uint8_t> b = good;
    b[good.size() / 2] ^= 0x04;
    write_file(dir.path("flip.state"), b);
    expect_refused(dir.path("flip.state"), s.args(), "corrupt");
    b.assign(good.begin(), good.begin() + std::ptrdiff_t(good.size() - 7));
    write_file(dir.path("short.state"), b);
    expect_refused(dir.path("short.state"), s.args(), "corrupt");
    write_file(dir.path("foreign.state"), std::vector<uint8_t>(100, 'x'));
    expect_refused(dir.path("foreign.state"), s.args(), "not a device state file");
    expect_refused(dir.path("missing.state"), s.args(), "cannot open");
}

TEST_F(Refusals, AnotherMedium) {
    std::vector<uint8_t> img = read_file(s.img0);
    img[700000] ^= 1;
    HostSetup other = s;
    other.img0 = dir.path("other.img");
    write_file(other.img0, img);
    expect_refused(state, other.args(), "drives[0].media.fingerprint");
}

TEST_F(Refusals, AnotherDeviceSetOrConfiguration) {
    HostSetup one = s;
    const std::string without_b =
        floppy_plugin_args() +
        "-machine pc -m 16M -nodefaults -drive if=floppy,index=0,format=raw,file=" + s.img0 +
        " -global isa-fdc.timing=accurate";
    expect_refused(state, without_b, "drives[1]");
    expect_refused(state, s.args() + " -device isa-fdc,iobase=0x370,irq=5,dma=3,id=fdc2",
                   "does not fit this machine");
    HostSetup fast = s;
    fast.timing = "fast";
    expect_refused(state, fast.args(), "config.timing");
    std::string small = s.args();
    small.replace(small.find("-m 16M"), 6, "-m 8M");
    expect_refused(state, small, "same -m");
}

// Bytes of the fields before the first string (the media sources) in a blob of `version`.
size_t fixed_width(uint32_t version) {
    size_t n = 0;
    for (const floppy::state_format::FieldDescription &f :
         floppy::state_format::describe(version)) {
        if (f.kind == "string") break;
        n += f.width;
    }
    return n;
}

// `file`, a host file (system/machine_state.h), as a build of state format version 1 would have
// written it: its isa-fdc blob at version 1 — each field where the current version has it (a
// buffer that grew since: its first bytes), the fields version 2 dropped put back as the zeros
// version 1 always held there (docs/state.md §3).
std::vector<uint8_t> with_version1_floppy_blob(const std::vector<uint8_t> &file) {
    namespace sf = floppy::state_format;
    auto get = [](const std::vector<uint8_t> &b, size_t at, int bytes) {
        uint32_t v = 0;
        for (int i = 0; i < bytes; ++i) v |= uint32_t(b[at + size_t(i)]) << (8 * i);
        return v;
    };
    auto put = [](std::vector<uint8_t> &b, size_t at, uint32_t v) {
        for (int i = 0; i < 4; ++i) b[at + size_t(i)] = uint8_t(v >> (8 * i));
    };
    // The entries: u8 kind, u8 flags, u16 + name, u16 + type, u32 blob length; then the blobs.
    size_t at = 16, blobs_before = 0, length_at = 0;
    for (uint32_t i = 0, n = get(file, 12, 4); i < n; ++i) {
        const size_t type_at = at + 4 + get(file, at + 2, 2);
        const size_t len_at = type_at + 2 + get(file, type_at, 2);
        if (std::string(file.begin() + long(type_at + 2), file.begin() + long(len_at)) == "isa-fdc")
            length_at = len_at;
        else if (!length_at)
            blobs_before += get(file, len_at, 4);
        at = len_at + 4;
    }
    EXPECT_NE(length_at, 0u) << "no isa-fdc in the file";
    const size_t blob_at = at + blobs_before, blob_len = get(file, length_at, 4);
    const std::vector<uint8_t> now(file.begin() + long(blob_at),
                                   file.begin() + long(blob_at + blob_len));

    // Every field that changed between the versions lies before the first string.
    std::map<std::string, size_t> offset;  // in the current blob, by path
    size_t from = sf::kHeaderSize;
    for (const sf::FieldDescription &f : sf::describe()) {
        if (f.kind == "string") break;
        offset[f.path] = from;
        from += f.width;
    }
    std::vector<uint8_t> v1(now.begin(), now.begin() + sf::kHeaderSize);
    for (const sf::FieldDescription &f : sf::describe(1)) {
        if (f.kind == "string") break;
        if (f.until) {
            v1.insert(v1.end(), f.width, 0);
        } else {
            const size_t at = offset.at(f.path);
            v1.insert(v1.end(), now.begin() + long(at), now.begin() + long(at + f.width));
        }
    }
    v1.insert(v1.end(), now.begin() + long(from), now.end() - sf::kTrailerSize);
    put(v1, 8, 1);
    put(v1, 12, uint32_t(v1.size() - sf::kHeaderSize));
    v1.resize(v1.size() + 4);
    put(v1, v1.size() - 4, sf::crc32(std::span(v1).first(v1.size() - 4)));

    std::vector<uint8_t> out(file.begin(), file.begin() + long(blob_at));
    out.insert(out.end(), v1.begin(), v1.end());
    out.insert(out.end(), file.begin() + long(blob_at + blob_len), file.end() - 4);
    put(out, length_at, uint32_t(v1.size()));
    out.resize(out.size() + 4);
    put(out, out.size() - 4, sf::crc32(std::span(out).first(out.size() - 4)));
    return out;
}

// A host file saved by a build of state format version 1 still loads, and the machine goes on
// exactly as from the file this build writes.
TEST_F(Refusals, AFileWithAVersion1FloppyStateLoadsTheSame) {
    const std::vector<uint8_t> now = read_file(state), v1 = with_version1_floppy_blob(now);
    ASSERT_EQ(v1.size() + fixed_width(floppy::state_format::kVersion), now.size() + fixed_width(1))
        << "version 1's fields in place of the current version's";
    write_file(dir.path("v1.state"), v1);
    const std::vector<uint8_t> image = read_file(s.img0);
    std::vector<std::string> rests[2];
    for (int k = 0; k < 2; ++k) {
        write_file(s.img0, image);  // the medium as saved: the rest writes to it
        QTestState q(s.args() + " -S");
        ASSERT_TRUE(q.ok()) << q.error();
        q.irq_intercept_in("ioapic");
        qmp_ok(q, load_cmd(k ? dir.path("v1.state") : state));
        qmp_ok(q, "{'execute':'cont'}");
        const size_t from = q.transcript().size();
        for (const std::string &line : make_guest(78, true, 12)) q.request(line);
        rests[k] = rest(q.transcript(), from, 0);
    }
    EXPECT_GT(rests[0].size(), 1000u);
    EXPECT_TRUE(rests[0] == rests[1]) << "the version 1 file runs on differently";
}

// The good state does load, and its rest runs.
TEST_F(Refusals, TheGoodStateLoads) {
    QTestState q(s.args() + " -S");
    ASSERT_TRUE(q.ok()) << q.error();
    qmp_ok(q, load_cmd(state));
    qmp_ok(q, "{'execute':'cont'}");
    q.clock_step(2000 * kMs);
}

}  // namespace
}  // namespace fdplug::test
