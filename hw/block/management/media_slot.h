// One drive position of a controller and the medium in it, independent of any host: what is
// attached (nothing, an image file, a host floppy drive), the one way media go in and the one way
// they come out, and QEMU's block commands on top of those. Both command families — QEMU's
// eject / blockdev-change-medium and the Virtual PC-style floppy-* commands (floppy_manager.h) —
// change media only through insert() and release(), so the guest-visible effects (disk-change
// line, a running command ended abnormally), the flush, the lock and the events are the same
// whichever asked. A host adapter (the isa-fdc binding, the Bochs adapter) creates one per
// connected drive.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "hw/block/error/expected.h"
#include "hw/block/fdc/fdc82077.h"
#include "hw/block/media/export_medium.h"
#include "hw/block/media/media_faults.h"
#include "hw/block/media/open_medium.h"

namespace fdplug::floppy {

// How a drive is named.
struct SlotIdentity {
    std::string id;           // the drive device's id; "" when it has none (or there is no device)
    std::string path;         // QOM-style path of the drive
    std::string device_name;  // legacy block name ("floppy0" of -drive if=floppy, "drv1"), or ""
    std::string controller;   // the controller's id, else its path
};

class MediaSlot;

// Told after each change, once the drive shows it.
class MediaObserver {
  public:
    virtual ~MediaObserver() = default;
    virtual void media_inserted(const MediaSlot &slot) = 0;
    virtual void media_ejected(const MediaSlot &slot, Attachment was, const std::string &path) = 0;
    // Something went wrong that the command still got past (a forced eject's failed flush).
    virtual void media_warning(const MediaSlot &slot, const std::string &text) = 0;
};

class MediaSlot {
  public:
    // The drive of `unit` must already be connected (FloppyDrive::connect). `drive_read_only`
    // is what blockdev-change-medium's read-only-mode=retain keeps before any change.
    MediaSlot(Fdc82077 &core, unsigned unit, SlotIdentity identity, MediaFaultsPtr faults,
              bool drive_read_only);
    MediaSlot(const MediaSlot &) = delete;
    MediaSlot &operator=(const MediaSlot &) = delete;

    const SlotIdentity &identity() const { return identity_; }
    // The name the floppy-* commands report: the device id, else the legacy name, else the path.
    const std::string &name() const;
    // query-block's qdev: the device id, else the path.
    const std::string &qdev() const;
    unsigned unit() const { return unit_; }
    DriveType type() const { return core_.drive(unit_).type(); }
    // A drive is connected (drive-type is not none).
    bool configured() const { return type() != DriveType::None; }

    Attachment attachment() const { return attachment_; }
    const std::string &source() const { return source_; }  // image path or device; "" if empty
    bool read_only() const { return read_only_; }
    // The guest's writes go to an overlay in memory, not to the file (transient_image.h).
    bool transient() const { return transient_; }
    const std::string &format() const { return format_; }

    void set_observer(MediaObserver *observer) { observer_ = observer; }

    // Opening media for this drive: its drive type, its fault injection.
    Expected<OpenedMedium> open_image(MediumRequest request) const;
    Expected<OpenedMedium> open_host_drive(const std::string &device) const;

    // The one way in. An opened medium goes into the (empty) drive; the guest sees DSKCHG and a
    // command running on the drive ends abnormally. notify=false for media there at power-on.
    void insert(OpenedMedium &&medium, bool notify = true);
    // The one way out: flush, close (which drops the lock), mark the drive empty. If the flush
    // fails, everything stays as it was and the flush's IoError says why — unless drop_unsaved
    // (a forced eject), which goes on without the unsaved writes. An empty drive releases
    // successfully.
    Status release(bool drop_unsaved, bool notify = true);
    // Writes every completed write through to the backing store.
    Status flush();
    // A transient image's changes into its file (TransientImage::commit); Failed when the drive
    // holds no transient image.
    Status commit();
    // The medium as the guest now sees it into a new file (export_medium.h); NoMedium when the
    // drive is empty.
    Status export_to(const std::string &path, ExportFormat format);

    // QEMU's block commands (QEMU semantics; an error's message is a GenericError's desc).
    nlohmann::ordered_json query_block() const;
    Status eject(bool force);
    Status change_medium(const std::string &filename, const std::string &format,
                         const std::string &read_only_mode, bool transient = false);

    // query-floppy-drives' FloppyDriveInfo (qapi/floppy.json).
    nlohmann::ordered_json info() const;

  private:
    Fdc82077 &core_;
    unsigned unit_;
    SlotIdentity identity_;
    MediaFaultsPtr faults_;
    bool drive_read_only_;
    MediaObserver *observer_ = nullptr;
    // What is attached, as the commands report it; the core's drive holds the medium itself.
    Attachment attachment_ = Attachment::None;
    std::string source_;
    std::string format_;  // the image's format ("raw", "imd"); "" when empty
    bool read_only_ = false;
    bool transient_ = false;
    uint64_t size_ = 0;
};

}  // namespace fdplug::floppy
