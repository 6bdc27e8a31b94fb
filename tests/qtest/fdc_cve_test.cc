// Guest-side regression sweeps for the floppy-controller CVEs of docs/security.md#fdc-cves,
// against the real fdplug-host with fdplug-floppy: port I/O, the 8237 and QMP only, as a guest
// and a management client would. Each test batches its cases in one or two host processes and
// ends every case with a reset that must give a working controller (MSR 0x80, VERSION 0x90).
// The upstream replays (fuzz/cve_2021_20196, fuzz/cve_2021_3507) are in fdc_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/qtest/floppy_machine.h"
#include "tests/qtest/libqtest.h"
#include "tests/qtest/scratch_dir.h"

namespace fdplug::test {
namespace {

using nlohmann::json;

// MSR with the drive-busy bits masked: idle, parameters due, result, PIO read, PIO write.
constexpr uint8_t kIdle = msr::kRqm, kParams = msr::kRqm | msr::kCb,
                  kResult = msr::kRqm | msr::kDio | msr::kCb,
                  kPioIn = msr::kRqm | msr::kDio | msr::kNonDma | msr::kCb,
                  kPioOut = msr::kRqm | msr::kNonDma | msr::kCb;
constexpr uint32_t k144 = 1474560, k720 = 737280;
constexpr int64_t kMs = 1'000'000;

// An image whose every byte depends on its sector and offset, so a misplaced sector shows.
std::string make_image(const ScratchDir &dir, const std::string &name, uint32_t bytes) {
    std::vector<uint8_t> data(bytes);
    for (uint32_t i = 0; i < bytes; ++i)
        data[i] = uint8_t((i / 512) * 29 + (i % 512) * 7 + (i >> 17) + 0x11);
    const std::string path = dir.path(name);
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char *>(data.data()), std::streamsize(data.size()));
    return path;
}

std::vector<uint8_t> slice(const std::vector<uint8_t> &v, size_t from, size_t n) {
    return std::vector<uint8_t>(v.begin() + long(from), v.begin() + long(from + n));
}

// --- the command table of docs/hardware/82077aa.md §5, transcribed independently of the model ----

struct Spec {
    int in, out;  // bytes including the opcode; result bytes (SIS: 2 with a status pending)
    bool data;    // a drive command with a data/ID phase (ends with a 7-byte result)
};

Spec spec(uint8_t op) {
    const uint8_t m1f = op & 0x1F, mbf = op & 0xBF;
    if (m1f == 0x06 || m1f == 0x0C || m1f == 0x16 || m1f == 0x11 || m1f == 0x19 || m1f == 0x1D ||
        m1f == 0x05 || (op & 0x3F) == 0x09 || mbf == 0x02)
        return {9, 7, true};
    if (mbf == 0x0D) return {6, 7, true};
    if (mbf == 0x0A) return {2, 7, true};
    if (mbf == 0x8F) return {3, 0, false};  // RELATIVE SEEK
    switch (op) {
        case 0x07:
            return {2, 0, false};
        case 0x0F:
            return {3, 0, false};
        case 0x08:
            return {1, 1, false};  // nothing pending in these sweeps: the one byte 0x80
        case 0x03:
            return {3, 0, false};
        case 0x04:
            return {2, 1, false};
        case 0x13:
            return {4, 0, false};
        case 0x0E:
            return {1, 10, false};
        case 0x10:
            return {1, 1, false};
        case 0x12:
            return {2, 0, false};
        default:
            break;
    }
    return {1, 1, false};  // LOCK/UNLOCK, and every invalid opcode (incl. the 82078's 0x8E, 0x4E…)
}

// --- the guest ----------------------------------------------------------------------------

// The host and guest of floppy_machine.h, plus the sweeps' reset check and result reads.
class Guest : public FloppyMachine {
  public:
    using FloppyMachine::FloppyMachine;

    uint8_t phase() { return msr() & 0xF0; }  // without the drive-busy bits
    uint8_t version() {
        send(0x10);
        const auto r = result();
        return r.size() == 1 ? r[0] : 0;
    }
    void specify(bool pio) { send_all({0x03, 0xDF, uint8_t(pio ? 0x03 : 0x02)}); }

    // The anchors' closing check: a DOR reset pulse gives MSR 0x80 and VERSION 0x90; the four
    // polling statuses (C0..C3) are collected, then nothing is pending.
    void reset_and_check(const std::string &ctx) {
        q.outb(kDorPort, 0x08);
        q.outb(kDorPort, 0x0C);
        EXPECT_EQ(msr(), 0x80) << ctx << ": MSR after reset";
        q.clock_step(kMs);  // the polls come 250 µs after the reset under accurate timing
        EXPECT_EQ(version(), 0x90) << ctx << ": VERSION after reset";
        EXPECT_EQ(msr(), 0x80) << ctx;
        for (uint8_t u = 0; u < 4; ++u) {
            send(0x08);
            const auto r = result();  // ST0, PCN (a software reset keeps the PCNs)
            EXPECT_TRUE(r.size() == 2 && r[0] == (0xC0 | u))
                << ctx << ": polling status " << json(r).dump();
        }
        send(0x08);
        EXPECT_EQ(result(), std::vector<uint8_t>{0x80}) << ctx << ": nothing left pending";
        EXPECT_FALSE(irq()) << ctx;
    }

    // Bytes the channel has moved since dma(…, len); at TC the count reads 0xFFFF: all of them.
    unsigned dma_moved(uint16_t len) { return unsigned(uint16_t(len - 1 - dma_count())); }
    void memset(uint32_t addr, uint32_t size, uint8_t v) {
        EXPECT_EQ(q.request("memset " + hex(addr) + " " + hex(size) + " " + hex(v)), "OK");
    }

    void qmp_ok(const std::string &command, const json &arguments = json::object()) {
        const json r = qmp(command, arguments);
        EXPECT_TRUE(r.contains("return"))
            << command << " " << arguments.dump() << " -> " << r.dump();
    }
    json geometry(const std::string &id) {
        const json d = drive(id);
        return d.is_object() ? d.value("geometry", json()) : json();
    }
    // Steps the clock until INT or the limit; false if it never came.
    bool step_until_irq(int64_t limit_ns) {
        const int64_t end = q.clock_step(0) + limit_ns;
        while (!irq()) {
            const int64_t t = q.clock_step(kMs);
            if (t >= end) return irq();
        }
        return true;
    }
};

// ============================================================================================
// CVE-2015-3456 (VENOM): every opcode followed by a flood of FIFO writes
// ============================================================================================
//
// Repetitions. Each qtest request is one round trip (about 9 µs here, 18 µs under ASan) and
// libqtest has no batched form, so 256 opcodes × 10 000 bytes × 3 variants would take minutes.
// Without the handshake, the opcodes the CVE and docs/security.md#fdc-cves name — READ ID (0x0A,
// 0x4A), the 82078's DRIVE SPECIFICATION (0x8E) and RESTORE (0x4E), plus 0x00 and 0xFF — get the
// full 10 000 bytes, every other opcode 600 (more than QEMU's 512-byte FIFO plus its longest
// command, so an unbounded index would have run past such a buffer). With the handshake every byte
// costs an MSR read too and the bytes after the first command only form more commands, so 0x0A and
// 0x8E get 10 000 bytes and the others 64 (several commands after the first).
//
// The filler 0x42 is the VENOM proof of concept's byte. As a drive-select byte it names the
// absent drive 2, so every drive command ends at once (IC=01, MA); as an opcode it is READ
// TRACK (9 bytes in, 7 out). What the guest must see after an unchecked flood is therefore
// exact: the first command's own result, or for a command without one the READ TRACK that the
// next nine bytes formed, and nothing after it — the rest of the flood was dropped.

constexpr uint8_t kFiller = 0x42;
bool full_length(unsigned op) {
    return op == 0x0A || op == 0x4A || op == 0x8E || op == 0x4E || op == 0x00 || op == 0xFF;
}
bool full_length_handshake(unsigned op) {
    return op == 0x0A || op == 0x8E;
}

class Venom : public ::testing::Test {
  protected:
    void SetUp() override {
        img_ = make_image(dir_, "a.img", k144);
        // Drive 0 holds a medium; units 1–3 are absent.
        g_ =
            std::make_unique<Guest>("-machine pc -drive if=floppy,format=raw,file=" + img_ + kFast);
        ASSERT_TRUE(g_->ok()) << g_->q.error();
    }
    // The state between opcodes: the guest's reset check, then a hardware reset over QMP so that
    // SPECIFY, LOCK and PERPENDICULAR left by one opcode do not change the next.
    void end_case(const std::string &ctx) {
        g_->reset_and_check(ctx);
        g_->qmp_ok("system_reset");
        ASSERT_EQ(g_->msr(), 0x80) << ctx;
    }
    // The result an unchecked flood must leave (see above).
    static std::vector<uint8_t> expected_after_flood(uint8_t op, int *len) {
        const Spec s = spec(op);
        *len = s.out ? s.out : 7;
        if (s.data || s.out == 0) return {0x42, st1::kMa, 0x00};  // ST0 IC=01 drive 2; ST1 MA; ST2
        if (op == 0x10) return {0x90};
        if ((op & 0x7F) == 0x14) return {uint8_t(op & 0x80 ? 0x10 : 0x00)};
        if (op == 0x04) return {0x7A};  // ST3 of absent drive 2: WP, 1, T0, two-sided, DS=2
        if (op == 0x0E) return {};      // DUMPREG: checked by length
        return {0x80};                  // invalid, and SIS with nothing pending
    }
    void flood(unsigned op, int bytes, bool dsr) {
        const std::string ctx = "opcode " + hex(op) + (dsr ? " (DSR interleaved)" : "") + ", " +
                                std::to_string(bytes) + " bytes";
        if (dsr)
            g_->q.outw(kDsrPort, uint16_t(op << 8));
        else
            g_->q.outb(kFifoPort, uint8_t(op));
        for (int i = 0; i < bytes; ++i) {
            // outw 0x3f4 writes DSR (rate and precompensation only: no reset, no power-down)
            // then the FIFO, the fuzzers' word-write pattern.
            if (dsr)
                g_->q.outw(kDsrPort, uint16_t(kFiller << 8 | (i & 0x1F)));
            else
                g_->q.outb(kFifoPort, kFiller);
        }
        ASSERT_EQ(g_->q.request("endianness"), "OK little") << ctx << ": the host survived";
        int len = 0;
        const std::vector<uint8_t> want = expected_after_flood(uint8_t(op), &len);
        EXPECT_EQ(g_->phase(), kResult) << ctx << ": not still taking parameters";
        const std::vector<uint8_t> r = g_->result();
        EXPECT_EQ(int(r.size()), len) << ctx;
        EXPECT_TRUE(r.size() >= want.size() && std::equal(want.begin(), want.end(), r.begin()))
            << ctx << ": result " << json(r).dump();
        EXPECT_EQ(g_->phase(), kIdle) << ctx << ": the rest of the flood was dropped";
        if (dsr) g_->q.outb(kDsrPort, 0x00);  // back to 500 kbit/s
        end_case(ctx);
    }

    ScratchDir dir_;
    std::string img_;
    std::unique_ptr<Guest> g_;
};

TEST_F(Venom, EveryOpcodeThenAFloodIgnoringMsr) {
    for (unsigned op = 0; op < 256; ++op) {
        flood(op, full_length(op) ? 10000 : 600, false);
        if (HasFatalFailure()) return;
    }
}

TEST_F(Venom, EveryOpcodeThenAFloodWithDsrWritesInterleaved) {
    for (unsigned op = 0; op < 256; ++op) {
        flood(op, full_length(op) ? 10000 : 600, true);
        if (HasFatalFailure()) return;
    }
}

// With RQM/DIO respected: a byte is written only when MSR asks for one, every result byte is
// read. After each byte MSR must show parameters still due exactly until the command has had
// its table length, and the result must have the table length.
TEST_F(Venom, EveryOpcodeThenAFloodRespectingTheHandshake) {
    size_t commands = 0;
    for (unsigned op = 0; op < 256; ++op) {
        const std::string ctx = "opcode " + hex(op) + " with the handshake";
        const int total = full_length_handshake(op) ? 10000 : 64;
        int written = 0, in_cmd = 0;
        Spec cur{};
        uint8_t m = g_->phase();
        bool bad = false;
        while (written < total && !bad) {
            ASSERT_EQ(m, in_cmd == 0 ? kIdle : kParams) << ctx << ": MSR after byte " << written;
            const uint8_t b = written == 0 ? uint8_t(op) : kFiller;
            if (in_cmd == 0) cur = spec(b);
            g_->q.outb(kFifoPort, b);
            ++written;
            ++in_cmd;
            m = g_->phase();
            if (in_cmd < cur.in) {
                if (m != kParams) {
                    ADD_FAILURE() << ctx << ": command " << hex(written == in_cmd ? op : kFiller)
                                  << " ended after " << in_cmd << " bytes, table says " << cur.in
                                  << " (MSR " << hex(m) << ")";
                    bad = true;
                }
                continue;
            }
            // The command has all its bytes: no further byte may be taken as a parameter.
            ++commands;
            in_cmd = 0;
            if (cur.out == 0) {
                if (m != kIdle) {
                    ADD_FAILURE() << ctx << ": MSR " << hex(m)
                                  << " after a command without result, byte " << written;
                    bad = true;
                }
                continue;
            }
            if (m != kResult) {
                ADD_FAILURE() << ctx << ": MSR " << hex(m) << " instead of a result, byte "
                              << written;
                bad = true;
                continue;
            }
            const size_t n = g_->result().size();
            if (int(n) != cur.out) {
                ADD_FAILURE() << ctx << ": " << n << " result bytes, table says " << cur.out
                              << " (byte " << written << ")";
                bad = true;
            }
            m = g_->phase();
        }
        end_case(ctx);
        if (HasFatalFailure()) return;
    }
    std::printf("handshake sweep: %zu commands checked\n", commands);
}

// ============================================================================================
// CVE-2020-25741 / CVE-2021-20196 (b): the drive goes away in the middle of a transfer
// ============================================================================================
//
// PIO and DMA WRITE, READ and FORMAT of C0 H0 R1 N2 (EOT 1, or one sector formatted) on the
// medium in drive 0, cut in the middle of the data phase by one of:
//   - DOR selecting absent drive 1, 2 or 3 (motor 0 and DMA GATE kept);
//   - DOR 0x05, the upstream reproducer's value (drive 1, motors off, DMA GATE off), with DOR
//     0x1C written back 50 ms later;
//   - QMP floppy-release-image, or eject.
// PIO runs under timing=fast, where the guest paces the bytes; DMA under the accurate timing,
// where the channel moves one byte per 16 µs of virtual time, so that "mid-transfer" exists.

enum class Cut { Dor1, Dor2, Dor3, DorUpstream, Release, Eject };
const char *cut_name(Cut c) {
    switch (c) {
        case Cut::Dor1:
            return "DOR selects absent drive 1";
        case Cut::Dor2:
            return "DOR selects absent drive 2";
        case Cut::Dor3:
            return "DOR selects absent drive 3";
        case Cut::DorUpstream:
            return "DOR 0x05 (upstream)";
        case Cut::Release:
            return "floppy-release-image";
        case Cut::Eject:
            return "eject";
    }
    return "";
}
constexpr Cut kCuts[] = {Cut::Dor1,        Cut::Dor2,    Cut::Dor3,
                         Cut::DorUpstream, Cut::Release, Cut::Eject};
enum class Op { Write, Read, Format };
const char *op_name(Op o) {
    return o == Op::Write ? "WRITE" : o == Op::Read ? "READ" : "FORMAT";
}

class MidTransfer : public ::testing::Test {
  protected:
    void SetUp() override {
        img_ = make_image(dir_, "a.img", k144);
        want_ = read_file(img_);
    }
    void cut(Guest &g, Cut c) {
        switch (c) {
            case Cut::Dor1:
                g.q.outb(kDorPort, 0x1D);
                break;
            case Cut::Dor2:
                g.q.outb(kDorPort, 0x1E);
                break;
            case Cut::Dor3:
                g.q.outb(kDorPort, 0x1F);
                break;
            case Cut::DorUpstream:
                g.q.outb(kDorPort, 0x05);
                break;
            case Cut::Release:
                g.qmp_ok("floppy-release-image", {{"id", "floppy0"}});
                break;
            case Cut::Eject:
                g.qmp_ok("eject", {{"device", "floppy0"}});
                break;
        }
    }
    void restore(Guest &g, Cut c) {
        if (c == Cut::Release)
            g.qmp_ok("floppy-attach-image", {{"id", "floppy0"}, {"filename", img_}});
        if (c == Cut::Eject)
            g.qmp_ok("blockdev-change-medium",
                     {{"device", "floppy0"}, {"filename", img_}, {"format", "raw"}});
    }
    std::vector<uint8_t> case_data(int n) {
        std::vector<uint8_t> d(512);
        for (size_t i = 0; i < d.size(); ++i) d[i] = uint8_t(i * 13 + n * 7 + 1);
        return d;
    }
    // After the case: the reset check, the medium back, and a DMA READ of sector 1 that must
    // return what the file is expected to hold now.
    void check_working(Guest &g, Cut c, bool accurate, const std::string &ctx) {
        g.reset_and_check(ctx);
        restore(g, c);
        g.q.outb(kDorPort, 0x1C);
        g.specify(false);
        g.memset(0x20000, 512, 0);
        g.dma(true, 0x20000, 512);
        g.send_all({0x46, 0x00, 0, 0, 1, 2, 1, 0x1B, 0xFF});
        EXPECT_TRUE(g.step_until_irq(accurate ? 2000 * kMs : kMs))
            << ctx << ": the follow-up READ ended";
        const auto r = g.result();
        EXPECT_EQ(r.size(), 7u) << ctx;
        EXPECT_TRUE(r.size() == 7 && r[0] == 0x00 && r[1] == 0x00)
            << ctx << ": follow-up READ " << json(r).dump();
        EXPECT_EQ(g.q.memread(0x20000, 512), slice(want_, 0, 512))
            << ctx << ": sector 1 after the case";
    }

    // ST0–ST2, plus C/H/R/N except for FORMAT, whose C/H/R/N are meaningless (Δ11).
    static std::vector<uint8_t> status(Op op, const std::vector<uint8_t> &r) {
        return op == Op::Format && r.size() == 7 ? slice(r, 0, 3) : r;
    }

    ScratchDir dir_;
    std::string img_;
    std::vector<uint8_t> want_;  // what the image file must hold
};

TEST_F(MidTransfer, PioDataPhaseSurvivesDorSwitchAndRelease) {
    Guest g("-machine pc -drive if=floppy,format=raw,file=" + img_ + kFast);
    ASSERT_TRUE(g.ok());
    int n = 0;
    for (Op op : {Op::Write, Op::Read, Op::Format})
        for (Cut c : kCuts) {
            ++n;
            const std::string ctx = std::string("PIO ") + op_name(op) + ", " + cut_name(c);
            g.q.outb(kDorPort, 0x1C);
            g.specify(true);
            const auto data = case_data(n);
            const uint8_t fill = uint8_t(0xE5 ^ n);
            const std::vector<uint8_t> id = {0, 0, 1, 2};
            if (op == Op::Format)
                g.send_all({0x4D, 0x00, 2, 1, 0x1B, fill});
            else
                g.send_all(
                    {uint8_t(op == Op::Write ? 0x45 : 0x46), 0x00, 0, 0, 1, 2, 1, 0x1B, 0xFF});
            const size_t total = op == Op::Format ? 4 : 512,
                         before_cut = op == Op::Format ? 2 : 100;
            size_t moved = 0;
            std::vector<uint8_t> got;
            auto transfer = [&](size_t upto) {
                while (moved < upto + 16) {
                    const uint8_t m = g.phase();
                    if (op == Op::Read ? m != kPioIn : m != kPioOut) break;
                    if (op == Op::Read)
                        got.push_back(g.q.inb(kFifoPort));
                    else
                        g.q.outb(kFifoPort, op == Op::Write ? data[moved % 512] : id[moved % 4]);
                    ++moved;
                    if (moved == upto) break;
                }
            };
            transfer(before_cut);
            ASSERT_EQ(moved, before_cut) << ctx << ": the data phase had started";
            cut(g, c);
            transfer(total);
            EXPECT_EQ(g.phase(), kResult) << ctx << ": no more data offered";
            const auto r = g.result();
            const bool gone = c == Cut::Release || c == Cut::Eject;
            if (gone) {
                // The medium went: the command ends at once with IC=01 and MA (divergences.md,
                // "Eject or a medium change during a command"); the sector is not written.
                EXPECT_EQ(moved, before_cut) << ctx;
                EXPECT_EQ(status(op, r), status(op, {0x40, st1::kMa, 0, 0, 0, 1, 2}))
                    << ctx << ": " << json(r).dump();
            } else {
                // DOR's select bits do not move a command off its own drive: it completes on drive
                // 0 — PIO READ/WRITE with EN at EOT (Δ20), FORMAT normally.
                EXPECT_EQ(moved, total) << ctx;
                const std::vector<uint8_t> ok =
                    op == Op::Format ? std::vector<uint8_t>{0x00, 0, 0, 0, 0, 1, 2}
                                     : std::vector<uint8_t>{0x40, st1::kEn, 0, 0, 0, 1, 2};
                EXPECT_EQ(status(op, r), status(op, ok)) << ctx << ": " << json(r).dump();
                if (op == Op::Write) std::copy(data.begin(), data.end(), want_.begin());
                if (op == Op::Format) std::fill_n(want_.begin(), 512, fill);
            }
            if (op == Op::Read) {
                EXPECT_EQ(got, slice(want_, 0, got.size())) << ctx;
            }
            check_working(g, c, false, ctx);
        }
    g.qmp_ok("floppy-release-image", {{"id", "floppy0"}});
    EXPECT_EQ(read_file(img_), want_) << "the image holds exactly the completed writes";
}

TEST_F(MidTransfer, DmaTransferSurvivesDorSwitchAndRelease) {
    Guest g("-machine pc -drive if=floppy,format=raw,file=" + img_);
    ASSERT_TRUE(g.ok());
    int n = 0;
    for (Op op : {Op::Write, Op::Read, Op::Format})
        for (Cut c : kCuts) {
            ++n;
            const std::string ctx = std::string("DMA ") + op_name(op) + ", " + cut_name(c);
            g.q.outb(kDorPort, 0x1C);
            g.q.clock_step(600 * kMs);  // spin-up
            g.specify(false);
            const auto data = case_data(n);
            const uint8_t fill = uint8_t(0xE5 ^ n);
            const uint16_t len = op == Op::Format ? 4 : 512;
            g.memset(0x20000, 0x1000, 0xCC);
            if (op == Op::Write) g.q.memwrite(0x20000, data);
            if (op == Op::Format) g.q.memwrite(0x20000, {0, 0, 1, 2});
            g.dma(op == Op::Read, 0x20000, len);
            if (op == Op::Format)
                g.send_all({0x4D, 0x00, 2, 1, 0x1B, fill});
            else
                g.send_all(
                    {uint8_t(op == Op::Write ? 0x45 : 0x46), 0x00, 0, 0, 1, 2, 1, 0x1B, 0xFF});
            unsigned moved = 0;
            for (int i = 0; i < 1000 && !g.irq(); ++i) {
                moved = g.dma_moved(len);
                if (op == Op::Format ? moved == len : (moved >= 100 && moved < len)) break;
                g.q.clock_step(kMs);
            }
            const unsigned at_cut = moved;
            ASSERT_FALSE(g.irq()) << ctx;
            ASSERT_TRUE(op == Op::Format ? at_cut == len : at_cut >= 100 && at_cut < len)
                << ctx << ": " << at_cut << " bytes moved at the cut";
            cut(g, c);
            if (c == Cut::DorUpstream) {
                g.q.clock_step(50 * kMs);
                g.q.outb(kDorPort, 0x1C);
            }
            EXPECT_TRUE(g.step_until_irq(1000 * kMs)) << ctx << ": the command ended";
            moved = g.dma_moved(len);
            const auto r = g.result();
            if (c == Cut::Release || c == Cut::Eject) {
                // IC=01 and MA at once; no byte moves after the cut and the sector is not written.
                EXPECT_EQ(moved, at_cut) << ctx;
                EXPECT_EQ(status(op, r), status(op, {0x40, st1::kMa, 0, 0, 0, 1, 2}))
                    << ctx << ": " << json(r).dump();
            } else if (c == Cut::DorUpstream && op != Op::Format) {
                // DMA GATE off holds DRQ: the channel stops and the sector overruns (IC=01, OR); a
                // WRITE still completes its sector, padded with 0x00 (docs/hardware/82077aa.md §7).
                EXPECT_EQ(moved, at_cut) << ctx;
                EXPECT_EQ(r, (std::vector<uint8_t>{0x40, 0x10, 0, 0, 0, 1, 2}))
                    << ctx << ": " << json(r).dump();
                if (op == Op::Write) {
                    std::copy_n(data.begin(), at_cut, want_.begin());
                    std::fill(want_.begin() + at_cut, want_.begin() + 512, 0);
                }
            } else {
                // The command completes on its own drive: TC at the end of sector 1, IC=00 and the
                // next sector's C/H/R (Δ20); a FORMAT whose IDs were all taken ends normally.
                EXPECT_EQ(moved, len) << ctx;
                EXPECT_EQ(status(op, r), status(op, {0x00, 0, 0, 1, 0, 1, 2}))
                    << ctx << ": " << json(r).dump();
                if (op == Op::Write) std::copy(data.begin(), data.end(), want_.begin());
                if (op == Op::Format) std::fill_n(want_.begin(), 512, fill);
            }
            const auto mem = g.q.memread(0x20000, 0x1000);
            if (op == Op::Read) {
                EXPECT_EQ(slice(mem, 0, moved), slice(want_, 0, moved)) << ctx;
                EXPECT_EQ(slice(mem, moved, 0x1000 - moved),
                          std::vector<uint8_t>(0x1000 - moved, 0xCC))
                    << ctx << ": past the transfer";
            } else {
                EXPECT_EQ(slice(mem, len, 0x1000 - len), std::vector<uint8_t>(0x1000 - len, 0xCC))
                    << ctx << ": memory untouched";
            }
            check_working(g, c, true, ctx);
        }
    g.qmp_ok("floppy-release-image", {{"id", "floppy0"}});
    EXPECT_EQ(read_file(img_), want_) << "the image holds exactly the completed writes";
}

// ============================================================================================
// CVE-2021-3507 (b): EOT below R, and sector sizes a raw image does not have
// ============================================================================================
//
// READ / WRITE / VERIFY × DMA / PIO × MT × EOT ∈ {0, 1, 2, 255} × N ∈ {0 with DTL 0, 1, 255;
// 2; 7; 8; 255}, always from C0 H0 R3: 336 cases. READ and VERIFY use drive 0, WRITE drive 1,
// each with its own image. DMA cases program a 4-sector count at 0x20000, with a canary in the
// 4 KiB before and the 6 KiB after it. Expected (docs/hardware/82077aa.md §6.6, §6.7,
// docs/divergences.md Δ18, Δ20, Δ22):
//   - EOT < R: IC=01 + MA at once, C/H/R/N as given, nothing moved (QEMU's answer to the CVE);
//   - N ≠ 2: no ID of the 512-byte raw sectors matches: IC=01 + ND, nothing moved;
//   - N = 2, EOT 255: DMA READ/WRITE end by TC after 4 sectors (IC=00, next sector 7); PIO has
//     no TC, so sectors 3..18 move and sector 19 is not found (IC=01 + ND); VERIFY has no data
//     phase in either mode (Δ10) and also ends with ND at sector 19.
// MT changes nothing here: EOT 255 is never reached, so the head never switches.

constexpr uint8_t kR = 3;
constexpr uint32_t kBuf = 0x20000, kCanaryFrom = 0x1F000, kCanaryLen = 0x3000;
constexpr uint16_t kDmaLen = 4 * 512;
uint8_t write_pattern(size_t k) {
    return uint8_t(k * 3 + (k >> 9) + 0x5A);
}

TEST(Cve2021_3507, EotBelowRAndOddSectorSizesNeverOverrun) {
    ScratchDir dir;
    const std::string rv = make_image(dir, "rv.img", k144), w = make_image(dir, "w.img", k144);
    const auto rv_before = read_file(rv);
    auto want_w = read_file(w);
    Guest g("-machine pc -drive if=floppy,index=0,format=raw,file=" + rv +
            " -drive if=floppy,index=1,format=raw,file=" + w + kFast);
    ASSERT_TRUE(g.ok());
    std::vector<uint8_t> wbuf(kDmaLen);
    for (size_t k = 0; k < wbuf.size(); ++k) wbuf[k] = write_pattern(k);
    struct NDtl {
        uint8_t n, dtl;
    };
    const NDtl sizes[] = {{0, 0}, {0, 1}, {0, 255}, {2, 255}, {7, 255}, {8, 255}, {255, 255}};
    const uint8_t eots[] = {0, 1, 2, 255};
    enum { kRead, kWrite, kVerify };
    const char *const names[] = {"READ", "WRITE", "VERIFY"};
    const uint8_t opcodes[] = {0x46, 0x45, 0x56};  // MFM set; MT added per case
    int cases = 0;
    for (int cmd : {kRead, kWrite, kVerify})
        for (bool pio : {false, true})
            for (bool mt : {false, true})
                for (uint8_t eot : eots)
                    for (const NDtl &nd : sizes) {
                        ++cases;
                        const uint8_t unit = cmd == kWrite ? 1 : 0;
                        const uint8_t op = uint8_t((mt ? 0x80 : 0) | opcodes[cmd]);
                        char ctx[96];
                        std::snprintf(ctx, sizeof ctx, "%s %s%s EOT %u N %u DTL %u", names[cmd],
                                      pio ? "PIO" : "DMA", mt ? " MT" : "", eot, nd.n, nd.dtl);
                        g.specify(pio);
                        g.memset(kCanaryFrom, kCanaryLen, 0xCC);
                        if (cmd == kWrite) g.q.memwrite(kBuf, wbuf);
                        if (!pio) g.dma(cmd != kWrite, kBuf, kDmaLen);
                        g.send_all({op, unit, 0, 0, kR, nd.n, eot, 0x1B, nd.dtl});
                        // PIO: take or give every byte the controller asks for (bounded).
                        std::vector<uint8_t> got;
                        size_t pio_bytes = 0;
                        for (uint8_t m = g.phase();
                             pio && (m == kPioIn || m == kPioOut) && pio_bytes < 40 * 512;
                             m = g.phase()) {
                            if (m == kPioIn)
                                got.push_back(g.q.inb(kFifoPort));
                            else
                                g.q.outb(kFifoPort, write_pattern(pio_bytes));
                            ++pio_bytes;
                        }
                        const auto r = g.result();
                        const size_t moved = pio ? pio_bytes : g.dma_moved(kDmaLen);

                        std::vector<uint8_t> want;
                        size_t want_moved = 0;
                        const uint8_t st0_abn = uint8_t(st0::kIcAbnormal | unit);
                        if (eot < kR) {
                            want = {st0_abn, st1::kMa, 0, 0, 0, kR, nd.n};
                        } else if (nd.n != 2) {
                            want = {st0_abn, st1::kNd, 0, 0, 0, kR, nd.n};
                        } else if (!pio && cmd != kVerify) {
                            want = {unit, 0, 0, 0, 0, 7, 2};
                            want_moved = kDmaLen;
                        } else {
                            want = {st0_abn, st1::kNd, 0, 0, 0, 19, 2};
                            want_moved = cmd == kVerify ? 0 : (18 - kR + 1) * 512;
                        }
                        EXPECT_EQ(r, want) << ctx << ": " << json(r).dump();
                        EXPECT_EQ(moved, want_moved)
                            << ctx << (pio ? ": PIO bytes" : ": bytes the DMA channel moved");
                        // Memory: a READ fills exactly what it moved; nothing else changes.
                        std::vector<uint8_t> mem_want(kCanaryLen, 0xCC);
                        if (cmd == kWrite)
                            std::copy(wbuf.begin(), wbuf.end(),
                                      mem_want.begin() + (kBuf - kCanaryFrom));
                        if (cmd == kRead && !pio)
                            std::copy_n(rv_before.begin() + (kR - 1) * 512, moved,
                                        mem_want.begin() + (kBuf - kCanaryFrom));
                        EXPECT_EQ(g.q.memread(kCanaryFrom, kCanaryLen), mem_want)
                            << ctx << ": guest memory around the buffer";
                        if (cmd == kRead && pio) {
                            EXPECT_EQ(got, slice(rv_before, (kR - 1) * 512, got.size())) << ctx;
                        }
                        if (cmd == kWrite)
                            for (size_t k = 0; k < moved; ++k)
                                want_w[(kR - 1) * 512 + k] = write_pattern(k);
                        g.reset_and_check(ctx);
                        if (HasFatalFailure()) return;
                    }
    EXPECT_EQ(cases, 336);
    g.qmp_ok("floppy-release-image", {{"id", "floppy0"}});
    g.qmp_ok("floppy-release-image", {{"id", "floppy1"}});
    EXPECT_EQ(read_file(rv), rv_before) << "READ and VERIFY never write";
    EXPECT_EQ(read_file(w), want_w) << "WRITE changed only the sectors it transferred";
}

// ============================================================================================
// Upstream issue #3800: FORMAT (or RESTORE) setting sectors per track beyond the geometry
// ============================================================================================

// Drive `unit` still has its geometry: query-floppy-drives unchanged, READ ID finds an ID of
// the medium, sector SPT reads back from the image, sector SPT + 1 does not exist.
void expect_geometry(Guest &g, const std::string &id, uint8_t unit, uint8_t spt,
                     const json &geometry, const std::vector<uint8_t> &image,
                     const std::string &ctx) {
    EXPECT_EQ(g.geometry(id), geometry) << ctx;
    g.specify(false);
    g.send_all({0x4A, unit});
    EXPECT_TRUE(g.step_until_irq(100 * kMs)) << ctx << ": READ ID ended";  // 20 ms under fast
    auto r = g.result();
    EXPECT_TRUE(r.size() == 7 && r[0] == unit && r[1] == 0 && r[3] == 0 && r[4] == 0 && r[5] >= 1 &&
                r[5] <= spt && r[6] == 2)
        << ctx << ": READ ID " << json(r).dump();
    g.dma(true, kBuf, 512);
    g.send_all({0x46, unit, 0, 0, spt, 2, spt, 0x1B, 0xFF});
    r = g.result();
    EXPECT_EQ(r, (std::vector<uint8_t>{unit, 0, 0, 1, 0, 1, 2}))
        << ctx << ": READ of sector " << int(spt);
    EXPECT_EQ(g.q.memread(kBuf, 512), slice(image, (spt - 1) * 512, 512)) << ctx;
    g.dma(true, kBuf, 512);
    g.send_all({0x46, unit, 0, 0, uint8_t(spt + 1), 2, uint8_t(spt + 1), 0x1B, 0xFF});
    r = g.result();
    EXPECT_TRUE(r.size() == 7 && r[0] == (st0::kIcAbnormal | unit) && r[1] == st1::kNd)
        << ctx << ": sector " << spt + 1 << " " << json(r).dump();
}

// FORMAT with SC ∈ {0, SPT + 1, 255} on 1.44 MB (SPT 18) and 720 KB (SPT 9) media, by DMA and
// PIO, with a well-formed ID for every sector offered: the track cannot be represented, so
// IC=01 + EN before any ID is taken (docs/hardware/82077aa.md §6.4, divergences.md Δ11);
// nothing changes. RESTORE (0x4E), which in QEMU sets the sector count among its 16 parameters,
// is invalid here.
TEST(FormatBeyondGeometry, ScOutsideTheMediumIsRefusedAndChangesNothing) {
    ScratchDir dir;
    const std::string a = make_image(dir, "a.img", k144), b = make_image(dir, "b.img", k720);
    const auto a_before = read_file(a), b_before = read_file(b);
    Guest g("-machine pc -drive if=floppy,index=0,format=raw,file=" + a +
            " -drive if=floppy,index=1,format=raw,file=" + b + kFast);
    ASSERT_TRUE(g.ok());
    struct Medium {
        std::string id;
        uint8_t unit, spt, ccr;
        const std::vector<uint8_t> &image;
    };
    const Medium media[] = {{"floppy0", 0, 18, 0x00, a_before}, {"floppy1", 1, 9, 0x02, b_before}};
    int cases = 0;
    for (const Medium &m : media) {
        g.q.outb(kCcrPort, m.ccr);
        const json geometry = g.geometry(m.id);
        ASSERT_EQ(geometry.value("sectors", 0), m.spt) << geometry.dump();
        for (unsigned sc : {0u, m.spt + 1u, 255u})
            for (bool pio : {false, true}) {
                ++cases;
                const std::string ctx =
                    m.id + " FORMAT SC " + std::to_string(sc) + (pio ? " PIO" : " DMA");
                std::vector<uint8_t> ids;
                for (unsigned i = 0; i < sc; ++i) ids.insert(ids.end(), {0, 0, uint8_t(i + 1), 2});
                const uint16_t len = uint16_t(std::max(sc, 1u) * 4);
                g.specify(pio);
                if (!ids.empty()) g.q.memwrite(kBuf, ids);
                if (!pio) g.dma(false, kBuf, len);
                g.send_all({0x4D, m.unit, 2, uint8_t(sc), 0x54, 0xF6});
                EXPECT_EQ(g.phase(), kResult) << ctx << ": no ID asked for";
                const auto r = g.result();
                EXPECT_TRUE(r.size() == 7 && r[0] == (st0::kIcAbnormal | m.unit) &&
                            r[1] == st1::kEn && r[2] == 0)
                    << ctx << ": " << json(r).dump();
                if (!pio) {
                    EXPECT_EQ(g.dma_moved(len), 0u) << ctx;
                }
                g.reset_and_check(ctx);
                expect_geometry(g, m.id, m.unit, m.spt, geometry, m.image, ctx);
            }
        // RESTORE as QEMU takes it, 17 bytes with byte 9 the sectors per track (here 0xFF), sent
        // ignoring MSR: the opcode is invalid, so the other 16 land in the result phase.
        ++cases;
        const std::string ctx = m.id + " RESTORE";
        std::vector<uint8_t> restore(17, 0);
        restore[0] = 0x4E;
        restore[9] = 0xFF;
        for (uint8_t byte : restore) g.q.outb(kFifoPort, byte);
        EXPECT_EQ(g.result(), std::vector<uint8_t>{0x80}) << ctx << ": invalid on an 82077AA";
        EXPECT_EQ(g.phase(), kIdle) << ctx << ": its parameters were dropped";
        g.reset_and_check(ctx);
        expect_geometry(g, m.id, m.unit, m.spt, geometry, m.image, ctx);
    }
    EXPECT_EQ(cases, 14);
    g.qmp_ok("floppy-release-image", {{"id", "floppy0"}});
    g.qmp_ok("floppy-release-image", {{"id", "floppy1"}});
    EXPECT_EQ(read_file(a), a_before);
    EXPECT_EQ(read_file(b), b_before);
}

}  // namespace
}  // namespace fdplug::test
