#include "adapters/bochs/bochs_qmp.h"

#include "chardev/chardev_spec.h"
#include "hw/block/management/floppy_schema.h"

#ifndef FDPLUG_VERSION
#define FDPLUG_VERSION "unknown"
#endif

namespace fdplug::bochs {

namespace {

using qmp::Json;
using qmp::Outcome;

// A FloppyManager answer as a QMP outcome: the Virtual PC classes carry their HRESULT as the
// error object's "hresult" member, as fdplug-host's do.
Outcome outcome_of(const floppy::CommandResult &result) {
    if (result) return Outcome::ok(*result);
    const floppy::QmpError error = floppy::qmp_error(result.error());
    return Outcome::fail(error.cls, error.desc, error.members);
}

// QEMU's block commands fail with GenericError.
Outcome block_outcome(const floppy::Status &status) {
    return status ? Outcome::ok() : Outcome::fail("GenericError", status.error().message());
}

// -qmp's shorthand, but listening without waiting unless told otherwise: Bochs should not stop
// at start-up until a client connects.
std::optional<ChardevSpec> parse_address(const std::string &address, std::string *error) {
    auto spec = parse_chardev_shorthand(address, error);
    if (!spec) return spec;
    const size_t comma = address.find(',');
    const std::string options = comma == std::string::npos ? "" : address.substr(comma);
    if (options.find(",server=") == std::string::npos) spec->server = true;
    if (options.find(",wait=") == std::string::npos) spec->wait = false;
    spec->id = "qmp";
    return spec;
}

}  // namespace

const std::vector<std::string> BochsQmp::kHostCommands = {
    "qmp_capabilities", "query-version", "query-commands", "query-qmp-schema",
    "query-status",     "query-block",   "eject",          "blockdev-change-medium"};

BochsQmp::BochsQmp(floppy::FloppyManager &manager, std::vector<floppy::MediaSlot *> slots)
    : manager_(manager), slots_(std::move(slots)), context_(g_main_context_new()) {}

std::unique_ptr<BochsQmp> BochsQmp::start(const std::string &address,
                                          floppy::FloppyManager &manager,
                                          std::vector<floppy::MediaSlot *> slots,
                                          std::string *error) {
    auto spec = parse_address(address, error);
    if (!spec) return nullptr;
    std::unique_ptr<BochsQmp> self(new BochsQmp(manager, std::move(slots)));
    qmp::Dispatcher &d = self->dispatcher_;

    const Json version = qmp::host_version("fdplug " FDPLUG_VERSION " (libbx_floppy.so in Bochs)");
    qmp::HostCommandOptions options{version, kHostCommands};
    if (!qmp::register_host_commands(d, *self, error, options)) return nullptr;
    for (const floppy::EmbeddedSchema &schema : floppy::floppy_schemas())
        if (!d.add_schema(schema.text, schema.name, error)) return nullptr;
    for (const char *command : floppy::FloppyManager::command_names()) {
        auto handler = [&manager, name = std::string(command)](const Json &args) {
            return outcome_of(manager.execute(name, nlohmann::json(args)));
        };
        if (!d.register_command(command, handler, error)) return nullptr;
    }
    manager.set_event_sink([&d](const std::string &event, const nlohmann::ordered_json &data) {
        d.emit_event(event, data);
    });

    self->chardev_ = Chardev::open(*spec, error, self->context_);
    if (!self->chardev_) return nullptr;
    self->monitor_ = std::make_unique<qmp::Monitor>(d, *self->chardev_, version);
    self->where_ = spec->transport == ChardevSpec::Transport::Unix
                       ? "unix:" + spec->path
                       : "tcp:" + spec->host + ":" + spec->port;
    return self;
}

BochsQmp::~BochsQmp() {
    manager_.set_event_sink(nullptr);
    monitor_.reset();
    chardev_.reset();  // closes the sockets and removes a UNIX socket's file
    g_main_context_unref(context_);
}

void BochsQmp::poll() {
    // Everything that is ready now, but a bounded amount of it: a client that floods the socket
    // must not hold up the emulation.
    for (int i = 0; i < 64 && g_main_context_iteration(context_, FALSE); ++i) {
    }
}

std::vector<qmp::MachineControl::BlockSlot> BochsQmp::block_slots() const {
    std::vector<BlockSlot> out;
    for (floppy::MediaSlot *slot : slots_) {
        BlockSlot b;
        b.qdev_id = slot->qdev();
        b.device_name = slot->identity().device_name;
        b.query = [slot] { return slot->query_block(); };
        b.eject = [slot](bool force) { return block_outcome(slot->eject(force)); };
        b.change_medium = [slot](const std::string &file, const std::optional<std::string> &format,
                                 const std::string &mode, bool transient) {
            return block_outcome(slot->change_medium(file, format.value_or(""), mode, transient));
        };
        out.push_back(std::move(b));
    }
    return out;
}

}  // namespace fdplug::bochs
