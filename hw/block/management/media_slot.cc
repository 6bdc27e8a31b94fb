#include "hw/block/management/media_slot.h"

#include <utility>

#include "hw/block/media/floppy_formats.h"
#include "hw/block/media/transient_image.h"

namespace fdplug::floppy {

MediaSlot::MediaSlot(Fdc82077 &core, unsigned unit, SlotIdentity identity, MediaFaultsPtr faults,
                     bool drive_read_only)
    : core_(core),
      unit_(unit),
      identity_(std::move(identity)),
      faults_(std::move(faults)),
      drive_read_only_(drive_read_only) {}

const std::string &MediaSlot::name() const {
    if (!identity_.id.empty()) return identity_.id;
    return identity_.device_name.empty() ? identity_.path : identity_.device_name;
}

const std::string &MediaSlot::qdev() const {
    return identity_.id.empty() ? identity_.path : identity_.id;
}

Expected<OpenedMedium> MediaSlot::open_image(MediumRequest request) const {
    request.drive = type();
    request.faults = faults_;
    return open_medium(request);
}

Expected<OpenedMedium> MediaSlot::open_host_drive(const std::string &device) const {
    return floppy::open_host_drive(device, type(), faults_);
}

void MediaSlot::insert(OpenedMedium &&medium, bool notify) {
    if (core_.drive(unit_).has_media()) (void)release(true, notify);  // drops unsaved writes
    attachment_ = medium.kind;
    source_ = medium.file;
    format_ = medium.format;
    read_only_ = medium.read_only;
    transient_ = medium.transient;
    size_ = medium.virtual_size;
    core_.insert_media(unit_, std::move(medium.image));
    if (notify && observer_) observer_->media_inserted(*this);
}

Status MediaSlot::flush() {
    DiskImage *media = core_.drive(unit_).media();
    return media ? media->flush() : Status();
}

Status MediaSlot::commit() {
    auto *image = dynamic_cast<TransientImage *>(core_.drive(unit_).media());
    if (!image) return Error(ErrorKind::Failed, "the drive holds no transient image");
    return image->commit();
}

Status MediaSlot::export_to(const std::string &path, ExportFormat format) {
    DiskImage *media = core_.drive(unit_).media();
    if (!media) return Error(ErrorKind::NoMedium, "the drive is empty");
    return export_medium(*media, path, format);
}

Status MediaSlot::release(bool drop_unsaved, bool notify) {
    if (!core_.drive(unit_).has_media()) {
        attachment_ = Attachment::None;
        source_.clear();
        format_.clear();
        return {};
    }
    if (Status flushed = flush(); !flushed) {
        if (!drop_unsaved) return flushed;
        if (observer_)
            observer_->media_warning(
                *this, "floppy drive '" + name() +
                           "': released without its unsaved writes: " + flushed.error().message());
    }
    const Attachment was = std::exchange(attachment_, Attachment::None);
    const std::string path = std::exchange(source_, std::string());
    format_.clear();
    read_only_ = false;
    transient_ = false;
    size_ = 0;
    // The medium is destroyed here: the file or device is closed, and its lock goes with it.
    core_.eject_media(unit_);
    if (notify && observer_) observer_->media_ejected(*this, was, path);
    return {};
}

nlohmann::ordered_json MediaSlot::query_block() const {
    nlohmann::ordered_json info;
    info["device"] = identity_.device_name;
    info["qdev"] = qdev();
    info["locked"] = false;
    info["removable"] = true;
    info["tray_open"] = false;
    info["type"] = "unknown";
    const DiskImage *media = core_.drive(unit_).media();
    if (!media) return info;
    // QEMU's driver names: the image format (raw, imd) for files, host_device for a device.
    const std::string driver = attachment_ == Attachment::HostDrive ? "host_device" : format_;
    nlohmann::ordered_json image;
    image["virtual-size"] = size_ ? size_ : media->geometry().size_bytes();
    image["filename"] = source_;
    image["format"] = format_;
    image["dirty-flag"] = false;
    nlohmann::ordered_json inserted;
    inserted["file"] = source_;
    inserted["ro"] = media->read_only();
    inserted["drv"] = driver;
    inserted["encrypted"] = false;
    inserted["backing_file_depth"] = 0;
    inserted["detect_zeroes"] = "off";
    for (const char *k : {"bps", "bps_rd", "bps_wr", "iops", "iops_rd", "iops_wr"}) inserted[k] = 0;
    inserted["write_threshold"] = 0;
    inserted["cache"] = {{"writeback", true}, {"direct", false}, {"no-flush", false}};
    inserted["image"] = image;
    info["inserted"] = inserted;
    return info;
}

Status MediaSlot::eject(bool force) {
    const bool had_medium = attachment_ != Attachment::None, was_read_only = read_only_;
    if (Status released = release(force); !released)
        return Error(released.error().kind(),
                     "flushing the medium of floppy unit " + std::to_string(unit_) +
                         " failed, so it stays in the drive: " + released.error().message() +
                         " (fix the file and eject again, or use force=true to drop unsaved "
                         "writes)");
    if (had_medium) drive_read_only_ = was_read_only;  // "retain" keeps the last medium's mode
    return {};
}

Status MediaSlot::change_medium(const std::string &filename, const std::string &format,
                                const std::string &read_only_mode, bool transient) {
    if (!configured())
        return Error(
            ErrorKind::Failed,
            "floppy unit " + std::to_string(unit_) +
                " has no drive (drive-type=none); attach the medium to a unit with a drive");
    if (filename.empty())
        return Error(ErrorKind::Failed, "blockdev-change-medium needs a filename");
    MediumRequest request;
    request.file = filename;
    request.format = format;
    request.read_only = read_only_mode == "read-only"    ? true
                        : read_only_mode == "read-write" ? false
                                                         : drive_read_only_;
    request.transient = transient;
    // The current medium goes out before the new one goes in; a failed flush keeps it in.
    auto release_current = [this]() -> Status {
        Status released = release(false);
        if (released) return released;
        return released.error().prefixed(
            "flushing the current medium failed, so it stays in the drive: ");
    };
    Expected<OpenedMedium> medium = open_image(request);
    const bool same_file =
        attachment_ == Attachment::Image && source_ == absolute_path(request.file);
    if (!medium && medium.error().kind() == ErrorKind::InUse && same_file) {
        // The drive itself holds the lock on this file (re-inserting the same image): release
        // it and try again. If that fails too the drive is left empty, as after an eject.
        if (Status released = release_current(); !released) return released;
        medium = open_image(request);
    }
    if (!medium) return medium.error();
    if (Status released = release_current(); !released) return released;
    drive_read_only_ = request.read_only;
    insert(std::move(*medium));
    return {};
}

nlohmann::ordered_json MediaSlot::info() const {
    const FloppyDrive &drive = core_.drive(unit_);
    nlohmann::ordered_json out;
    out["id"] = name();
    out["path"] = identity_.path;
    out["device"] = identity_.device_name;
    out["controller"] = identity_.controller;
    out["unit"] = unit_;
    out["drive-type"] = drive_type_name(drive.type());
    out["attachment"] = attachment_name(attachment_);
    if (attachment_ == Attachment::Image) {
        out["image-file"] = source_;
        out["image-format"] = format_;
    }
    if (attachment_ == Attachment::HostDrive) out["host-device"] = source_;
    out["read-only"] = attachment_ != Attachment::None && read_only_;
    out["transient"] = transient_;
    if (const auto *image = dynamic_cast<const TransientImage *>(drive.media()))
        out["dirty-tracks"] = image->dirty_tracks();
    if (const DiskImage *media = drive.media()) {
        const Geometry &g = media->geometry();
        nlohmann::ordered_json geometry;
        geometry["cylinders"] = g.cylinders;
        geometry["heads"] = g.heads;
        geometry["sectors"] = g.sectors;
        geometry["sector-size"] = DiskImage::kSectorSize;
        geometry["size"] = g.size_bytes();
        geometry["data-rate"] = data_rate_kbps(g.rate);
        geometry["rpm"] = g.rpm;
        if (const FloppyFormat *f = format_of(g)) geometry["format"] = f->name;
        out["geometry"] = geometry;
        out["uniform"] = media->uniform();
    }
    out["disk-changed"] = drive.disk_changed();
    out["motor"] = drive.motor_on();
    out["cylinder"] = drive.cylinder();
    return out;
}

}  // namespace fdplug::floppy
