// Data safety of floppy images end to end (issue "Hardening"): the real fdplug-host with the
// floppy plugin, the guest's writes over qtest (DMA and PIO), the host ended by
// floppy-release-image, QMP quit, SIGTERM or kill -9, and the image file's bytes checked by
// this test afterwards.
//
// What the product promises (hw/block/media/fd_image.cc): no write cache in the process. Each
// sector is written to the file with one pwrite(2) of 512 bytes as soon as its data has reached
// the controller, in the order the guest writes them; release, quit, SIGTERM (and
// x-save-devices) add an fdatasync. So after kill -9 every sector is old or new, the new ones
// are exactly a prefix of the guest's write order, and that prefix holds every sector of every
// command whose result phase the guest had read. Durability against a power cut (the fdatasync)
// cannot be shown without one and is not tested here.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/qtest/floppy_machine.h"
#include "tests/qtest/libqtest.h"
#include "tests/qtest/scratch_dir.h"

namespace fdplug::test {
namespace {

using nlohmann::json;
using Bytes = std::vector<uint8_t>;

constexpr unsigned kSector = 512, kSectors = 18, kTracks = 160, kDiskSectors = kTracks * kSectors;
constexpr uint32_t k144 = kDiskSectors * kSector;
constexpr uint8_t kWrite = 0x45, kWriteDeleted = 0x49, kFormat = 0x4D, kMt = 0x80;
constexpr uint32_t kDmaBuffer = 0x30000;  // a 64 KiB page: no transfer crosses a DMA boundary

const std::string kTwoDrives =
    "-machine pc -nodefaults -device floppy,id=fd0,unit=0,drive-type=144 "
    "-device floppy,id=fd1,unit=1,drive-type=144" +
    kFast;
std::string drive_arg(const std::string &file, const std::string &extra = "") {
    return "-machine pc -drive if=floppy,index=0,format=raw,file=" + file + extra + kFast;
}

// --- sector contents -----------------------------------------------------------------------

// "old!" + LBA, then a pattern of the LBA: what every image holds before the guest writes.
Bytes old_sector(uint32_t lba) {
    Bytes s(kSector);
    for (unsigned i = 0; i < kSector; ++i) s[i] = uint8_t(lba * 131 + i * 7 + 0x5A);
    std::copy_n("old!", 4, s.begin());
    for (unsigned i = 0; i < 4; ++i) s[4 + i] = uint8_t(lba >> (8 * i));
    return s;
}
// "new!" + LBA + sequence number + run: distinct per sector, per position in the write order
// and per run, so a sector from elsewhere or from another run never passes for this one.
Bytes new_sector(uint32_t lba, uint32_t seq, uint32_t run) {
    Bytes s(kSector);
    for (unsigned i = 0; i < kSector; ++i)
        s[i] = uint8_t(seq * 29 + i * 11 + run * 3 + (i >> 8) + 0xA5);
    std::copy_n("new!", 4, s.begin());
    for (unsigned i = 0; i < 4; ++i) {
        s[4 + i] = uint8_t(lba >> (8 * i));
        s[8 + i] = uint8_t(seq >> (8 * i));
        s[12 + i] = uint8_t(run >> (8 * i));
    }
    return s;
}

// 1.44 MB: LBA = (C × 2 + H) × 18 + R − 1; track = C × 2 + H.
uint32_t lba(unsigned c, unsigned h, unsigned r) {
    return (c * 2 + h) * kSectors + r - 1;
}

// The order the long write sequence visits the tracks: a permutation (37 is prime to 160) that
// seeks back and forth, so write order and LBA order differ.
unsigned track_at(unsigned position) {
    return position * 37 % kTracks;
}
Bytes track_data(unsigned position, uint32_t run) {
    Bytes d;
    const unsigned t = track_at(position);
    for (unsigned r = 1; r <= kSectors; ++r) {
        const Bytes s = new_sector(t * kSectors + r - 1, position * kSectors + r - 1, run);
        d.insert(d.end(), s.begin(), s.end());
    }
    return d;
}

// --- files ---------------------------------------------------------------------------------

class Scratch : public ScratchDir {
  public:
    // A 1.44 MB image of old sectors.
    std::string image(const std::string &name) const {
        Bytes data;
        for (uint32_t l = 0; l < kDiskSectors; ++l) {
            const Bytes s = old_sector(l);
            data.insert(data.end(), s.begin(), s.end());
        }
        const std::string p = path(name);
        std::ofstream(p, std::ios::binary | std::ios::trunc)
            .write(reinterpret_cast<const char *>(data.data()), std::streamsize(data.size()));
        ::chmod(p.c_str(), 0644);
        return p;
    }
};

Bytes sector_of(const Bytes &file, uint32_t l) {
    if (file.size() < (l + 1) * kSector) return {};
    return Bytes(file.begin() + long(l * kSector), file.begin() + long((l + 1) * kSector));
}

// FNV-1a, 64 bits: the checksum the read-only tests compare (with the bytes and the mtime).
uint64_t checksum(const Bytes &data) {
    uint64_t h = 0xcbf29ce484222325u;
    for (uint8_t b : data) h = (h ^ b) * 0x100000001b3u;
    return h;
}
struct FileStamp {
    uint64_t sum;
    size_t size;
    int64_t mtime_ns;
    bool operator==(const FileStamp &) const = default;
};
FileStamp stamp(const std::string &path) {
    struct stat st {};
    ::stat(path.c_str(), &st);
    const Bytes b = read_file(path);
    return {checksum(b), b.size(), int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}
std::ostream &operator<<(std::ostream &os, const FileStamp &s) {
    return os << "{sum " << std::hex << s.sum << std::dec << ", " << s.size << " bytes, mtime "
              << s.mtime_ns << " ns}";
}

// --- the machine -----------------------------------------------------------------------------

// The host and guest of floppy_machine.h, plus the writes and endings these tests need.
class Machine : public FloppyMachine {
  public:
    using FloppyMachine::FloppyMachine;

    // QMP quit, then the exit status once the process has ended by itself.
    int quit_by_qmp() {
        EXPECT_EQ(qmp("quit"), (json{{"return", json::object()}}));
        siginfo_t info{};
        // WNOWAIT: the zombie is left for QTestState::quit(), which reaps it.
        while (::waitid(P_PID, id_t(q.pid()), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
        }
        return q.quit();
    }

    // Motor of unit 0 and 1 on, DMA gate on; SPECIFY with ND=0 (DMA) or ND=1 (PIO).
    void specify(bool dma) {
        q.outb(kDorPort, 0x3C);
        send_all({0x03, 0xDF, uint8_t(dma ? 0x02 : 0x03)});
    }
    Bytes result() {
        EXPECT_TRUE(irq()) << "a data command ends with an interrupt";
        return take(7);
    }
    // WRITE DATA / WRITE DELETED (op, with kMt for multi-track) of sectors r..eot over DMA.
    Bytes write_dma(uint8_t op, unsigned unit, uint8_t c, uint8_t h, uint8_t r, uint8_t eot,
                    const Bytes &data) {
        q.memwrite(kDmaBuffer, data);
        dma(false, kDmaBuffer, uint16_t(data.size()));
        data_command(op, unit, c, h, r, eot);
        return result();
    }
    // The same in PIO (SPECIFY ND=1 first): feeds `data` byte by byte while the controller asks
    // for bytes (MSR RQM+NDMA+CB, DIO=0), at most `limit` of them. The result bytes, or nothing
    // if `limit` stopped the feed before the result phase.
    Bytes write_pio(uint8_t op, unsigned unit, uint8_t c, uint8_t h, uint8_t r, uint8_t eot,
                    const Bytes &data, size_t limit = SIZE_MAX) {
        data_command(op, unit, c, h, r, eot);
        return feed_pio(data, limit);
    }
    // FORMAT TRACK of C/H, 18 sectors filled with `fill`, IDs over DMA or PIO.
    Bytes format(bool by_dma, unsigned unit, uint8_t c, uint8_t h, uint8_t fill) {
        Bytes ids;
        for (uint8_t r = 1; r <= kSectors; ++r) ids.insert(ids.end(), {c, h, r, 2});
        if (by_dma) {
            q.memwrite(kDmaBuffer, ids);
            dma(false, kDmaBuffer, uint16_t(ids.size()));
        }
        send_all({kFormat, uint8_t(h << 2 | unit), 2, kSectors, 0x54, fill});
        return by_dma ? result() : feed_pio(ids);
    }

  private:
    Bytes feed_pio(const Bytes &data, size_t limit = SIZE_MAX) {
        size_t fed = 0;
        for (;;) {
            const uint8_t m = msr();
            if (!ok()) return {};
            if (m == (msr::kRqm | msr::kDio | msr::kCb)) break;  // result phase
            if (m != (msr::kRqm | msr::kNonDma | msr::kCb) || fed >= data.size()) {
                ADD_FAILURE() << "PIO write: MSR 0x" << std::hex << unsigned(m) << std::dec
                              << " after " << fed << " bytes";
                return {};
            }
            if (fed == limit) return {};
            q.outb(kFifoPort, data[fed++]);
        }
        return result();
    }
};

// A data command that ended normally: IC=00 (DMA, TC at the end), or IC=01 with only EN (PIO,
// which has no TC and so runs into the end of the track: docs/divergences.md Δ20).
::testing::AssertionResult completed(const Bytes &r, bool pio = false) {
    if (r.size() == 7 && (r[0] & st0::kIc) == 0 && r[1] == 0 && r[2] == 0)
        return ::testing::AssertionSuccess();
    if (pio && r.size() == 7 && (r[0] & st0::kIc) == st0::kIcAbnormal && r[1] == st1::kEn &&
        r[2] == 0)
        return ::testing::AssertionSuccess();
    ::testing::AssertionResult f = ::testing::AssertionFailure() << "result";
    for (uint8_t b : r) f << " " << std::hex << unsigned(b);
    return f;
}
// The guest was refused with write protect: IC=01, ST1 NW.
::testing::AssertionResult write_protected(const Bytes &r) {
    if (r.size() == 7 && (r[0] & st0::kIc) == st0::kIcAbnormal && (r[1] & st1::kNw))
        return ::testing::AssertionSuccess();
    ::testing::AssertionResult f = ::testing::AssertionFailure() << "not NW: result";
    for (uint8_t b : r) f << " " << std::hex << unsigned(b);
    return f;
}
::testing::AssertionResult ok(const json &reply) {
    if (reply.contains("return") && reply["return"] == json::object())
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << reply.dump();
}
// A VM_E_IMAGE_CAPTURE_FAIL whose desc contains `mention`.
::testing::AssertionResult capture_fail(const json &reply, const std::string &mention) {
    const json e = reply.value("error", json::object());
    if (e.value("class", "") == "VM_E_IMAGE_CAPTURE_FAIL" &&
        e.value("hresult", "") == "0xA0040650" &&
        e.value("desc", "").find(mention) != std::string::npos)
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "want VM_E_IMAGE_CAPTURE_FAIL naming '" << mention << "': " << reply.dump();
}

// Positions [from, to) of the long sequence, each track one DMA WRITE DATA after a SEEK. Stops
// early when the host is gone. Returns how many tracks' results the guest read (confirmed), and
// in *started whether it had begun one more.
unsigned write_tracks(Machine &m, unsigned from, unsigned to, uint32_t run,
                      bool *started = nullptr) {
    unsigned confirmed = from;
    if (started) *started = false;
    for (unsigned p = from; p < to && m.ok(); ++p) {
        const unsigned t = track_at(p);
        if (started) *started = true;
        m.seek(0, uint8_t(t / 2));
        const Bytes r =
            m.write_dma(kWrite, 0, uint8_t(t / 2), uint8_t(t % 2), 1, kSectors, track_data(p, run));
        if (!m.ok()) break;  // the result bytes came from a dead host
        EXPECT_TRUE(completed(r)) << "track " << t;
        confirmed = p + 1;
        if (started) *started = false;
    }
    return confirmed;
}

// Every sector of `file` is its old content or its new content of `run`, and the new ones are
// the first *prefix sectors of the write order.
::testing::AssertionResult old_or_new(const Bytes &file, uint32_t run, unsigned *prefix) {
    if (file.size() != k144)
        return ::testing::AssertionFailure() << "file is " << file.size() << " bytes";
    std::vector<bool> is_new(kDiskSectors);  // by position in the write order
    for (unsigned p = 0; p < kTracks; ++p)
        for (unsigned r = 1; r <= kSectors; ++r) {
            const uint32_t l = track_at(p) * kSectors + r - 1, seq = p * kSectors + r - 1;
            const Bytes s = sector_of(file, l);
            if (s == new_sector(l, seq, run)) {
                is_new[seq] = true;
            } else if (s != old_sector(l)) {
                const Bytes o = old_sector(l), n = new_sector(l, seq, run);
                unsigned same_old = 0, same_new = 0;
                for (unsigned i = 0; i < kSector; ++i)
                    same_old += s[i] == o[i], same_new += s[i] == n[i];
                return ::testing::AssertionFailure() << "sector LBA " << l << " (write #" << seq
                                                     << ") is torn or garbage: " << same_old
                                                     << " bytes match old, " << same_new << " new";
            }
        }
    *prefix = unsigned(std::find(is_new.begin(), is_new.end(), false) - is_new.begin());
    const auto stray = std::find(is_new.begin() + *prefix, is_new.end(), true);
    if (stray != is_new.end())
        return ::testing::AssertionFailure()
               << "write #" << (stray - is_new.begin()) << " is in the file but #" << *prefix
               << " before it is not: not a prefix of the write order";
    return ::testing::AssertionSuccess();
}

// The file is byte for byte `want`; else the first sector that differs.
::testing::AssertionResult same_image(const Bytes &file, const Bytes &want) {
    if (file.size() != want.size())
        return ::testing::AssertionFailure() << "file is " << file.size() << " bytes";
    const auto diff = std::mismatch(file.begin(), file.end(), want.begin());
    if (diff.first == file.end()) return ::testing::AssertionSuccess();
    const size_t at = size_t(diff.first - file.begin());
    return ::testing::AssertionFailure()
           << "LBA " << at / kSector << " differs from the guest's write at byte " << at % kSector;
}

// Failures in `results` up to the first one libqtest raised because the host is gone: those
// came from a live host and are real.
void report_until_host_died(const ::testing::TestPartResultArray &results) {
    for (int i = 0; i < results.size(); ++i) {
        const ::testing::TestPartResult &r = results.GetTestPartResult(i);
        if (std::string(r.message()).find("libqtest: ") != std::string::npos) return;
        ADD_FAILURE_AT(r.file_name() ? r.file_name() : "?", r.line_number()) << r.message();
    }
}

// ============================================================================================
// 1. Guest writes reach the image: by release, by QMP quit, by SIGTERM
// ============================================================================================

enum class Ending { Release, QmpQuit, Sigterm };

// The whole disk over DMA (tracks in the long sequence's order), a two-sided MT write and a PIO
// write on top of it, then the ending; the file must be exactly what the guest wrote.
// (fdc_qmp_test's TheFileHoldsTheGuestsWrites covers one 3-sector DMA write and release.)
void writes_reach_the_file(Ending ending, bool by_drive_option) {
    Scratch s;
    const std::string img = s.image("a.img");
    const uint32_t run = 1 + uint32_t(ending);
    Machine m(by_drive_option ? drive_arg(img) : kTwoDrives);
    ASSERT_TRUE(m.ok());
    if (!by_drive_option) {
        ASSERT_TRUE(ok(m.attach("fd0", img)));
    }
    m.specify(true);
    ASSERT_EQ(write_tracks(m, 0, kTracks, run), kTracks);
    Bytes want = read_file(img);
    for (unsigned p = 0; p < kTracks; ++p) {
        const unsigned t = track_at(p);
        const Bytes d = track_data(p, run);
        std::copy(d.begin(), d.end(), want.begin() + long(t * kSectors * kSector));
    }
    // MT: cylinder 40 head 0 sector 10 through head 1 sector 18 in one command (27 sectors).
    Bytes mt;
    for (uint32_t l = lba(40, 0, 10); l <= lba(40, 1, 18); ++l) {
        const Bytes x = new_sector(l, 100000 + l, run);
        mt.insert(mt.end(), x.begin(), x.end());
    }
    m.seek(0, 40);
    EXPECT_TRUE(completed(m.write_dma(kWrite | kMt, 0, 40, 0, 10, kSectors, mt)));
    std::copy(mt.begin(), mt.end(), want.begin() + long(lba(40, 0, 10) * kSector));
    // PIO: cylinder 79 head 1 sectors 15..18.
    Bytes pio;
    for (uint32_t l = lba(79, 1, 15); l <= lba(79, 1, 18); ++l) {
        const Bytes x = new_sector(l, 200000 + l, run);
        pio.insert(pio.end(), x.begin(), x.end());
    }
    m.specify(false);
    m.seek(0, 79);
    EXPECT_TRUE(completed(m.write_pio(kWrite, 0, 79, 1, 15, kSectors, pio), true));
    std::copy(pio.begin(), pio.end(), want.begin() + long(lba(79, 1, 15) * kSector));

    switch (ending) {
        case Ending::Release: {
            const std::string id = by_drive_option ? "floppy0" : "fd0";
            ASSERT_TRUE(ok(m.release(id)));
            EXPECT_EQ(m.drive(id)["attachment"], "none");
            break;
        }
        case Ending::QmpQuit:
            EXPECT_EQ(m.quit_by_qmp(), 0);
            break;
        case Ending::Sigterm:
            EXPECT_EQ(m.q.quit(), 0) << "SIGTERM is a clean exit";
            break;
    }
    EXPECT_TRUE(same_image(read_file(img), want));
}

TEST(GuestWritesReachTheImage, ByRelease) {
    writes_reach_the_file(Ending::Release, false);
}
TEST(GuestWritesReachTheImage, ByReleaseOfADriveOptionImage) {
    writes_reach_the_file(Ending::Release, true);
}
TEST(GuestWritesReachTheImage, ByQmpQuit) {
    writes_reach_the_file(Ending::QmpQuit, false);
}
TEST(GuestWritesReachTheImage, BySigterm) {
    writes_reach_the_file(Ending::Sigterm, true);
}

// ============================================================================================
// 2. kill -9 in the middle of a long write sequence: every sector old or new
// ============================================================================================

// kill -9 between commands after k whole tracks: the file holds exactly those k tracks.
TEST(KillDuringWrites, AfterKTracksTheFileHoldsExactlyThem) {
    for (unsigned k : {0u, 1u, 45u, 113u}) {
        SCOPED_TRACE("k = " + std::to_string(k));
        Scratch s;
        const std::string img = s.image("a.img");
        const uint32_t run = 10 + k;
        {
            Machine m(kTwoDrives);
            ASSERT_TRUE(m.ok());
            ASSERT_TRUE(ok(m.attach("fd0", img)));
            m.specify(true);
            ASSERT_EQ(write_tracks(m, 0, k, run), k);
            m.q.kill_now();
        }
        unsigned prefix = 0;
        ASSERT_TRUE(old_or_new(read_file(img), run, &prefix));
        EXPECT_EQ(prefix, k * kSectors);
    }
}

// kill -9 in the middle of a PIO track write, after j whole sectors and b bytes of the next:
// the j sectors are in the file, the partly sent one is still old.
TEST(KillDuringWrites, InsideAPioCommandTheSectorInProgressStaysOld) {
    const unsigned kDmaTracks = 3;
    struct Cut {
        unsigned sectors, bytes;
    };
    for (const Cut cut : {Cut{0, 0}, Cut{0, 1}, Cut{4, 300}, Cut{11, 511}, Cut{17, 0}}) {
        SCOPED_TRACE("after " + std::to_string(cut.sectors) + " sectors + " +
                     std::to_string(cut.bytes) + " bytes");
        Scratch s;
        const std::string img = s.image("a.img");
        const uint32_t run = 30 + cut.sectors;
        {
            Machine m(kTwoDrives);
            ASSERT_TRUE(m.ok());
            ASSERT_TRUE(ok(m.attach("fd0", img)));
            m.specify(true);
            ASSERT_EQ(write_tracks(m, 0, kDmaTracks, run), kDmaTracks);
            m.specify(false);
            const unsigned t = track_at(kDmaTracks);
            m.seek(0, uint8_t(t / 2));
            const Bytes r =
                m.write_pio(kWrite, 0, uint8_t(t / 2), uint8_t(t % 2), 1, kSectors,
                            track_data(kDmaTracks, run), cut.sectors * kSector + cut.bytes);
            EXPECT_TRUE(r.empty()) << "still in the execution phase";
            m.q.kill_now();
        }
        unsigned prefix = 0;
        ASSERT_TRUE(old_or_new(read_file(img), run, &prefix));
        EXPECT_EQ(prefix, kDmaTracks * kSectors + cut.sectors);
    }
}

// kill -9 from another thread at random times (fixed seed) while the guest writes the whole
// disk track by track over DMA; each iteration a fresh host and image. Iteration 0 is not
// killed before the end and measures how long the sequence takes.
TEST(KillDuringWrites, AtRandomTimesEverySectorIsOldOrNew) {
    constexpr unsigned kIterations = 40;
    std::mt19937 random(20261208);
    std::chrono::steady_clock::duration whole{};
    unsigned mid_sequence = 0, in_flight = 0, inside_command = 0;
    for (unsigned it = 0; it < kIterations; ++it) {
        SCOPED_TRACE("iteration " + std::to_string(it));
        Scratch s;
        const std::string img = s.image("a.img");
        const uint32_t run = 100 + it;
        const double fraction = std::uniform_real_distribution<double>(0.0, 1.0)(random);
        unsigned confirmed = 0;
        bool started = false;
        {
            Machine m(kTwoDrives);
            ASSERT_TRUE(m.ok());
            ASSERT_TRUE(ok(m.attach("fd0", img)));
            m.specify(true);
            const pid_t pid = m.q.pid();
            const auto delay =
                std::chrono::duration_cast<std::chrono::microseconds>(whole * fraction);
            std::atomic<bool> fired{false};
            const auto t0 = std::chrono::steady_clock::now();
            std::thread killer;
            if (it > 0)
                killer = std::thread([&] {
                    std::this_thread::sleep_for(delay);
                    ::kill(pid, SIGKILL);  // the zombie is reaped by QTestState's destructor
                    fired = true;
                });
            ::testing::TestPartResultArray failures;
            {
                // The host dying under a request is expected here: collect, then report only
                // what came before it.
                ::testing::ScopedFakeTestPartResultReporter reporter(
                    ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD,
                    &failures);
                confirmed = write_tracks(m, 0, kTracks, run, &started);
            }
            if (it == 0) whole = std::chrono::steady_clock::now() - t0;
            if (killer.joinable()) killer.join();
            report_until_host_died(failures);
            if (it == 0) {
                ASSERT_EQ(confirmed, kTracks);
                m.q.kill_now();
            } else {
                EXPECT_TRUE(fired);
            }
        }
        mid_sequence += confirmed < kTracks;
        unsigned prefix = 0;
        ASSERT_TRUE(old_or_new(read_file(img), run, &prefix));
        // Every confirmed track is there; at most the one command in flight is partly there.
        EXPECT_GE(prefix, confirmed * kSectors);
        EXPECT_LE(prefix, (confirmed + (started ? 1 : 0)) * kSectors);
        in_flight += prefix > confirmed * kSectors;
        inside_command += prefix % kSectors != 0;
    }
    // For the record: how many kills hit a command whose result was not read yet, and how many
    // came between two of its sectors.
    std::printf(
        "[          ] %u kills: %u inside the sequence, %u with a command in flight, %u between "
        "its sectors\n",
        kIterations - 1, mid_sequence, in_flight, inside_command);
    // Loose on purpose: the kill times are wall-clock fractions of iteration 0's duration.
    EXPECT_GE(mid_sequence, kIterations / 4) << "too few kills landed inside the sequence";
}

// ============================================================================================
// 3. A read-write attach of an image another host process holds is refused
// ============================================================================================

TEST(ImageLockAcrossProcesses, SecondHostIsRefusedAndTheFirstsWritesAreIntact) {
    Scratch s;
    const std::string img = s.image("a.img");
    const uint32_t run = 7;
    Machine first(kTwoDrives);
    ASSERT_TRUE(first.ok());
    ASSERT_TRUE(ok(first.attach("fd0", img)));
    first.specify(true);
    ASSERT_EQ(write_tracks(first, 0, 10, run), 10u);

    {
        Machine second(kTwoDrives);
        ASSERT_TRUE(second.ok());
        EXPECT_TRUE(capture_fail(second.attach("fd0", img), "in use by another process"));
        EXPECT_TRUE(capture_fail(second.attach("fd1", img, true), "open read-write elsewhere"))
            << "nor read-only";
        EXPECT_EQ(second.drive("fd0")["attachment"], "none");
        EXPECT_EQ(second.drive("fd1")["attachment"], "none");
    }
    // On a host's command line: the host does not start.
    for (const std::string extra : {"", ",readonly=on"}) {
        const auto [status, out] = run_host(drive_arg(img, extra), 10);
        EXPECT_EQ(status, 1) << out;
        EXPECT_NE(out.find("floppy image '" + img + "'"), std::string::npos) << out;
        EXPECT_NE(
            out.find(extra.empty() ? "in use by another process" : "open read-write elsewhere"),
            std::string::npos)
            << out;
    }

    // The first host still writes, and its file holds exactly its writes.
    ASSERT_EQ(write_tracks(first, 10, 20, run), 20u);
    ASSERT_TRUE(ok(first.release("fd0")));
    unsigned prefix = 0;
    ASSERT_TRUE(old_or_new(read_file(img), run, &prefix));
    EXPECT_EQ(prefix, 20 * kSectors);
    Machine third(kTwoDrives);
    ASSERT_TRUE(third.ok());
    EXPECT_TRUE(ok(third.attach("fd0", img))) << "free once released";
}

// The other way round: the first host has it from -drive, a second host's QMP attach is refused.
TEST(ImageLockAcrossProcesses, ImageFromTheCommandLineIsLockedToo) {
    Scratch s;
    const std::string img = s.image("a.img");
    Machine first(drive_arg(img));
    ASSERT_TRUE(first.ok());
    first.specify(true);
    ASSERT_EQ(write_tracks(first, 0, 4, 8), 4u);
    Machine second(kTwoDrives);
    ASSERT_TRUE(second.ok());
    EXPECT_TRUE(capture_fail(second.attach("fd0", img), "in use by another process"));
    EXPECT_EQ(first.q.quit(), 0);
    unsigned prefix = 0;
    ASSERT_TRUE(old_or_new(read_file(img), 8, &prefix));
    EXPECT_EQ(prefix, 4 * kSectors);
    EXPECT_TRUE(ok(second.attach("fd0", img))) << "free once the first host has gone";
}

// ============================================================================================
// 4. A read-only image is never modified
// ============================================================================================

// WRITE DATA, WRITE DELETED (also MT) and FORMAT TRACK, over DMA and over PIO: each refused
// with NW, and the guest reads back the old sectors.
void try_every_write(Machine &m, unsigned unit) {
    const Bytes data = track_data(0, 99);
    for (bool dma : {true, false}) {
        SCOPED_TRACE(dma ? "DMA" : "PIO");
        m.specify(dma);
        m.seek(unit, 5);
        auto write = [&](uint8_t op, uint8_t h, uint8_t r, uint8_t eot) {
            const Bytes d(data.begin(), data.begin() + long((eot - r + 1) * kSector));
            return dma ? m.write_dma(op, unit, 5, h, r, eot, d)
                       : m.write_pio(op, unit, 5, h, r, eot, d);
        };
        EXPECT_TRUE(write_protected(write(kWrite, 0, 1, 3))) << "WRITE DATA";
        EXPECT_TRUE(write_protected(write(kWrite | kMt, 0, 17, 18))) << "WRITE DATA MT";
        EXPECT_TRUE(write_protected(write(kWriteDeleted, 1, 4, 4))) << "WRITE DELETED";
        EXPECT_TRUE(write_protected(m.format(dma, unit, 6, 0, 0xF6))) << "FORMAT TRACK";
    }
}

TEST(ReadOnlyImage, QmpReadOnlyAttachIsNeverModified) {
    Scratch s;
    const std::string img = s.image("a.img");
    const FileStamp before = stamp(img);
    Machine m(kTwoDrives);
    ASSERT_TRUE(m.ok());
    ASSERT_TRUE(ok(m.attach("fd1", img, true)));
    try_every_write(m, 1);
    ASSERT_TRUE(ok(m.release("fd1")));
    EXPECT_EQ(stamp(img), before);
}

// A file the host cannot write (mode 0444; the host runs as nobody when the tests run as root),
// attached read-only, the host ended by QMP quit.
TEST(ReadOnlyImage, ReadOnlyFileIsNeverModified) {
    Scratch s;
    const std::string img = s.image("a.img");
    ASSERT_EQ(::chmod(img.c_str(), 0444), 0);
    const FileStamp before = stamp(img);
    Machine m(kTwoDrives, true);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m.attach("fd0", img)["error"]["class"], "VM_E_FILE_READ_ONLY");
    ASSERT_TRUE(ok(m.attach("fd0", img, true)));
    try_every_write(m, 0);
    EXPECT_EQ(m.quit_by_qmp(), 0);
    EXPECT_EQ(stamp(img), before);
}

// -drive readonly=on, the host ended by SIGTERM.
TEST(ReadOnlyImage, ReadOnlyDriveOptionIsNeverModified) {
    Scratch s;
    const std::string img = s.image("a.img");
    const FileStamp before = stamp(img);
    Machine m(drive_arg(img, ",readonly=on"));
    ASSERT_TRUE(m.ok());
    try_every_write(m, 0);
    EXPECT_EQ(m.q.quit(), 0);
    EXPECT_EQ(stamp(img), before);
}

}  // namespace
}  // namespace fdplug::test
