// The controller core on the track model: a medium whose tracks hold what a real disk can —
// IDs in any order and of any size, bad ID and data CRCs, deleted and missing data marks, FM
// tracks and other rates — and what each of those shows the guest (docs/hardware/82077aa.md
// §4, §6), in both timing policies.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "hw/block/media/memory_tracks.h"
#include "tests/unit/block/fdc_guest_ports.h"

namespace fdplug::floppy {
namespace {

constexpr Geometry k144{80, 2, 18, DataRate::k500, 300, DriveType::k144, false};

// The bytes of a sector's data field: different for every sector and size.
std::vector<uint8_t> pattern(uint8_t seed, size_t size) {
    std::vector<uint8_t> v(size);
    for (size_t i = 0; i < size; ++i) v[i] = uint8_t(seed * 37 + i * 7 + (i >> 8));
    return v;
}

struct Sector {
    SectorId id;
    uint8_t size_code = 2;
    bool id_crc_ok = true;
    DataMark mark = DataMark::Normal;
    bool data_crc_ok = true;
};

Track make_track(const std::vector<Sector> &sectors, Encoding enc = Encoding::Mfm,
                 DataRate rate = DataRate::k500) {
    Track t(enc, rate);
    for (const Sector &s : sectors) {
        const SectorInfo info{.id = s.id,
                              .size_code = s.size_code,
                              .id_crc_ok = s.id_crc_ok,
                              .mark = s.mark,
                              .data_crc_ok = s.data_crc_ok};
        EXPECT_TRUE(t.add(info, pattern(s.id.r, sector_size(s.size_code))));
    }
    return t;
}

// 18 × 512 bytes, R 1..18 in order, on every track: what a 1.44 MB disk holds.
std::vector<Sector> standard(uint8_t c, uint8_t h) {
    std::vector<Sector> v;
    for (uint8_t r = 1; r <= 18; ++r) v.push_back({.id = {c, h, r, 2}});
    return v;
}

// A track medium in a drive: its tracks are the medium's own (DiskImage::tracks()); the sector
// interface is there for the rest of the stack and is not what the controller reads.
class TrackImage final : public DiskImage {
  public:
    explicit TrackImage(TrackDisk disk, MemoryTracks::CanHold can_hold = nullptr)
        : tracks_(std::move(disk), false, can_hold) {}
    const Geometry &geometry() const override { return k144; }
    bool read_only() const override { return false; }
    MediaStatus read_sector(unsigned c, unsigned h, unsigned r,
                            std::span<uint8_t, kSectorSize> out) override {
        TrackInfo t;
        tracks_.track_info(c, h, t);
        const auto i = find_sector(t, {uint8_t(c), uint8_t(h), uint8_t(r), 2});
        return i ? tracks_.read_data(c, h, *i, out) : MediaStatus::OutOfRange;
    }
    MediaStatus write_sector(unsigned c, unsigned h, unsigned r,
                             std::span<const uint8_t, kSectorSize> in) override {
        TrackInfo t;
        tracks_.track_info(c, h, t);
        const auto i = find_sector(t, {uint8_t(c), uint8_t(h), uint8_t(r), 2});
        return i ? tracks_.write_data(c, h, *i, DataMark::Normal, in) : MediaStatus::OutOfRange;
    }
    Status flush() override { return {}; }
    const std::string &source() const override { return source_; }
    TrackMedium *tracks() override { return &tracks_; }
    bool uniform() const override { return false; }

    MemoryTracks tracks_;

  private:
    std::string source_;
};

class TrackDrive : public ::testing::TestWithParam<TimingPolicy>, protected test::FdcGuestPorts {
  protected:
    TrackImage *image = nullptr;

    // A 1.44 MB disk whose track (0, 0) is `track0`.
    void insert(Track track0, MemoryTracks::CanHold can_hold = nullptr) {
        TrackDisk disk;
        for (uint8_t c = 0; c < 80; ++c)
            for (uint8_t h = 0; h < 2; ++h) disk.put(c, h, make_track(standard(c, h)));
        disk.put(0, 0, std::move(track0));
        fdc = std::make_unique<Fdc82077>(host, FdcConfig{FdcMode::At, GetParam()});
        host.fdc = fdc.get();
        fdc->drive(0).connect(DriveType::k144);
        auto m = std::make_unique<TrackImage>(std::move(disk), can_hold);
        image = m.get();
        fdc->insert_media(0, std::move(m));
        out(kDor, 0x1C);  // motor 0 on, drive 0, DMA, not reset
        host.advance(400 * kNsPerMs);
    }
    // A data command's bytes; its result once INT rises.
    std::vector<uint8_t> run(std::initializer_list<uint8_t> cmd) {
        send(cmd);
        EXPECT_GE(host.run_until_irq(2'000 * kNsPerMs), 0) << "no result within 2 s";
        return result();
    }
    std::vector<uint8_t> read(uint8_t op, uint8_t r, uint8_t n, uint8_t eot, size_t dma,
                              uint8_t c = 0, uint8_t dtl = 0xFF) {
        host.program_dma(DmaCycle::ToMemory, dma);
        return run({op, 0x00, c, 0, r, n, eot, 0x1B, dtl});
    }
    bool memory_holds(size_t at, const std::vector<uint8_t> &bytes) const {
        return host.memory.size() >= at + bytes.size() &&
               std::equal(bytes.begin(), bytes.end(), host.memory.begin() + ptrdiff_t(at));
    }
    TrackInfo track0() {
        TrackInfo t;
        image->tracks_.track_info(0, 0, t);
        return t;
    }
};

constexpr uint8_t kReadData = 0x46, kReadDeleted = 0x4C, kWriteData = 0x45, kWriteDeleted = 0x49;
constexpr uint8_t kSk = 0x20;

// --- item 1: the search over the track's IDs

TEST_P(TrackDrive, FindsSectorsByIdWhateverTheirPhysicalOrder) {
    insert(make_track({{.id = {0, 0, 3, 2}}, {.id = {0, 0, 1, 2}}, {.id = {0, 0, 2, 2}}}));
    EXPECT_EQ(read(kReadData, 1, 2, 3, 1536), (std::vector<uint8_t>{0x00, 0, 0, 1, 0, 1, 2}));
    for (uint8_t r = 1; r <= 3; ++r) EXPECT_TRUE(memory_holds((r - 1) * 512u, pattern(r, 512)));
}

TEST_P(TrackDrive, MatchesNAsWellAsCHR) {
    insert(make_track({{.id = {0, 0, 1, 3}, .size_code = 3}, {.id = {0, 0, 2, 2}}}));
    EXPECT_EQ(read(kReadData, 1, 2, 1, 512), (std::vector<uint8_t>{0x40, 0x04, 0, 0, 0, 1, 2}))
        << "R=1 exists with N=3 only: ND";
}

TEST_P(TrackDrive, AnIdCrcErrorEndsWithDeAndNoDd) {
    auto sectors = standard(0, 0);
    sectors[2].id_crc_ok = false;  // R=3
    insert(make_track(sectors));
    EXPECT_EQ(read(kReadData, 3, 2, 18, 512), (std::vector<uint8_t>{0x40, 0x20, 0x00, 0, 0, 3, 2}));
}

TEST_P(TrackDrive, IdsOfAnotherCylinderSetWrongCylinderOnNoData) {
    std::vector<Sector> sectors;
    for (uint8_t r = 1; r <= 9; ++r) sectors.push_back({.id = {5, 0, r, 2}});
    insert(make_track(sectors));
    EXPECT_EQ(read(kReadData, 1, 2, 9, 512), (std::vector<uint8_t>{0x40, 0x04, 0x10, 0, 0, 1, 2}));
}

TEST_P(TrackDrive, AnIdWithCylinderFFSetsBadCylinderToo) {
    insert(make_track({{.id = {0xFF, 0, 1, 2}}, {.id = {0xFF, 0, 2, 2}}}));
    EXPECT_EQ(read(kReadData, 1, 2, 2, 512), (std::vector<uint8_t>{0x40, 0x04, 0x12, 0, 0, 1, 2}));
}

TEST_P(TrackDrive, AnFmTrackShowsNoIdToAnMfmRead) {
    insert(make_track(standard(0, 0), Encoding::Fm));
    EXPECT_EQ(read(kReadData, 1, 2, 18, 512), (std::vector<uint8_t>{0x40, 0x01, 0, 0, 0, 1, 2}));
    EXPECT_EQ(read(kReadData & ~0x40, 1, 2, 1, 512), (std::vector<uint8_t>{0x00, 0, 0, 1, 0, 1, 2}))
        << "an FM read finds its IDs";
    EXPECT_TRUE(memory_holds(0, pattern(1, 512)));
}

TEST_P(TrackDrive, ATrackAtAnotherRateShowsNoId) {
    insert(make_track(standard(0, 0), Encoding::Mfm, DataRate::k250));
    EXPECT_EQ(read(kReadData, 1, 2, 18, 512), (std::vector<uint8_t>{0x40, 0x01, 0, 0, 0, 1, 2}));
    out(kCcr, 0x02);  // 250 kbit/s
    EXPECT_EQ(read(kReadData, 1, 2, 1, 512), (std::vector<uint8_t>{0x00, 0, 0, 1, 0, 1, 2}));
}

TEST_P(TrackDrive, ReadIdReturnsTheRecordedIdsInRotationOrder) {
    const std::vector<SectorId> ids = {{0, 0, 7, 2}, {0, 0, 3, 2}, {4, 1, 9, 3}, {0, 0, 1, 2}};
    std::vector<Sector> sectors;
    for (const SectorId &id : ids) sectors.push_back({.id = id, .size_code = id.n});
    insert(make_track(sectors));
    std::vector<SectorId> seen;
    for (int i = 0; i < 5; ++i) {
        const auto r = run({0x4A, 0x00});
        ASSERT_EQ(r.size(), 7u);
        EXPECT_EQ(r[0] & 0xC0, 0x00);
        seen.push_back({r[3], r[4], r[5], r[6]});
    }
    const auto first = std::find(ids.begin(), ids.end(), seen[0]);
    ASSERT_NE(first, ids.end()) << "READ ID returned an ID the track does not have";
    for (size_t i = 0; i < seen.size(); ++i)
        EXPECT_EQ(seen[i], ids[(size_t(first - ids.begin()) + i) % ids.size()]) << "READ ID " << i;
}

// --- item 2: data fields

TEST_P(TrackDrive, ReadsEverySectorSizeUpTo16KiB) {
    for (uint8_t n : {0, 1, 3, 5, 6, 7}) {
        SCOPED_TRACE(int(n));
        insert(make_track({{.id = {0, 0, 1, n}, .size_code = n}}));
        const size_t size = sector_size(n);
        EXPECT_EQ(read(kReadData, 1, n, 1, size), (std::vector<uint8_t>{0x00, 0, 0, 1, 0, 1, n}));
        EXPECT_TRUE(memory_holds(0, pattern(1, size)));
    }
}

TEST_P(TrackDrive, NZeroMovesDtlBytes) {
    insert(
        make_track({{.id = {0, 0, 1, 0}, .size_code = 0}, {.id = {0, 0, 2, 0}, .size_code = 0}}));
    EXPECT_EQ(read(kReadData, 1, 0, 2, 80, 0, 40), (std::vector<uint8_t>{0x00, 0, 0, 1, 0, 1, 0}));
    const auto a = pattern(1, 128), b = pattern(2, 128);
    EXPECT_TRUE(memory_holds(0, {a.begin(), a.begin() + 40}));
    EXPECT_TRUE(memory_holds(40, {b.begin(), b.begin() + 40}));
}

TEST_P(TrackDrive, ReadDataMovesADeletedSectorWithCmAndEndsAfterIt) {
    auto sectors = standard(0, 0);
    sectors[1].mark = DataMark::Deleted;  // R=2
    insert(make_track(sectors));
    EXPECT_EQ(read(kReadData, 1, 2, 18, 4 * 512),
              (std::vector<uint8_t>{0x00, 0, 0x40, 0, 0, 3, 2}));
    EXPECT_TRUE(memory_holds(512, pattern(2, 512)));
    EXPECT_EQ(host.dma_pos, 2 * 512u) << "nothing after the deleted sector";
}

TEST_P(TrackDrive, ReadDataWithSkSkipsADeletedSector) {
    auto sectors = standard(0, 0);
    sectors[1].mark = DataMark::Deleted;  // R=2
    insert(make_track(sectors));
    EXPECT_EQ(read(kReadData | kSk, 1, 2, 18, 2 * 512),
              (std::vector<uint8_t>{0x00, 0, 0x40, 0, 0, 4, 2}));
    EXPECT_TRUE(memory_holds(0, pattern(1, 512)));
    EXPECT_TRUE(memory_holds(512, pattern(3, 512))) << "R=2 skipped";
}

TEST_P(TrackDrive, ReadDeletedReadsDeletedSectorsAndMeetsNormalOnesWithCm) {
    auto sectors = standard(0, 0);
    sectors[0].mark = sectors[1].mark = DataMark::Deleted;
    insert(make_track(sectors));
    EXPECT_EQ(read(kReadDeleted, 1, 2, 18, 4 * 512),
              (std::vector<uint8_t>{0x00, 0, 0x40, 0, 0, 4, 2}))
        << "R=1, 2 deleted: no CM; R=3 normal: moved with CM, then the end";
    EXPECT_TRUE(memory_holds(1024, pattern(3, 512)));
    EXPECT_EQ(read(kReadDeleted | kSk, 1, 2, 4, 3 * 512),
              (std::vector<uint8_t>{0x40, 0x80, 0x40, 0, 0, 4, 2}))
        << "SK: R=3, 4 skipped, EOT without TC (EN names the last sector)";
    EXPECT_EQ(host.dma_pos, 2 * 512u);
}

TEST_P(TrackDrive, WriteDeletedStoresADeletedMark) {
    insert(make_track(standard(0, 0)));
    const auto data = pattern(99, 512);
    host.program_dma(DmaCycle::FromMemory, 512, data);
    EXPECT_EQ(run({kWriteDeleted, 0x00, 0, 0, 5, 2, 18, 0x1B, 0xFF}),
              (std::vector<uint8_t>{0x00, 0, 0, 0, 0, 6, 2}));
    EXPECT_EQ(track0().sectors[4].mark, DataMark::Deleted);
    EXPECT_EQ(read(kReadDeleted, 5, 2, 18, 512), (std::vector<uint8_t>{0x00, 0, 0, 0, 0, 6, 2}));
    EXPECT_TRUE(memory_holds(0, data));
    host.program_dma(DmaCycle::FromMemory, 512, data);
    run({kWriteData, 0x00, 0, 0, 5, 2, 18, 0x1B, 0xFF});
    EXPECT_EQ(track0().sectors[4].mark, DataMark::Normal) << "WRITE DATA writes a normal mark";
}

TEST_P(TrackDrive, ADataCrcErrorMovesTheDataAndEndsWithDeDd) {
    auto sectors = standard(0, 0);
    sectors[1].data_crc_ok = false;  // R=2
    insert(make_track(sectors));
    EXPECT_EQ(read(kReadData, 1, 2, 18, 4 * 512),
              (std::vector<uint8_t>{0x40, 0x20, 0x20, 0, 0, 2, 2}));
    EXPECT_TRUE(memory_holds(512, pattern(2, 512))) << "the data is transferred";
    EXPECT_EQ(host.dma_pos, 2 * 512u);
}

TEST_P(TrackDrive, AnIdWithoutDataFieldEndsWithMaMd) {
    auto sectors = standard(0, 0);
    sectors[0].mark = DataMark::None;
    insert(make_track(sectors));
    EXPECT_EQ(read(kReadData, 1, 2, 18, 512), (std::vector<uint8_t>{0x40, 0x01, 0x01, 0, 0, 1, 2}));
    EXPECT_EQ(host.dma_pos, 0u);
}

// --- item 4: timing from the track's real layout

// Back-to-back READ IDs catch consecutive IDs; under `accurate` each comes one sector slot of
// its track after the previous one: 62 bytes of ID and marks, the data field's own size and
// gap 3 (0x6C at 500 kbit/s, 300 rpm), 16 µs a byte — not the 682 bytes of an 18 × 512 track.
// Under `fast` every READ ID takes QEMU's 20 ms.
TEST_P(TrackDrive, ReadIdsComeOneRealSectorSlotApart) {
    const std::vector<uint8_t> sizes = {2, 3, 1, 6, 0};
    std::vector<Sector> sectors;
    for (uint8_t i = 0; i < sizes.size(); ++i)
        sectors.push_back({.id = {0, 0, uint8_t(i + 1), sizes[i]}, .size_code = sizes[i]});
    insert(make_track(sectors));
    std::vector<uint8_t> r;
    std::vector<int64_t> at;
    for (int i = 0; i < 6; ++i) {
        send({0x4A, 0x00});
        at.push_back(host.run_until_irq(2'000 * kNsPerMs));
        r.push_back(result()[5]);
    }
    unsigned checked = 0;
    for (size_t i = 0; i + 1 < r.size(); ++i) {
        const int64_t gap = at[i + 1] - at[i];
        if (GetParam() == TimingPolicy::Fast) {
            EXPECT_EQ(gap, 20 * kNsPerMs);
            ++checked;
            continue;
        }
        if (r[i + 1] != r[i] + 1) continue;  // across the index: gap 4b as well
        const int64_t slot = 62 + int64_t(sector_size(sizes[r[i] - 1])) + 0x6C;
        EXPECT_EQ(gap, slot * 16'000) << "from R=" << int(r[i]);
        ++checked;
    }
    EXPECT_GE(checked, 4u);
}

// --- item 3: READ TRACK and FORMAT

TEST_P(TrackDrive, ReadTrackReadsTheFieldsInPhysicalOrderWhateverTheirIds) {
    insert(make_track({{.id = {0, 0, 5, 2}}, {.id = {0, 0, 1, 2}}, {.id = {9, 1, 3, 2}}}));
    const auto r = read(0x42, 1, 2, 3, 3 * 512);
    ASSERT_EQ(r.size(), 7u);
    EXPECT_EQ(r[0] & 0xC0, 0x00);
    EXPECT_TRUE(memory_holds(0, pattern(5, 512)));
    EXPECT_TRUE(memory_holds(512, pattern(1, 512)));
    EXPECT_TRUE(memory_holds(1024, pattern(3, 512)));
}

// FORMAT TRACK of `ids` (C H R N each) with size code n, gap 3 and fill.
std::vector<uint8_t> format_bytes(const std::vector<SectorId> &ids) {
    std::vector<uint8_t> v;
    for (const SectorId &id : ids) v.insert(v.end(), {id.c, id.h, id.r, id.n});
    return v;
}

class TrackFormatting : public TrackDrive {
  protected:
    std::vector<uint8_t> format(uint8_t n, const std::vector<SectorId> &ids, uint8_t fill) {
        host.program_dma(DmaCycle::FromMemory, 4 * ids.size(), format_bytes(ids));
        return run({0x4D, 0x00, n, uint8_t(ids.size()), 0x54, fill});
    }
};

TEST_P(TrackFormatting, LaysDownTheTrackTheHostDescribed) {
    struct Case {
        uint8_t n;
        std::vector<uint8_t> rs;  // physical order: an interleave
    };
    for (const Case &k : {Case{3, {1, 2, 3, 4, 5}}, Case{2, {1, 6, 2, 7, 3, 8, 4, 9, 5, 10}},
                          Case{1, {9, 1, 8, 2, 7, 3, 6, 4, 5}}}) {
        SCOPED_TRACE(int(k.n));
        insert(make_track(standard(0, 0)));
        std::vector<SectorId> ids;
        for (uint8_t r : k.rs) ids.push_back({0, 0, r, k.n});
        const auto res = format(k.n, ids, 0xE5);
        EXPECT_EQ(res, (std::vector<uint8_t>{0x00, 0, 0, 0, 0, k.rs.back(), k.n}));
        const TrackInfo t = track0();
        ASSERT_EQ(t.sectors.size(), k.rs.size());
        for (size_t i = 0; i < ids.size(); ++i) {
            EXPECT_EQ(t.sectors[i].id, ids[i]);
            EXPECT_EQ(t.sectors[i].size_code, k.n);
        }
        const size_t size = sector_size(k.n), count = k.rs.size();
        host.program_dma(DmaCycle::ToMemory, size * count);
        const auto rd = run({kReadData, 0x00, 0, 0, 1, k.n, uint8_t(count), 0x1B, 0xFF});
        EXPECT_EQ(rd, (std::vector<uint8_t>{0x00, 0, 0, 1, 0, 1, k.n})) << "a later READ sees it";
        EXPECT_TRUE(std::all_of(host.memory.begin(), host.memory.end(),
                                [](uint8_t b) { return b == 0xE5; }));
        EXPECT_EQ(read(kReadData, 1, 2, 1, 512)[1], k.n == 2 ? 0x00 : 0x04)
            << "N=2 IDs exist only where formatted so";
    }
}

Status at_most_nine(const Track &t) {
    if (t.sector_count() <= 9) return {};
    return Error(ErrorKind::Unsupported, "at most 9 sectors");
}

TEST_P(TrackFormatting, AMediumThatCannotHoldTheTrackEndsWithEn) {
    insert(make_track(standard(0, 0)), at_most_nine);
    std::vector<SectorId> ids;
    for (uint8_t r = 1; r <= 10; ++r) ids.push_back({0, 0, r, 2});
    const auto res = format(2, ids, 0xF6);
    ASSERT_EQ(res.size(), 7u);
    EXPECT_EQ(res[0] & 0xC0, 0x40);
    EXPECT_EQ(res[1], 0x80) << "EN";
    EXPECT_EQ(track0().sectors.size(), 18u) << "the track is unchanged";
    ids.pop_back();
    EXPECT_EQ(format(2, ids, 0xF6)[0] & 0xC0, 0x00) << "9 sectors fit";
    EXPECT_EQ(track0().sectors.size(), 9u);
}

INSTANTIATE_TEST_SUITE_P(Timing, TrackFormatting,
                         ::testing::Values(TimingPolicy::Accurate, TimingPolicy::Fast),
                         [](const auto &info) {
                             return info.param == TimingPolicy::Fast ? "Fast" : "Accurate";
                         });

INSTANTIATE_TEST_SUITE_P(Timing, TrackDrive,
                         ::testing::Values(TimingPolicy::Accurate, TimingPolicy::Fast),
                         [](const auto &info) {
                             return info.param == TimingPolicy::Fast ? "Fast" : "Accurate";
                         });

}  // namespace
}  // namespace fdplug::floppy
