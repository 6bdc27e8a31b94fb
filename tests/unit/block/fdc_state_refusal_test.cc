// Device state that must be refused: truncated at every length, every bit flipped, wrong
// versions and lengths, every field out of its range, broken invariants with a valid checksum,
// another medium, drive or configuration. Each time load fails with an error naming what is
// wrong, and the device — its state, its pins, its timer — is exactly as it was.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "hw/block/fdc/fdc82077.h"
#include "hw/block/media/memory_image.h"
#include "hw/block/state/fdc_state_format.h"
#include "tests/unit/block/fake_fdc_host.h"
#include "tests/unit/block/state_blobs.h"

namespace fdplug::floppy::test {
namespace {

namespace sf = state_format;

constexpr Geometry k144{80, 2, 18, DataRate::k500, 300, DriveType::k144, false};
constexpr Geometry k720{80, 2, 9, DataRate::k250, 300, DriveType::k144, false};
constexpr int64_t kMs = kNsPerMs;

// load_state()'s error message; "" when it accepted the state.
std::string load_error(Fdc82077 &fdc, const FdcState &s) {
    const Status loaded = fdc.load_state(s);
    return loaded ? "" : loaded.error().message();
}

std::vector<uint8_t> patterned(const Geometry &g, uint32_t seed) {
    std::vector<uint8_t> v(g.size_bytes());
    for (size_t i = 0; i < v.size(); ++i) v[i] = uint8_t((i / 512) * 7 + (i % 512) + seed * 13);
    return v;
}

struct Rig {
    explicit Rig(FdcConfig config = {}, bool media = true, int64_t clock = 5 * kMs) {
        host.now = clock;
        fdc = std::make_unique<Fdc82077>(host, config);
        host.fdc = fdc.get();
        fdc->drive(0).connect(DriveType::k144);
        fdc->drive(1).connect(DriveType::k144);
        if (media) fdc->insert_media(0, std::make_unique<MemoryImage>(k144, patterned(k144, 0)));
    }
    FakeFdcHost host;
    std::unique_ptr<Fdc82077> fdc;
    void send(std::initializer_list<uint8_t> bytes) {
        for (uint8_t b : bytes) {
            fdc->write(kFifo, b);
            host.service_dma();
        }
    }
};

// A state in the middle of a DMA read: sector 3 of a two-sector read half moved, the FIFO on,
// a seek running on drive 1, timers pending.
std::vector<uint8_t> mid_transfer_blob(FdcState *state = nullptr) {
    Rig r;
    r.fdc->write(kDor, 0x3C);
    r.send({0x03, 0xDF, 0x02});
    r.send({0x13, 0x00, 0x07, 0x00});  // FIFO on, threshold 8
    r.host.advance(500 * kMs);
    r.send({0x0F, 0x01, 40});  // drive 1 seeks 40 cylinders
    r.host.dma_chunk = 1;
    r.host.program_dma(DmaCycle::ToMemory, 1024);
    r.send({0x46, 0x00, 0, 0, 3, 2, 4, 0x1B, 0xFF});
    for (int guard = 0; guard < 100000; ++guard) {
        const ControllerState c = r.fdc->state().ctrl;
        if (c.exec.step == ExecStep::Transfer && c.exec.stream.moved > 100) break;
        r.host.advance(20'000);
    }
    const Expected<FdcState> saved = r.fdc->save_state();
    EXPECT_TRUE(saved) << saved.error().message();
    const FdcState s = saved ? *saved : FdcState{};
    const ControllerState &c = s.ctrl;
    EXPECT_EQ(c.exec.step, ExecStep::Transfer);
    EXPECT_TRUE(c.exec.stream.moved > 0 && c.exec.stream.moved < c.exec.stream.len);
    EXPECT_TRUE(c.seeks[1].active);
    EXPECT_NE(c.armed, kNever);
    if (state) *state = s;
    return sf::encode(s);
}

void put_u32(std::vector<uint8_t> &b, size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) b[at + i] = uint8_t(v >> (8 * i));
}
void fix_crc(std::vector<uint8_t> &b) {
    put_u32(b, b.size() - 4, sf::crc32(std::span<const uint8_t>(b.data(), b.size() - 4)));
}

// The device under attack: a rig with state of its own (a seek running, INT high, a timer set).
class Target {
  public:
    Target(FdcConfig config = {}, bool media = true) : rig(config, media, 77 * kMs) {
        rig.fdc->write(kDor, 0x1C);
        rig.send({0x03, 0xAF, 0x04});
        rig.send({0x0F, 0x00, 5});    // a seek, done in 5 steps
        rig.host.advance(200 * kMs);  // done: INT high, status queued
        rig.send({0x0F, 0x00, 60});   // another, running
        before_ = rig.fdc->state();
        irq_ = rig.host.irq;
        drq_ = rig.host.drq;
        deadline_ = rig.host.deadline;
        edges_ = rig.host.irq_edges.size() + rig.host.drq_edges.size();
    }
    // Decode + load, as the plugin does; true when refused with the device untouched.
    ::testing::AssertionResult refused(std::span<const uint8_t> blob,
                                       const std::string &expect_in_error = "") {
        FdcState s;
        std::string error;
        if (sf::decode(blob, &s, &error)) error = load_error(*rig.fdc, s);
        if (error.empty()) return ::testing::AssertionFailure() << "accepted";
        return untouched(error, expect_in_error);
    }
    ::testing::AssertionResult refused_state(const FdcState &s,
                                             const std::string &expect_in_error = "") {
        const std::string error = load_error(*rig.fdc, s);
        if (error.empty()) return ::testing::AssertionFailure() << "accepted";
        return untouched(error, expect_in_error);
    }
    Rig rig;

  private:
    ::testing::AssertionResult untouched(const std::string &error, const std::string &expect) {
        if (error.empty()) return ::testing::AssertionFailure() << "refused without a message";
        if (!expect.empty() && error.find(expect) == std::string::npos)
            return ::testing::AssertionFailure()
                   << "error '" << error << "' does not mention '" << expect << "'";
        if (!(rig.fdc->state() == before_))
            return ::testing::AssertionFailure() << "state changed; error was: " << error;
        if (rig.host.irq != irq_ || rig.host.drq != drq_ || rig.host.deadline != deadline_ ||
            rig.host.irq_edges.size() + rig.host.drq_edges.size() != edges_)
            return ::testing::AssertionFailure() << "pins or timer touched; error was: " << error;
        return ::testing::AssertionSuccess() << error;
    }
    FdcState before_;
    bool irq_, drq_;
    int64_t deadline_;
    size_t edges_;
};

TEST(FdcStateRefusal, TheGoodStateLoadsIntoTheTarget) {
    const std::vector<uint8_t> blob = mid_transfer_blob();
    Target t;
    FdcState s;
    std::string error;
    ASSERT_TRUE(sf::decode(blob, &s, &error)) << error;
    ASSERT_EQ(load_error(*t.rig.fdc, s), "");
    EXPECT_TRUE(t.rig.host.drq || t.rig.host.deadline != kNever);
}

TEST(FdcStateRefusal, TruncatedAtEveryLength) {
    const std::vector<uint8_t> blob = mid_transfer_blob();
    Target t;
    for (size_t n = 0; n < blob.size(); ++n)
        ASSERT_TRUE(t.refused(std::span<const uint8_t>(blob.data(), n)))
            << "truncated to " << n << " of " << blob.size();
}

TEST(FdcStateRefusal, EveryBitFlipped) {
    const std::vector<uint8_t> blob = mid_transfer_blob();
    Target t;
    for (size_t i = 0; i < blob.size(); ++i)
        for (int bit = 0; bit < 8; ++bit) {
            std::vector<uint8_t> b = blob;
            b[i] ^= uint8_t(1u << bit);
            ASSERT_TRUE(t.refused(b)) << "bit " << bit << " of byte " << i;
        }
}

TEST(FdcStateRefusal, WrongMagicVersionLengthOrTrailingBytes) {
    const std::vector<uint8_t> blob = mid_transfer_blob();
    Target t;
    std::vector<uint8_t> b = blob;
    b[0] = 'X';
    fix_crc(b);
    EXPECT_TRUE(t.refused(b, "not an fdc82077 state"));
    for (uint32_t v : {0u, sf::kVersion + 1, 0xFFFFFFFFu}) {
        b = blob;
        put_u32(b, 8, v);
        fix_crc(b);
        EXPECT_TRUE(t.refused(b, "version " + std::to_string(v))) << v;
    }
    b = blob;
    put_u32(b, 12, uint32_t(blob.size()));  // longer than the blob
    fix_crc(b);
    EXPECT_TRUE(t.refused(b, "announces"));
    // A longer payload that announces itself correctly: bytes after the last field.
    b = blob;
    b.insert(b.end() - 4, {1, 2, 3});
    put_u32(b, 12, uint32_t(b.size() - 20));
    fix_crc(b);
    EXPECT_TRUE(t.refused(b, "after its last field"));
    // One field short, announced correctly.
    b = blob;
    b.erase(b.end() - 5);
    put_u32(b, 12, uint32_t(b.size() - 20));
    fix_crc(b);
    EXPECT_TRUE(t.refused(b, "ends before this field"));
}

// Every field of `blob`, a blob of `version`, given the first value past its range (with a
// valid checksum): refused by the decoder, naming that field. Returns the values tried.
size_t refuse_every_field_out_of_range(const std::vector<uint8_t> &blob, uint32_t version) {
    Target t;
    size_t tried = 0;
    const std::vector<EncodedField> fields = encoded_fields(blob, version);
    for (const auto &[f, off, w] : fields) {
        std::vector<std::vector<uint8_t>> bad;
        auto with = [&](uint64_t v, size_t at, size_t width) {
            std::vector<uint8_t> b = blob;
            for (size_t i = 0; i < width; ++i) b[at + i] = uint8_t(v >> (8 * i));
            fix_crc(b);
            bad.push_back(b);
        };
        const uint64_t type_max = w >= 8 ? ~uint64_t(0) : (uint64_t(1) << (8 * w)) - 1;
        if (f.kind == "instant") {
            if (f.form == TimeForm::Instant || f.form == TimeForm::InstantOrLongAgo)
                with(uint64_t(kNever), off, 8);
            if (f.form == TimeForm::Instant || f.form == TimeForm::Deadline)
                with(uint64_t(kLongAgo), off, 8);
            with(uint64_t(kMaxRelativeNs) + 1, off, 8);
            with(uint64_t(-kMaxRelativeNs - 1), off, 8);
        } else if (f.kind == "bytes") {
            if (f.max < 255) with(uint64_t(f.max + 1), off + f.width - 1, 1);
        } else if (f.kind == "string") {
            with(uint64_t(f.max + 1), off, 2);
        } else if (f.kind == "i64") {
            with(uint64_t(f.max) + 1, off, 8);
            if (f.min > INT64_MIN) with(uint64_t(f.min - 1), off, 8);
        } else if (f.kind == "u64") {
            if (f.max >= 0) with(uint64_t(f.max) + 1, off, 8);
        } else if (uint64_t(f.max) < type_max) {
            with(uint64_t(f.max) + 1, off, w);
        }
        for (const auto &b : bad) {
            ++tried;
            EXPECT_TRUE(t.refused(b, f.path)) << f.path << " (" << f.kind << ")";
        }
    }
    EXPECT_EQ(fields.back().offset + fields.back().width + 4, blob.size())
        << "the walk covered the whole payload";
    return tried;
}

TEST(FdcStateRefusal, EveryFieldOutOfItsRange) {
    const size_t tried = refuse_every_field_out_of_range(mid_transfer_blob(), sf::kVersion);
    EXPECT_GT(tried, 100u);
    std::printf("%zu out-of-range values refused, each naming its field\n", tried);
}

// A version 1 blob is checked as version 1 did, its dropped fields included.
TEST(FdcStateRefusal, EveryFieldOfAVersion1BlobOutOfItsRange) {
    const std::vector<uint8_t> blob = golden_state("accurate-mid-sector-dma.v1");
    ASSERT_FALSE(blob.empty());
    const size_t tried = refuse_every_field_out_of_range(blob, 1);
    EXPECT_GT(tried, 100u);
    std::printf("%zu out-of-range values of version 1 refused\n", tried);
}

// Values each in range, together impossible: refused by the core, naming the field.
TEST(FdcStateRefusal, BrokenInvariantsWithAValidChecksum) {
    FdcState good;
    mid_transfer_blob(&good);
    Target t;
    struct Case {
        const char *field;
        void (*mutate)(FdcState &);
    };
    const Case cases[] = {
        {"ctrl.exec.stream.moved",
         [](FdcState &s) {
             s.ctrl.exec.stream.len = 4;
             s.ctrl.exec.stream.moved = 200;
         }},
        {"ctrl.exec.stream.len",
         [](FdcState &s) {
             s.ctrl.exec.stream.len = 100;
             s.ctrl.exec.stream.moved = 50;
         }},
        {"ctrl.exec.stream.ns_num",
         [](FdcState &s) {
             s.ctrl.exec.stream.ns_num = 1;
             s.ctrl.exec.stream.ns_den = 3;
         }},
        {"ctrl.exec.layout", [](FdcState &s) { s.ctrl.exec.layout.gap3 = 3; }},
        {"ctrl.exec.r", [](FdcState &s) { s.ctrl.exec.r = 19; }},
        {"ctrl.exec.r", [](FdcState &s) { s.ctrl.exec.r = 0; }},
        {"ctrl.exec.unit", [](FdcState &s) { s.ctrl.exec.unit = 2; }},
        {"ctrl.exec.cmd", [](FdcState &s) { s.ctrl.exec.cmd = Command::Specify; }},
        {"ctrl.exec_active",
         [](FdcState &s) {
             s.ctrl.phase = FdcPhase::Result;
             s.ctrl.res_len = 7;
         }},
        {"ctrl.res_pos",
         [](FdcState &s) {
             s.ctrl.exec_active = false;
             s.ctrl.drq_out = false;
             s.ctrl.phase = FdcPhase::Result;
             s.ctrl.res_len = 7;
             s.ctrl.res_pos = 7;
         }},
        {"ctrl.cmd_len",
         [](FdcState &s) {
             s.ctrl.exec_active = false;
             s.ctrl.drq_out = false;
             s.ctrl.phase = FdcPhase::Command;
             s.ctrl.cmd[0] = 0x03;  // SPECIFY takes 3 bytes
             s.ctrl.cmd_len = 3;
         }},
        {"ctrl.status_queue[1]",
         [](FdcState &s) {
             s.ctrl.status_count = 2;
             s.ctrl.status_queue[0] = s.ctrl.status_queue[1] = 1;
         }},
        {"ctrl.seeks[1].step_ns", [](FdcState &s) { s.ctrl.seeks[1].step_ns = 12345; }},
        {"ctrl.seeks[1].done", [](FdcState &s) { s.ctrl.seeks[1].done = kNever; }},
        {"ctrl.seeks[2].done", [](FdcState &s) { s.ctrl.seeks[2].done = 5 * kMs; }},
        {"ctrl.drq_out",
         [](FdcState &s) {
             s.ctrl.nd = true;  // PIO: no DRQ
             s.ctrl.drq_out = true;
         }},
        {"ctrl.irq_out",
         [](FdcState &s) {
             s.ctrl.irq_out = true;
             s.ctrl.dor = 0x14;  // gated off (DMA/INT enable clear)
             s.ctrl.drq_out = false;
         }},
        {"ctrl.phase", [](FdcState &s) { s.ctrl.dor = 0x18; }},  // held in reset, mid-command
        {"drives[0].mech.cylinder", [](FdcState &s) { s.drives[0].mech.cylinder = 84; }},
        {"ctrl.exec.layout",
         [](FdcState &s) {
             s.ctrl.exec.step = ExecStep::HeadLoad;  // before any search the layout is the default
         }},
    };
    for (const Case &c : cases) {
        FdcState s = good;
        c.mutate(s);
        FdcState decoded;
        std::string error;
        ASSERT_TRUE(sf::decode(sf::encode(s), &decoded, &error)) << c.field << ": " << error;
        EXPECT_TRUE(t.refused_state(decoded, c.field)) << c.field;
    }
}

TEST(FdcStateRefusal, AnotherMediumDriveOrConfiguration) {
    const std::vector<uint8_t> blob = mid_transfer_blob();
    {
        Target t(FdcConfig{}, false);  // no medium
        EXPECT_TRUE(t.refused(blob, "drives[0].media.present"));
    }
    {
        Target t;  // same geometry, one byte different
        auto m = t.rig.fdc->eject_media(0);
        auto *img = static_cast<MemoryImage *>(m.get());
        img->bytes()[1234567] ^= 1;
        t.rig.fdc->insert_media(0, std::move(m));
        FdcState s;
        std::string error;
        ASSERT_TRUE(sf::decode(blob, &s, &error));
        error = load_error(*t.rig.fdc, s);
        EXPECT_NE(error.find("drives[0].media.fingerprint"), std::string::npos) << error;
    }
    {
        Target t;  // another geometry
        t.rig.fdc->eject_media(0);
        t.rig.fdc->insert_media(0, std::make_unique<MemoryImage>(k720, patterned(k720, 0)));
        FdcState s;
        std::string error;
        ASSERT_TRUE(sf::decode(blob, &s, &error));
        error = load_error(*t.rig.fdc, s);
        EXPECT_NE(error.find("drives[0].media.geometry"), std::string::npos) << error;
    }
    {
        Target t;  // read-only now
        t.rig.fdc->eject_media(0);
        t.rig.fdc->insert_media(0, std::make_unique<MemoryImage>(k144, patterned(k144, 0), true));
        FdcState s;
        std::string error;
        ASSERT_TRUE(sf::decode(blob, &s, &error));
        error = load_error(*t.rig.fdc, s);
        EXPECT_NE(error.find("drives[0].media.read_only"), std::string::npos) << error;
    }
    {
        Target t;  // drive 1 of another type
        t.rig.fdc->drive(1).connect(DriveType::k288);
        FdcState s;
        std::string error;
        ASSERT_TRUE(sf::decode(blob, &s, &error));
        error = load_error(*t.rig.fdc, s);
        EXPECT_NE(error.find("drives[1].type"), std::string::npos) << error;
    }
    EXPECT_TRUE(Target(FdcConfig{FdcMode::At, TimingPolicy::Fast}).refused(blob, "config.timing"));
    EXPECT_TRUE(Target(FdcConfig{FdcMode::Ps2}).refused(blob, "config.mode"));
    EXPECT_TRUE(Target(FdcConfig{FdcMode::At, TimingPolicy::Accurate, ImpliedSeek::Always})
                    .refused(blob, "config.implied_seek"));
}

// An empty drive's medium identity is the empty one: a state that gives it a geometry, size,
// write protection or fingerprint would load and then save as another state (state_load_fuzz
// found the fingerprint case: corpus/state_load/regress-empty-drive-fingerprint).
TEST(FdcStateRefusal, AnEmptyDriveHasNoMediumIdentity) {
    FdcState good;
    mid_transfer_blob(&good);
    ASSERT_FALSE(good.drives[1].media.present);
    struct Case {
        const char *field;
        void (*apply)(MediaIdentity &);
    };
    const Case cases[] = {
        {"drives[1].media.fingerprint",
         [](MediaIdentity &m) { m.fingerprint = 0x3c9b6ab92b250000; }},
        {"drives[1].media.geometry", [](MediaIdentity &m) { m.geometry = k144; }},
        {"drives[1].media.size", [](MediaIdentity &m) { m.size = 512; }},
        {"drives[1].media.read_only", [](MediaIdentity &m) { m.read_only = true; }},
    };
    for (const Case &c : cases) {
        Target t;
        FdcState s = good;
        c.apply(s.drives[1].media);
        FdcState decoded;
        std::string error;
        ASSERT_TRUE(sf::decode(sf::encode(s), &decoded, &error)) << c.field << ": " << error;
        EXPECT_TRUE(t.refused_state(decoded, c.field)) << c.field;
    }
    Target t;
    EXPECT_EQ(load_error(*t.rig.fdc, good), "");
}

// Only FORMAT and VERIFY with EC count sectors, and they stop at their limit: a count beyond it
// (or any count for a command without one) would run on past what a device can save
// (state_load_fuzz, tests/fuzz/corpus/state_load/regress-exec-count-past-limit).
TEST(FdcStateRefusal, ASectorCountPastItsLimitIsRefused) {
    FdcState good;
    mid_transfer_blob(&good);
    ASSERT_TRUE(good.ctrl.exec_active);
    ASSERT_EQ(good.ctrl.exec.limit, 0) << "a READ has no sector limit";
    for (uint16_t count : {uint16_t(1), uint16_t(1024)}) {
        Target t;
        FdcState s = good;
        s.ctrl.exec.count = count;
        FdcState decoded;
        std::string error;
        ASSERT_TRUE(sf::decode(sf::encode(s), &decoded, &error)) << count << ": " << error;
        EXPECT_TRUE(t.refused_state(decoded, "ctrl.exec.count")) << count;
    }
    Target t;
    EXPECT_EQ(load_error(*t.rig.fdc, good), "");
}

TEST(FdcStateRefusal, AfterARefusalTheSameDeviceStillLoadsAGoodState) {
    const std::vector<uint8_t> blob = mid_transfer_blob();
    Target t;
    std::vector<uint8_t> bad = blob;
    bad[100] ^= 0x10;
    ASSERT_TRUE(t.refused(bad));
    FdcState s;
    std::string error;
    ASSERT_TRUE(sf::decode(blob, &s, &error)) << error;
    ASSERT_EQ(load_error(*t.rig.fdc, s), "");
    const Expected<FdcState> again = t.rig.fdc->save_state();
    ASSERT_TRUE(again);
    EXPECT_TRUE(*again == s);
}

// The fields the wire format encodes as instants are exactly those the core rebases.
TEST(FdcStateFormat, InstantFieldsAgreeWithTheCore) {
    std::set<std::string> core, table;
    FdcState s;
    for_each_instant(s, [&core](const char *name, int index, int64_t &, TimeForm) {
        std::string n = name;
        if (const size_t at = n.find("[]"); at != std::string::npos)
            n.insert(at + 1, std::to_string(index));
        core.insert(n);
    });
    for (const sf::FieldDescription &f : sf::describe())
        if (f.kind == "instant") table.insert(f.path);
    EXPECT_EQ(core, table);
    EXPECT_EQ(core.size(), 27u);
}

// Version 2 dropped ctrl.exec.st0 and ctrl.exec.scan_fail, which the model never read. A
// version 1 blob still has them: read, range-checked as version 1 did, and dropped, so that any
// value version 1 allowed loads the same state.
TEST(FdcStateFormat, Version1DroppedFieldsAreCheckedAndDropped) {
    const std::vector<uint8_t> v1 = golden_state("accurate-mid-sector-dma.v1");
    ASSERT_FALSE(v1.empty());
    FdcState plain;
    std::string error;
    ASSERT_TRUE(sf::decode(v1, &plain, &error)) << error;
    std::map<std::string, size_t> dropped;  // path -> offset in the version 1 blob
    for (const EncodedField &e : encoded_fields(v1, 1))
        if (e.field.until) dropped[e.field.path] = e.offset;
    ASSERT_EQ(dropped.size(), 2u);
    ASSERT_TRUE(dropped.count("ctrl.exec.st0") && dropped.count("ctrl.exec.scan_fail"));

    std::vector<uint8_t> b = v1;
    b[dropped["ctrl.exec.st0"]] = 0xC4;
    b[dropped["ctrl.exec.scan_fail"]] = 1;
    fix_crc(b);
    FdcState s;
    ASSERT_TRUE(sf::decode(b, &s, &error)) << error;
    EXPECT_TRUE(s == plain) << "a dropped field changed the state";

    b[dropped["ctrl.exec.scan_fail"]] = 2;
    fix_crc(b);
    EXPECT_FALSE(sf::decode(b, &s, &error));
    EXPECT_EQ(error, "field ctrl.exec.scan_fail: 2 is not a boolean (0 or 1)");

    for (const sf::FieldDescription &f : sf::describe()) EXPECT_EQ(f.until, 0u) << f.path;
    EXPECT_EQ(golden_state("accurate-mid-sector-dma.v2").size(), v1.size() - 2)
        << "version 2 is two bytes shorter";
}

// A version 1 payload announced as version 2 and the other way round: the fields fall out of
// place and the payload ends where the announced version's does not.
TEST(FdcStateFormat, APayloadOfTheOtherVersionIsRefused) {
    const std::vector<uint8_t> v1 = golden_state("accurate-mid-sector-dma.v1");
    ASSERT_FALSE(v1.empty());
    Target t;
    std::vector<uint8_t> b = v1;
    put_u32(b, 8, 2);
    fix_crc(b);
    EXPECT_TRUE(t.refused(b));
    b = mid_transfer_blob();
    put_u32(b, 8, 1);
    fix_crc(b);
    EXPECT_TRUE(t.refused(b));
}

TEST(FdcStateFormat, EncodingIsStableAndLittleEndian) {
    FdcState s;
    const std::vector<uint8_t> b = sf::encode(s);
    ASSERT_GE(b.size(), 20u);
    EXPECT_EQ(std::string(b.begin(), b.begin() + 8), "FDC82077");
    EXPECT_EQ(b[8], sf::kVersion);
    EXPECT_EQ(b[12] | b[13] << 8 | b[14] << 16 | b[15] << 24, int(b.size() - 20));
    EXPECT_EQ(
        sf::crc32(std::span<const uint8_t>(reinterpret_cast<const uint8_t *>("123456789"), 9)),
        0xCBF43926u)
        << "CRC-32/IEEE check value";
    FdcState back;
    std::string error;
    ASSERT_TRUE(sf::decode(b, &back, &error)) << error;
    EXPECT_TRUE(back == s);
}

// docs/state.md carries the field table exactly as the code declares it.
TEST(FdcStateFormat, DocumentationHasTheFieldTable) {
    const char *root = std::getenv("FDPLUG_SOURCE_ROOT");
    if (!root) GTEST_SKIP() << "FDPLUG_SOURCE_ROOT not set";
    std::ifstream in(std::string(root) + "/docs/state.md");
    ASSERT_TRUE(in) << "docs/state.md";
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string table = sf::markdown_table();
    EXPECT_NE(ss.str().find(table), std::string::npos)
        << "docs/state.md §3 is not the table the code declares; paste this:\n"
        << table;
}

}  // namespace
}  // namespace fdplug::floppy::test
