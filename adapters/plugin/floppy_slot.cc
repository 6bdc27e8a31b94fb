// Drive slots of an isa-fdc as the host sees them: claiming the -drive definition, connecting a
// drive of the right type with the medium at power-on, and the host's generic block commands
// (query-block, eject, blockdev-change-medium), which go to the slot's MediaSlot — the same code
// the floppy-* commands use (media_slot.h, floppy_manager.h).
#include "adapters/plugin/floppy_slot.h"

#include <cstdlib>
#include <cstring>
#include <string>

#include "adapters/plugin/isa_fdc.h"
#include "hw/block/media/open_medium.h"

namespace fdplug::floppy::plugin {

namespace {

bool truthy(const char *v) {
    return v && (!std::strcmp(v, "on") || !std::strcmp(v, "true") || !std::strcmp(v, "yes") ||
                 !std::strcmp(v, "1"));
}

std::string in_quotes(const std::string &s) {
    return "'" + s + "'";
}

MediaSlot &media_of(void *opaque) {
    return *static_cast<MediaSlot *>(opaque);
}

// QEMU's block commands fail with GenericError.
bool block_result(const Status &status, FdplugError *err) {
    if (!status) set_error(err, "GenericError", status.error().message());
    return status.ok();
}

const FdplugBlockOps kBlockOps = {
    .query = [](void *opaque) { return dup_string(media_of(opaque).query_block().dump()); },
    .eject = [](void *opaque, bool force,
                FdplugError *err) { return block_result(media_of(opaque).eject(force), err); },
    .change_medium =
        [](void *opaque, const char *filename, const char *format, const char *read_only_mode,
           FdplugError *err) {
            return block_result(
                media_of(opaque).change_medium(filename ? filename : "", format ? format : "",
                                               read_only_mode ? read_only_mode : "retain"),
                err);
        },
    .change_medium2 =
        [](void *opaque, const char *filename, const char *format, const char *read_only_mode,
           bool transient, FdplugError *err) {
            return block_result(media_of(opaque).change_medium(
                                    filename ? filename : "", format ? format : "",
                                    read_only_mode ? read_only_mode : "retain", transient),
                                err);
        },
};

}  // namespace

FloppySlot::FloppySlot(IsaFdc &fdc, unsigned unit)
    : fdc_(fdc), plugin_(fdc.plugin()), unit_(unit) {}

FloppySlot::~FloppySlot() {
    if (media_) plugin_.manager.remove(*media_);
}

bool FloppySlot::attach(const SlotRequest &slot, std::string *error) {
    auto fail = [&](const std::string &text) {
        if (error) *error = slot.who + ": " + text;
        return false;
    };
    MediumRequest request;
    bool drive_read_only = false;
    if (slot.drive) {
        char *msg = nullptr;
        if (!plugin_.host.drive_claim(slot.drive, slot.owner, &msg)) {
            const std::string text = msg ? msg : "the drive is in use";
            std::free(msg);
            return fail(text);
        }
        auto opt = [this, &slot](const char *key) {
            const char *v = plugin_.host.drive_option(slot.drive, key);
            return std::string(v ? v : "");
        };
        request.file = opt("file");
        request.format = opt("format");
        request.read_only = truthy(plugin_.host.drive_option(slot.drive, "readonly"));
        request.transient = truthy(plugin_.host.drive_option(slot.drive, "snapshot"));
        request.size = opt("size");
        drive_read_only = request.read_only;
        if (Status format = check_image_format(request.format); request.file.empty() && !format)
            return fail(format.error().message());
    }
    OpenedMedium medium;
    if (!request.file.empty()) {
        if (slot.type == DriveType::None)
            return fail("drive-type=none has no drive to hold " + in_quotes(request.file) +
                        "; pick a drive-type or leave the medium out");
        request.drive = slot.type;
        request.faults = slot.faults;
        Expected<OpenedMedium> opened = open_medium(request);
        if (!opened) return fail(opened.error().message());
        medium = std::move(*opened);
    }
    type_ = slot.type != DriveType::Auto ? slot.type
            : medium.image               ? medium.wants
                                         : fdc_.fallback();
    fdc_.core().drive(unit_).connect(type_);
    SlotIdentity identity{slot.id, slot.path, slot.device_name, fdc_.qom_name()};
    media_ = std::make_unique<MediaSlot>(fdc_.core(), unit_, std::move(identity), slot.faults,
                                         drive_read_only);
    if (medium.image) media_->insert(std::move(medium), false);
    plugin_.manager.add(*media_);
    plugin_.host.block_register(slot.owner, media_->qdev().c_str(), slot.device_name.c_str(),
                                &kBlockOps, media_.get());
    return true;
}

void FloppySlot::flush_for_exit() {
    if (!media_) return;
    if (const Status flushed = media_->flush(); !flushed)
        plugin_.host.log(fdc_.device(), FDPLUG_LOG_ERROR, "floppy unit %u: %s", unit_,
                         flushed.error().message().c_str());
}

void FloppySlot::detach() {
    if (media_) {
        (void)media_->release(true, false);  // drops unsaved writes: cannot fail
        plugin_.manager.remove(*media_);
        media_.reset();
    }
    fdc_.core().drive(unit_).connect(DriveType::None);
    type_ = DriveType::None;
}

}  // namespace fdplug::floppy::plugin
