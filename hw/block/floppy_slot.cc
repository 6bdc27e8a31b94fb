// Drive slots of an isa-fdc: connecting a drive of the right type, opening its medium from a
// -drive definition or a QMP request, and QEMU's generic block commands (query-block, eject,
// blockdev-change-medium) for it. Media changes go through the core so the guest sees the
// disk-change line and a command running on the drive ends abnormally.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hw/block/fdc_isa.h"
#include "hw/block/media/floppy_formats.h"
#include "hw/block/media/memory_image.h"
#include "hw/block/media/raw_image.h"

namespace fdplug::floppy::plugin {

namespace {

constexpr const char *kNullCo = "null-co://";

bool truthy(const char *v) {
    return v && (!std::strcmp(v, "on") || !std::strcmp(v, "true") || !std::strcmp(v, "yes") ||
                 !std::strcmp(v, "1"));
}

// QEMU takes image paths relative to its working directory; RawImage wants them absolute.
std::string absolute_path(const std::string &file) {
    if (file.empty() || file[0] == '/') return file;
    std::error_code ec;
    auto abs = std::filesystem::absolute(file, ec);
    return ec ? file : abs.lexically_normal().string();
}

// "1440k", "1474560", "2.88M" is not accepted: integers with an optional k/M suffix.
std::optional<uint64_t> parse_size(const std::string &text) {
    if (text.empty()) return std::nullopt;
    size_t used = 0;
    unsigned long long v = 0;
    try {
        v = std::stoull(text, &used, 0);
    } catch (...) {
        return std::nullopt;
    }
    const std::string suffix = text.substr(used);
    if (suffix.empty() || suffix == "b" || suffix == "B") return v;
    if (suffix == "k" || suffix == "K") return v * 1024;
    if (suffix == "M" || suffix == "m") return v * 1024 * 1024;
    return std::nullopt;
}

std::string in_quotes(const std::string &s) { return "'" + s + "'"; }

}  // namespace

OpenedMedium open_medium(const MediumRequest &request) {
    OpenedMedium out;
    if (!request.format.empty() && request.format != "raw") {
        out.error = "format=" + request.format +
                    " is not supported: floppy drives take raw sector images (format=raw)";
        return out;
    }
    if (request.file.rfind(kNullCo, 0) == 0) {
        // QEMU's null block driver (fdc-test's blank drive): a zero-filled medium of size=.
        const auto size = parse_size(request.size.empty() ? "1440k" : request.size);
        std::string why;
        auto choice = size ? choose_format(*size, request.drive, {}, &why) : std::nullopt;
        if (!choice) {
            out.error = std::string(kNullCo) + " medium of size=" + request.size +
                        " cannot be used: " + (size ? why : "expected a byte count such as 1440k");
            return out;
        }
        out.image = std::make_unique<MemoryImage>(choice->geometry, request.read_only);
        out.wants = choice->drive;
        out.file = kNullCo;
        out.read_only = request.read_only;
        out.virtual_size = *size;
        return out;
    }
    RawImage::Options options;
    options.path = absolute_path(request.file);
    options.read_only = request.read_only || request.snapshot;
    options.drive = request.drive;
    ImageOpenResult opened = RawImage::open(options);
    if (!opened.image) {
        out.error = opened.message;
        out.locked = opened.error == ImageOpenError::Locked;
        return out;
    }
    out.wants = opened.image->format().drive;
    out.file = options.path;
    out.virtual_size = opened.image->file_size();
    if (!request.snapshot) {
        out.read_only = opened.image->read_only();
        out.image = std::move(opened.image);
        return out;
    }
    // snapshot=on: the guest writes to a private copy; the file itself is never written.
    const Geometry g = opened.image->geometry();
    std::vector<uint8_t> bytes(g.size_bytes());
    for (unsigned c = 0; c < g.cylinders; ++c)
        for (unsigned h = 0; h < g.heads; ++h)
            for (unsigned r = 1; r <= g.sectors; ++r) {
                const uint32_t lba = *g.lba(c, h, r);
                std::span<uint8_t, DiskImage::kSectorSize> sector(bytes.data() + size_t(lba) * 512, 512);
                if (opened.image->read_sector(c, h, r, sector) != MediaStatus::Ok) {
                    out.error = opened.image->last_error();
                    return out;
                }
            }
    // Keep the short-file rule (writes past the end fail) of the image it copies.
    const uint64_t keep = std::min<uint64_t>(bytes.size(), (out.virtual_size + 511) / 512 * 512);
    bytes.resize(size_t(keep));
    out.image = std::make_unique<MemoryImage>(g, std::move(bytes), false);
    out.read_only = false;
    return out;
}

const FdplugBlockOps FloppySlot::kBlockOps = {
    .query = [](void *opaque) { return static_cast<FloppySlot *>(opaque)->query(); },
    .eject = [](void *opaque, bool force, FdplugError *err) {
        return static_cast<FloppySlot *>(opaque)->eject(force, err);
    },
    .change_medium = [](void *opaque, const char *filename, const char *format,
                        const char *read_only_mode, FdplugError *err) {
        return static_cast<FloppySlot *>(opaque)->change_medium(filename, format, read_only_mode, err);
    },
};

bool FloppySlot::attach(FdplugDevice *owner, FdplugDrive *drive, DriveType requested,
                        const std::string &qdev, const std::string &device_name,
                        const std::string &who, std::string *error) {
    qdev_ = qdev;
    device_name_ = device_name;
    MediumRequest request;
    if (drive) {
        char *msg = nullptr;
        if (!g_host->drive_claim(drive, owner, &msg)) {
            if (error) *error = who + ": " + (msg ? msg : "the drive is in use");
            std::free(msg);
            return false;
        }
        auto opt = [drive](const char *key) {
            const char *v = g_host->drive_option(drive, key);
            return std::string(v ? v : "");
        };
        request.file = opt("file");
        request.format = opt("format");
        request.read_only = truthy(g_host->drive_option(drive, "readonly"));
        request.snapshot = truthy(g_host->drive_option(drive, "snapshot"));
        request.size = opt("size");
        drive_read_only_ = request.read_only;
        if (request.file.empty() && !request.format.empty() && request.format != "raw") {
            if (error) *error = who + ": format=" + request.format + " is not supported: floppy drives take raw sector images (format=raw)";
            return false;
        }
    }
    OpenedMedium medium;
    if (!request.file.empty()) {
        if (requested == DriveType::None) {
            if (error)
                *error = who + ": drive-type=none has no drive to hold " + in_quotes(request.file) +
                         "; pick a drive-type or leave the medium out";
            return false;
        }
        request.drive = requested;
        medium = open_medium(request);
        if (!medium.image) {
            if (error) *error = who + ": " + medium.error;
            return false;
        }
    }
    if (requested == DriveType::Auto) type_ = medium.image ? medium.wants : fdc_.fallback();
    else type_ = requested;
    fdc_.core().drive(unit_).connect(type_);
    if (medium.image) insert(std::move(medium));
    g_host->block_register(owner, qdev_.c_str(), device_name_.c_str(), &kBlockOps, this);
    return true;
}

void FloppySlot::insert(OpenedMedium &&medium) {
    medium_file_ = medium.file;
    medium_read_only_ = medium.read_only;
    medium_size_ = medium.virtual_size;
    has_medium_ = true;
    fdc_.core().insert_media(unit_, std::move(medium.image));
}

bool FloppySlot::flush(std::string *error) {
    DiskImage *media = fdc_.core().drive(unit_).media();
    return !media || media->flush(error);
}

void FloppySlot::flush_for_exit() {
    std::string why;
    if (!flush(&why))
        g_host->log(fdc_.device(), FDPLUG_LOG_ERROR, "floppy unit %u: %s", unit_, why.c_str());
}

void FloppySlot::detach() {
    flush_for_exit();
    if (fdc_.core().drive(unit_).has_media()) fdc_.core().eject_media(unit_);
    has_medium_ = false;
    fdc_.core().drive(unit_).connect(DriveType::None);
    type_ = DriveType::None;
}

char *FloppySlot::query() const {
    nlohmann::ordered_json info;
    info["device"] = device_name_;
    info["qdev"] = qdev_;
    info["locked"] = false;
    info["removable"] = true;
    info["tray_open"] = false;
    info["type"] = "unknown";
    const DiskImage *media = fdc_.core().drive(unit_).media();
    if (media) {
        nlohmann::ordered_json image;
        image["virtual-size"] = medium_size_ ? medium_size_ : media->geometry().size_bytes();
        image["filename"] = medium_file_;
        image["format"] = "raw";
        image["dirty-flag"] = false;
        nlohmann::ordered_json inserted;
        inserted["file"] = medium_file_;
        inserted["ro"] = media->read_only();
        inserted["drv"] = "raw";
        inserted["encrypted"] = false;
        inserted["backing_file_depth"] = 0;
        inserted["detect_zeroes"] = "off";
        for (const char *k : {"bps", "bps_rd", "bps_wr", "iops", "iops_rd", "iops_wr"}) inserted[k] = 0;
        inserted["write_threshold"] = 0;
        inserted["cache"] = {{"writeback", true}, {"direct", false}, {"no-flush", false}};
        inserted["image"] = image;
        info["inserted"] = inserted;
    }
    return dup_string(info.dump());
}

bool FloppySlot::eject(bool force, FdplugError *err) {
    if (!fdc_.core().drive(unit_).has_media()) {
        has_medium_ = false;
        return true;  // QEMU: ejecting an empty drive succeeds
    }
    std::string why;
    if (!flush(&why)) {
        if (!force) {
            set_error(err, "GenericError",
                      "flushing the medium of floppy unit " + std::to_string(unit_) +
                          " failed, so it stays in the drive: " + why +
                          " (fix the file and eject again, or use force=true to drop unsaved writes)");
            return false;
        }
        g_host->log(fdc_.device(), FDPLUG_LOG_WARNING, "floppy unit %u: forced eject after a failed flush: %s",
                    unit_, why.c_str());
    }
    drive_read_only_ = medium_read_only_;
    fdc_.core().eject_media(unit_);
    has_medium_ = false;
    medium_file_.clear();
    medium_size_ = 0;
    return true;
}

bool FloppySlot::change_medium(const char *filename, const char *format, const char *read_only_mode,
                               FdplugError *err) {
    if (type_ == DriveType::None) {
        set_error(err, "GenericError",
                  "floppy unit " + std::to_string(unit_) +
                      " has no drive (drive-type=none); attach the medium to a unit with a drive");
        return false;
    }
    MediumRequest request;
    request.file = filename ? filename : "";
    request.format = format ? format : "";
    const std::string mode = read_only_mode ? read_only_mode : "retain";
    request.read_only = mode == "read-only" ? true : mode == "read-write" ? false : drive_read_only_;
    request.drive = type_;
    if (request.file.empty()) {
        set_error(err, "GenericError", "blockdev-change-medium needs a filename");
        return false;
    }
    OpenedMedium medium = open_medium(request);
    const bool same_file = has_medium_ && medium_file_ == absolute_path(request.file);
    if (!medium.image && medium.locked && same_file) {
        // The drive itself holds the lock on this file (re-inserting the same image): release
        // it and try again. If that fails too the drive is left empty, as after an eject.
        std::string why;
        if (!flush(&why)) {
            set_error(err, "GenericError", "flushing the current medium failed, so it stays in the drive: " + why);
            return false;
        }
        fdc_.core().eject_media(unit_);
        has_medium_ = false;
        medium = open_medium(request);
    }
    if (!medium.image) {
        set_error(err, "GenericError", medium.error);
        return false;
    }
    if (fdc_.core().drive(unit_).has_media()) {
        std::string why;
        if (!flush(&why)) {
            set_error(err, "GenericError",
                      "flushing the current medium failed, so it stays in the drive: " + why);
            return false;
        }
        fdc_.core().eject_media(unit_);
    }
    drive_read_only_ = request.read_only;
    insert(std::move(medium));
    return true;
}

}  // namespace fdplug::floppy::plugin
