// One drive position (unit 0-3) of an isa-fdc as the host sees it: the -drive definition it
// claimed and its registration with the host's block commands (query-block, eject,
// blockdev-change-medium). The drive and its medium are a MediaSlot, shared with the floppy-*
// commands (hw/block/management/media_slot.h), so both reach the same code.
#pragma once

#include <memory>
#include <string>

#include "adapters/plugin/floppy_plugin.h"
#include "hw/block/management/media_slot.h"
#include "hw/block/media/floppy_geometry.h"
#include "hw/block/media/media_faults.h"

namespace fdplug::floppy::plugin {

class IsaFdc;

// How a drive slot is connected: what drive, from which -drive definition, under what names.
struct SlotRequest {
    FdplugDevice *owner = nullptr;     // claims the -drive and registers the slot for query-block
    FdplugDrive *drive = nullptr;      // the -drive definition with the medium, or none (empty)
    DriveType type = DriveType::Auto;  // Auto: from the medium, else the controller's fallback
    std::string id;                    // the drive device's id, "" if none
    std::string path;                  // the drive's QOM path
    std::string device_name;           // the legacy drive name, "" if none
    std::string who;                   // names the owner in messages
    MediaFaultsPtr faults;             // test-only fault injection (x-fail-flush, x-fail-read)
};

class FloppySlot {
  public:
    FloppySlot(IsaFdc &fdc, unsigned unit);
    ~FloppySlot();
    FloppySlot(const FloppySlot &) = delete;
    FloppySlot &operator=(const FloppySlot &) = delete;

    // Connects a drive of the requested type and inserts the -drive's medium, if any (no event:
    // the medium was there at power-on).
    bool attach(const SlotRequest &request, std::string *error);
    // Flushes and removes the medium and disconnects the drive.
    void detach();
    // Writes every completed write through to the image; logs a failure.
    void flush_for_exit();

    unsigned unit() const { return unit_; }
    DriveType type() const { return type_; }

  private:
    IsaFdc &fdc_;
    FloppyPlugin &plugin_;
    unsigned unit_;
    DriveType type_ = DriveType::None;
    std::unique_ptr<MediaSlot> media_;
};

}  // namespace fdplug::floppy::plugin
