#include "adapters/plugin/floppy_qmp.h"

#include <nlohmann/json.hpp>
#include <string>

#include "hw/block/management/floppy_schema.h"

namespace fdplug::floppy::plugin {

namespace {

// Arguments in, the manager's answer out; Virtual PC classes carry their HRESULT as the error
// object's "hresult" member.
bool qmp_handler(void *opaque, const char *args_json, char **ret_json, FdplugError *err) {
    const auto &binding = *static_cast<const FloppyPlugin::CommandBinding *>(opaque);
    nlohmann::json args = nlohmann::json::parse(args_json ? args_json : "{}", nullptr, false);
    if (!args.is_object()) args = nlohmann::json::object();
    const CommandResult result = binding.plugin->manager.execute(binding.command, args);
    if (result) {
        *ret_json = dup_string(result->dump());
        return true;
    }
    const QmpError error = qmp_error(result.error());
    set_error(err, error.cls, error.desc);
    err->extra_json = dup_string(error.members.dump());
    return false;
}

}  // namespace

bool register_floppy_commands(FloppyPlugin &plugin, char **errp) {
    const FdplugHost &host = plugin.host;
    plugin.manager.set_event_sink(
        [&host](const std::string &event, const nlohmann::ordered_json &data) {
            host.qmp_event(event.c_str(), data.dump().c_str());
        });
    plugin.manager.set_log_sink([&host](const std::string &text) {
        host.log(nullptr, FDPLUG_LOG_WARNING, "%s", text.c_str());
    });
    for (const EmbeddedSchema &schema : floppy_schemas())
        if (!host.qmp_add_schema(schema.text, schema.name, errp)) return false;
    for (const char *command : FloppyManager::command_names())
        plugin.commands.push_back({&plugin, command});
    for (const FloppyPlugin::CommandBinding &binding : plugin.commands)
        if (!host.qmp_register(binding.command, qmp_handler,
                               const_cast<FloppyPlugin::CommandBinding *>(&binding), errp))
            return false;
    return true;
}

}  // namespace fdplug::floppy::plugin
