// The floppy-* QMP commands of qapi/floppy.json — media management with the semantics and error
// classes of Windows Virtual PC's IVMFloppyDrive
// (docs/floppy-management.md#windows-virtual-pcs-ivmfloppydrive) — and the FLOPPY_MEDIA_* events,
// over the drives (MediaSlot) a host adapter registers. Host neutral: arguments and results are
// JSON values, events and warnings go to sinks the adapter sets, so the isa-fdc binding and the
// Bochs adapter serve the same commands from this one implementation. Media change only through
// MediaSlot::insert/release.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hw/block/management/floppy_errors.h"
#include "hw/block/management/media_slot.h"

namespace fdplug::floppy {

// A command's answer: its return value, or an error whose kind is its Virtual PC class and whose
// message is QMP's desc (qmp_error() in floppy_errors.h makes the error object).
using CommandResult = Expected<nlohmann::ordered_json, VpcError>;

class FloppyManager final : public MediaObserver {
  public:
    using EventSink =
        std::function<void(const std::string &event, const nlohmann::ordered_json &data)>;
    using LogSink = std::function<void(const std::string &text)>;

    // The command names of qapi/floppy.json, in schema order.
    static std::span<const char *const> command_names();

    void set_event_sink(EventSink sink) { events_ = std::move(sink); }
    void set_log_sink(LogSink sink) { log_ = std::move(sink); }
    // How a user of this host connects a drive, the fix the "not configured" error names
    // ("": the floppy device's drive-type property, as on fdplug-host).
    void set_configure_hint(std::string hint) { configure_hint_ = std::move(hint); }

    // A drive joins (and becomes observed) / leaves. Registration order is query order.
    void add(MediaSlot &slot);
    void remove(MediaSlot &slot);
    // The drive `id` names: a drive device's id first, then a legacy drive name (floppy0,
    // drv1), then a QOM path. nullptr when none does.
    MediaSlot *find(std::string_view id) const;

    // Runs one command with arguments already validated against the schema. Never throws: an
    // unexpected exception, or a command it does not have, becomes DISP_E_EXCEPTION.
    CommandResult execute(std::string_view command, const nlohmann::json &args);

    // format: "raw", "imd", "td0", or "" to tell by the file's content. transient: the guest's
    // writes go to an overlay in memory and the file never changes (read_only wins).
    CommandResult attach_image(const std::string &id, const std::string &filename, bool read_only,
                               const std::string &format = "", bool transient = false);
    CommandResult release_image(const std::string &id);
    CommandResult attach_host_drive(const std::string &id, const std::string &device);
    CommandResult release_host_drive(const std::string &id);
    CommandResult query_drives() const;
    // A transient image's changes into its file.
    CommandResult commit_image(const std::string &id);
    // The medium, with a transient image's changes, into a new file; format "raw" or "imd".
    CommandResult export_image(const std::string &id, const std::string &filename,
                               const std::string &format);

    // MediaObserver: FLOPPY_MEDIA_INSERTED / FLOPPY_MEDIA_EJECTED, warnings to the log.
    void media_inserted(const MediaSlot &slot) override;
    void media_ejected(const MediaSlot &slot, Attachment was, const std::string &path) override;
    void media_warning(const MediaSlot &slot, const std::string &text) override;

  private:
    // Steps shared by the commands, in Virtual PC's order: the drive exists and is configured;
    // it holds what a release expects.
    Expected<MediaSlot *, VpcError> lookup(const std::string &id) const;
    Expected<MediaSlot *, VpcError> empty_drive(const std::string &id) const;
    CommandResult release(const std::string &id, Attachment kind);

    std::vector<MediaSlot *> slots_;
    EventSink events_;
    LogSink log_;
    std::string configure_hint_;
};

}  // namespace fdplug::floppy
