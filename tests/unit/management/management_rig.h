// What the management tests share: the real controller core on the fake host, with 1.44 MB drives
// on units 0 and 1 (fd0, fd1) and no drive on unit 2 (nodrive), each a MediaSlot registered with
// a FloppyManager whose events and warnings are recorded; image files in a temporary directory;
// media made in memory where a test needs one the file system cannot give (a host drive, a
// flush that fails); and the guest's side of the ports.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "hw/block/management/floppy_manager.h"
#include "hw/block/management/media_slot.h"
#include "hw/block/media/memory_image.h"
#include "tests/unit/block/fdc_guest_ports.h"
#include "tests/unit/media/temp_dir.h"

namespace fdplug::floppy::test {

using Json = nlohmann::ordered_json;

inline constexpr uint64_t k144Bytes = 1474560;
inline constexpr Geometry k144{80, 2, 18, DataRate::k500, 300, DriveType::k144, false};

// An in-memory 1.44M medium whose next `failing_flushes` flushes fail, as a backing store that
// went away would; everything else is a MemoryImage's.
class FlakyMedium final : public DiskImage {
  public:
    explicit FlakyMedium(std::string source, unsigned failing_flushes = 0)
        : memory_(k144), source_(std::move(source)), failing_flushes_(failing_flushes) {}

    const Geometry &geometry() const override { return memory_.geometry(); }
    bool read_only() const override { return false; }
    MediaStatus read_sector(unsigned c, unsigned h, unsigned r,
                            std::span<uint8_t, kSectorSize> out) override {
        return memory_.read_sector(c, h, r, out);
    }
    MediaStatus write_sector(unsigned c, unsigned h, unsigned r,
                             std::span<const uint8_t, kSectorSize> in) override {
        return memory_.write_sector(c, h, r, in);
    }
    Status flush() override {
        if (failing_flushes_ == 0) return {};
        --failing_flushes_;
        return Error(ErrorKind::IoError, "flushing '" + source_ + "' failed: the store is gone");
    }
    const std::string &source() const override { return source_; }

  private:
    MemoryImage memory_;
    std::string source_;
    unsigned failing_flushes_;
};

// A medium as open_medium() hands it over, for MediaSlot::insert().
inline OpenedMedium opened(std::unique_ptr<DiskImage> image, Attachment kind) {
    OpenedMedium medium;
    medium.kind = kind;
    medium.wants = DriveType::k144;
    medium.file = image->source();
    medium.read_only = image->read_only();
    medium.virtual_size = image->geometry().size_bytes();
    medium.image = std::move(image);
    return medium;
}

class ManagementRig : public ::testing::Test, protected FdcGuestPorts {
  protected:
    struct Event {
        std::string name;
        Json data;
        Attachment attachment_then;  // what the slot reported when the event was sent
    };

    TempDir dir;
    FloppyManager manager;
    std::vector<Event> events;
    std::vector<std::string> warnings;
    MediaFaultsPtr fd0_faults = std::make_shared<MediaFaults>();
    std::unique_ptr<MediaSlot> fd0, fd1, nodrive;

    ManagementRig() {
        fdc = std::make_unique<Fdc82077>(host, FdcConfig{FdcMode::At, TimingPolicy::Fast});
        host.fdc = fdc.get();
        fdc->drive(0).connect(DriveType::k144);
        fdc->drive(1).connect(DriveType::k144);
        fd0 = slot(0, {"fd0", "/machine/peripheral/fd0", "", "fdc0"}, fd0_faults);
        fd1 = slot(1, {"fd1", "/machine/peripheral/fd1", "floppy1", "fdc0"}, nullptr);
        nodrive = slot(2, {"nodrive", "/machine/peripheral/nodrive", "", "fdc0"}, nullptr);
        manager.set_event_sink([this](const std::string &name, const Json &data) {
            const MediaSlot *slot = manager.find(data.at("id").get<std::string>());
            events.push_back({name, data, slot ? slot->attachment() : Attachment::None});
        });
        manager.set_log_sink([this](const std::string &text) { warnings.push_back(text); });
    }

    std::unique_ptr<MediaSlot> slot(unsigned unit, SlotIdentity identity, MediaFaultsPtr faults) {
        auto s =
            std::make_unique<MediaSlot>(*fdc, unit, std::move(identity), std::move(faults), false);
        manager.add(*s);
        return s;
    }

    // A raw image file of `size` bytes in the temporary directory; its absolute path.
    std::string image(const std::string &name, uint64_t size = k144Bytes) {
        const std::string path = dir.file(name);
        write_file(path, std::vector<uint8_t>(size));
        return path;
    }

    // The names of the events sent so far, in order.
    std::vector<std::string> event_names() const {
        std::vector<std::string> names;
        for (const Event &e : events) names.push_back(e.name);
        return names;
    }

    // DIR bit 7 of unit `unit` as the guest reads it (the drive selected in DOR, motor on).
    bool guest_sees_disk_change(unsigned unit) {
        out(kDor, uint8_t(0x0C | unit | (0x10 << unit)));
        return in(kDir)&0x80;
    }
    // The guest steps the head of `unit` with a disk in, which clears its disk-change line.
    void guest_seeks(unsigned unit, uint8_t cylinder) {
        out(kDor, uint8_t(0x0C | unit | (0x10 << unit)));
        send({0x0F, uint8_t(unit), cylinder});
        ASSERT_GE(host.run_until_irq(1000 * kNsPerMs), 0) << "the seek ends with an interrupt";
        sis();
    }
};

// `result` failed with Virtual PC's class `cls` and exactly the description `desc`.
inline ::testing::AssertionResult fails_with(const CommandResult &result, VpcError cls,
                                             const std::string &desc) {
    if (result) return ::testing::AssertionFailure() << "succeeded: " << result->dump();
    const QmpError e = qmp_error(result.error());
    if (result.error().kind() != cls || e.desc != desc)
        return ::testing::AssertionFailure() << e.cls << ": " << e.desc << "\n  expected "
                                             << vpc_error(cls).symbol << ": " << desc;
    return ::testing::AssertionSuccess();
}

}  // namespace fdplug::floppy::test
