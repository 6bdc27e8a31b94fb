// The order of checks is Virtual PC's (docs/floppy-management.md#virtual-pcs-order-of-checks): for
// an attach, the form of the path, then the drive, then what it holds, then the file; for a
// release, the drive, then the kind of media, then whether there is any. Nothing changes before
// every check has passed, and a failure after that (a flush) leaves the drive as it was.
#include "hw/block/management/floppy_manager.h"

#include <algorithm>
#include <exception>
#include <iterator>
#include <new>

namespace fdplug::floppy {

namespace {

using Json = nlohmann::ordered_json;

// Virtual PC's MAX_PATH: a path of this many characters or more is refused.
constexpr size_t kMaxPath = 260;
// Characters Virtual PC refuses in a path that are not path syntax here ('/' is the separator;
// '\\' and ':' are ordinary characters of POSIX file names).
constexpr std::string_view kForbidden = "*?<>|\"";

// Characters, not bytes: UTF-8 continuation bytes do not count.
size_t characters(const std::string &text) {
    return size_t(std::count_if(text.begin(), text.end(),
                                [](char c) { return (uint8_t(c) & 0xC0) != 0x80; }));
}

std::string printable(char c) {
    if (uint8_t(c) < 0x20 || c == 0x7F) {
        static constexpr char kHex[] = "0123456789ABCDEF";
        return std::string("control character 0x") + kHex[uint8_t(c) >> 4] + kHex[uint8_t(c) & 15];
    }
    return std::string("character '") + c + "'";
}

// Virtual PC's path-form rules, in its order: empty or relative, a forbidden character, too
// long. `what` is "image path" or "host drive name". nullopt when the path passes.
std::optional<std::string> path_form_problem(const std::string &path, const std::string &what,
                                             const std::string &example) {
    if (path.empty()) return "no " + what + " was given; give an absolute path such as " + example;
    if (path.front() != '/')
        return what + " '" + path +
               "' is not absolute; give the full path, starting with '/' (e.g. " + example + ")";
    for (char c : path)
        if (kForbidden.find(c) != std::string_view::npos || uint8_t(c) < 0x20 || c == 0x7F)
            return what + " '" + path + "' contains the " + printable(c) +
                   ", which is not allowed (none of * ? < > | \" or control characters)";
    if (const size_t n = characters(path); n >= kMaxPath)
        return what + " is " + std::to_string(n) + " characters long; paths of " +
               std::to_string(kMaxPath) + " characters or more are refused (Virtual PC's MAX_PATH)";
    return std::nullopt;
}

std::string drive_text(const std::string &id) {
    return "floppy drive '" + id + "'";
}

std::string holding(const MediaSlot &slot) {
    return (slot.attachment() == Attachment::HostDrive ? "the host drive '" : "the image '") +
           slot.source() + "'";
}

const char *release_command(Attachment kind) {
    return kind == Attachment::HostDrive ? "floppy-release-host-drive" : "floppy-release-image";
}

constexpr const char *kCommands[] = {"floppy-attach-image",      "floppy-release-image",
                                     "floppy-attach-host-drive", "floppy-release-host-drive",
                                     "query-floppy-drives",      "floppy-commit-image",
                                     "floppy-export-image"};

using Failure = Error<VpcError>;

// An image that cannot be captured: Virtual PC's class for what went wrong with the file.
Failure image_capture_failure(const std::string &id, const Error<> &error) {
    switch (error.kind()) {
        case ErrorKind::ReadOnly:
            return Failure(VpcError::FileReadOnly,
                           drive_text(id) + ": " + error.message() +
                               " (floppy-attach-image with \"read-only\": true)");
        case ErrorKind::InUse:
            return Failure(
                VpcError::ImageCaptureFail,
                drive_text(id) + ": the image's lock cannot be taken: " + error.message());
        case ErrorKind::IoError:
            return Failure(VpcError::DispException,
                           drive_text(id) + ": unexpected failure capturing the image: " +
                               error.message() + "; the drive stays empty");
        default:
            return Failure(VpcError::ImageCaptureFail, drive_text(id) + ": " + error.message());
    }
}

// A host drive that cannot be captured: a name that is no drive is an invalid argument.
Failure host_drive_capture_failure(const std::string &id, const Error<> &error) {
    switch (error.kind()) {
        case ErrorKind::BadPath:
        case ErrorKind::WrongFileType:
            return Failure(VpcError::InvalidArg, drive_text(id) + ": " + error.message());
        case ErrorKind::IoError:
            return Failure(VpcError::DispException,
                           drive_text(id) + ": unexpected failure capturing the host drive: " +
                               error.message() + "; the drive stays empty");
        default:
            return Failure(VpcError::HostFloppyCaptureFail,
                           drive_text(id) + ": " + error.message());
    }
}

// A commit the file refuses: read-only, locked by someone else, or a layout it cannot hold.
Failure commit_failure(const std::string &id, const MediaSlot &slot, const Error<> &error) {
    const std::string text = drive_text(id) + ": committing to '" + slot.source() +
                             "' failed: " + error.message() + "; the changes stay in memory";
    switch (error.kind()) {
        case ErrorKind::ReadOnly:
        case ErrorKind::Unreadable:
            return Failure(VpcError::FileReadOnly,
                           text +
                               " (make the file writable, or save them to a new file with "
                               "floppy-export-image)");
        case ErrorKind::InUse:
            return Failure(VpcError::ImageCaptureFail,
                           text +
                               " (the file cannot be captured for writing while another "
                               "program or drive uses it)");
        case ErrorKind::Unsupported:
            return Failure(VpcError::MediaWrongType,
                           text + " (save them with floppy-export-image, \"format\": \"imd\")");
        default:
            return Failure(VpcError::DispException, text);
    }
}

// An export the request is at fault for is an invalid argument; a failure writing it is not.
Failure export_failure(const std::string &id, const Error<> &error) {
    const std::string text = drive_text(id) + ": " + error.message();
    switch (error.kind()) {
        case ErrorKind::IoError:
            return Failure(VpcError::DispException, text);
        case ErrorKind::Unreadable:
            return Failure(VpcError::FileReadOnly, text);
        default:
            return Failure(VpcError::InvalidArg, text);
    }
}

}  // namespace

std::span<const char *const> FloppyManager::command_names() {
    return kCommands;
}

void FloppyManager::add(MediaSlot &slot) {
    if (std::find(slots_.begin(), slots_.end(), &slot) == slots_.end()) slots_.push_back(&slot);
    slot.set_observer(this);
}

void FloppyManager::remove(MediaSlot &slot) {
    slots_.erase(std::remove(slots_.begin(), slots_.end(), &slot), slots_.end());
    slot.set_observer(nullptr);
}

MediaSlot *FloppyManager::find(std::string_view id) const {
    if (id.empty()) return nullptr;
    for (auto field : {&SlotIdentity::id, &SlotIdentity::device_name, &SlotIdentity::path})
        for (MediaSlot *slot : slots_)
            if (slot->identity().*field == id) return slot;
    return nullptr;
}

Expected<MediaSlot *, VpcError> FloppyManager::lookup(const std::string &id) const {
    MediaSlot *slot = find(id);
    if (!slot)
        return Failure(
            VpcError::VmUnknown,
            "no " + drive_text(id) +
                (slots_.empty() ? std::string(": this machine has no floppy drives")
                                : std::string(": give a floppy device's id or a drive name such as "
                                              "floppy0 (query-floppy-drives lists them)")));
    if (!slot->configured())
        return Failure(
            VpcError::VmUnknown,
            drive_text(id) + " is not configured: unit " + std::to_string(slot->unit()) + " of '" +
                slot->identity().controller + "' has drive-type=none, so no drive is connected; " +
                (configure_hint_.empty()
                     ? std::string(
                           "give the floppy device a drive-type (144, 288, 120, 720, 360 or auto)")
                     : configure_hint_));
    return slot;
}

Expected<MediaSlot *, VpcError> FloppyManager::empty_drive(const std::string &id) const {
    auto slot = lookup(id);
    if (slot && (*slot)->attachment() != Attachment::None)
        return Failure(VpcError::DriveInUse, drive_text(id) + " already holds " + holding(**slot) +
                                                 "; release it first with " +
                                                 release_command((*slot)->attachment()));
    return slot;
}

CommandResult FloppyManager::attach_image(const std::string &id, const std::string &filename,
                                          bool read_only, const std::string &format,
                                          bool transient) {
    if (auto problem = path_form_problem(filename, "image path", "/srv/floppies/dos622.img"))
        return Failure(VpcError::ImageCaptureFail, drive_text(id) + ": " + *problem);
    auto slot = empty_drive(id);
    if (!slot) return slot.error();
    MediumRequest request;
    request.file = filename;
    request.format = format;
    request.read_only = read_only;
    request.transient = transient;
    Expected<OpenedMedium> medium = (*slot)->open_image(request);
    if (!medium) return image_capture_failure(id, medium.error());
    (*slot)->insert(std::move(*medium));
    return Json::object();
}

CommandResult FloppyManager::attach_host_drive(const std::string &id, const std::string &device) {
    if (auto problem = path_form_problem(device, "host drive name", "/dev/fd0"))
        return Failure(VpcError::InvalidArg, drive_text(id) + ": " + *problem);
    auto slot = empty_drive(id);
    if (!slot) return slot.error();
    Expected<OpenedMedium> medium = (*slot)->open_host_drive(device);
    if (!medium) return host_drive_capture_failure(id, medium.error());
    (*slot)->insert(std::move(*medium));
    return Json::object();
}

CommandResult FloppyManager::release(const std::string &id, Attachment kind) {
    auto found = lookup(id);
    if (!found) return found.error();
    MediaSlot &slot = **found;
    const bool image = kind == Attachment::Image;
    const Attachment other = image ? Attachment::HostDrive : Attachment::Image;
    if (slot.attachment() == other)
        return Failure(VpcError::MediaWrongType, drive_text(id) + " holds " + holding(slot) +
                                                     ", not " +
                                                     (image ? "an image" : "a host drive") +
                                                     "; release it with " + release_command(other));
    if (slot.attachment() == Attachment::None)
        return Failure(VpcError::NoMediaCaptured,
                       drive_text(id) + " holds no " + (image ? "image" : "host drive") +
                           "; there is nothing to release (attach one with " +
                           (image ? "floppy-attach-image" : "floppy-attach-host-drive") + ")");
    const std::string what = holding(slot);
    if (Status released = slot.release(false); !released)
        return Failure(VpcError::DispException,
                       drive_text(id) + ": releasing " + what +
                           " failed: " + released.error().message() +
                           "; it stays attached, unchanged: fix the cause and release it again "
                           "(or eject with force=true to drop the unsaved writes)");
    return Json::object();
}

CommandResult FloppyManager::release_image(const std::string &id) {
    return release(id, Attachment::Image);
}

CommandResult FloppyManager::release_host_drive(const std::string &id) {
    return release(id, Attachment::HostDrive);
}

CommandResult FloppyManager::query_drives() const {
    Json list = Json::array();
    for (const MediaSlot *slot : slots_) list.push_back(slot->info());
    return list;
}

CommandResult FloppyManager::commit_image(const std::string &id) {
    auto found = lookup(id);
    if (!found) return found.error();
    MediaSlot &slot = **found;
    if (slot.attachment() == Attachment::HostDrive)
        return Failure(VpcError::MediaWrongType,
                       drive_text(id) + " holds " + holding(slot) +
                           ", which is written in place; only a transient image has changes "
                           "to commit");
    if (slot.attachment() == Attachment::None)
        return Failure(VpcError::NoMediaCaptured,
                       drive_text(id) +
                           " holds no image; there is nothing to commit (attach "
                           "one with floppy-attach-image and \"transient\": true)");
    if (!slot.transient())
        return Failure(VpcError::MediaWrongType,
                       drive_text(id) + " holds " + holding(slot) + " attached " +
                           (slot.read_only() ? "read-only" : "read-write, written in place") +
                           ", not transient: there are no changes to commit (attach it with "
                           "\"transient\": true to keep the guest's writes in memory)");
    if (slot.format() == "td0")
        return Failure(VpcError::FileReadOnly,
                       drive_text(id) + ": " + holding(slot) +
                           " is a Teledisk file, which fdplug cannot write; save the changes to "
                           "a new file with floppy-export-image (\"format\": \"imd\")");
    if (Status committed = slot.commit(); !committed)
        return commit_failure(id, slot, committed.error());
    return Json::object();
}

CommandResult FloppyManager::export_image(const std::string &id, const std::string &filename,
                                          const std::string &format) {
    if (auto problem = path_form_problem(filename, "export path", "/srv/floppies/saved.imd"))
        return Failure(VpcError::InvalidArg, drive_text(id) + ": " + *problem);
    auto found = lookup(id);
    if (!found) return found.error();
    MediaSlot &slot = **found;
    if (slot.attachment() == Attachment::None)
        return Failure(VpcError::NoMediaCaptured,
                       drive_text(id) + " holds no medium; there is nothing to export");
    const ExportFormat to = format == "raw" ? ExportFormat::Raw : ExportFormat::Imd;
    if (Status exported = slot.export_to(filename, to); !exported)
        return export_failure(id, exported.error());
    return Json::object();
}

CommandResult FloppyManager::execute(std::string_view command, const nlohmann::json &args) {
    try {
        auto str = [&args](const char *key) { return args.value(key, std::string()); };
        if (command == "floppy-attach-image") {
            // format: the schema admits only the formats open_medium() reads.
            return attach_image(str("id"), str("filename"), args.value("read-only", false),
                                str("format"), args.value("transient", false));
        }
        if (command == "floppy-commit-image") return commit_image(str("id"));
        if (command == "floppy-export-image")
            return export_image(str("id"), str("filename"), str("format"));
        if (command == "floppy-release-image") return release_image(str("id"));
        if (command == "floppy-attach-host-drive")
            return attach_host_drive(str("id"), str("device"));
        if (command == "floppy-release-host-drive") return release_host_drive(str("id"));
        if (command == "query-floppy-drives") return query_drives();
        // Adapters register command_names() only: another name is an adapter's bug.
        return Failure(VpcError::DispException,
                       "the floppy plugin has no command " + std::string(command));
    } catch (const std::bad_alloc &) {
        return Failure(VpcError::DispException, "out of memory running " + std::string(command) +
                                                    "; the drives are unchanged");
    } catch (const std::exception &e) {
        return Failure(VpcError::DispException,
                       std::string(command) + " failed unexpectedly: " + e.what());
    }
}

void FloppyManager::media_inserted(const MediaSlot &slot) {
    if (!events_) return;
    Json data;
    data["id"] = slot.name();
    data["path"] = slot.source();
    data["attachment"] = attachment_name(slot.attachment());
    data["read-only"] = slot.read_only();
    events_("FLOPPY_MEDIA_INSERTED", data);
}

void FloppyManager::media_ejected(const MediaSlot &slot, Attachment was, const std::string &path) {
    if (!events_) return;
    Json data;
    data["id"] = slot.name();
    data["path"] = path;
    data["attachment"] = attachment_name(was);
    events_("FLOPPY_MEDIA_EJECTED", data);
}

void FloppyManager::media_warning(const MediaSlot &, const std::string &text) {
    if (log_) log_(text);
}

}  // namespace fdplug::floppy
