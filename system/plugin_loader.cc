#include "system/plugin_loader.h"

#include <glib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

namespace fdplug {

namespace {
std::string version_text(uint32_t major, uint32_t minor) {
    return std::to_string(major) + "." + std::to_string(minor);
}
}  // namespace

std::string check_plugin_abi(const FdplugPluginInfo &info) {
    if (info.abi_major != FDPLUG_ABI_MAJOR || info.abi_minor > FDPLUG_ABI_MINOR)
        return "plugin ABI " + version_text(info.abi_major, info.abi_minor) +
               " does not fit host ABI " + version_text(FDPLUG_ABI_MAJOR, FDPLUG_ABI_MINOR) +
               " (the major version must match and the minor must not be newer)";
    struct Size {
        const char *name;
        uint32_t plugin, host;
    };
    const Size sizes[] = {
        {"FdplugHost", info.sizeof_host, sizeof(FdplugHost)},
        {"FdplugPluginInfo", info.sizeof_plugin_info, sizeof(FdplugPluginInfo)},
        {"FdplugDeviceTypeInfo", info.sizeof_device_type, sizeof(FdplugDeviceTypeInfo)},
        {"FdplugPropertyInfo", info.sizeof_property, sizeof(FdplugPropertyInfo)},
        {"FdplugPortOps", info.sizeof_port_ops, sizeof(FdplugPortOps)},
        {"FdplugBlockOps", info.sizeof_block_ops, sizeof(FdplugBlockOps)},
        {"FdplugError", info.sizeof_error, sizeof(FdplugError)},
    };
    for (const Size &s : sizes)
        if (s.plugin != s.host)
            return std::string("struct ") + s.name + " is " + std::to_string(s.plugin) +
                   " bytes in the plugin but " + std::to_string(s.host) + " in the host (ABI " +
                   version_text(FDPLUG_ABI_MAJOR, FDPLUG_ABI_MINOR) +
                   "): rebuild the plugin against this host's fdplug/plugin.h";
    return "";
}

PluginLoader::~PluginLoader() {
    fini_all();
    for (auto &p : plugins_)
        if (p.module) g_module_close(p.module);
}

std::vector<std::string> PluginLoader::search_path(const std::vector<std::string> &plugin_dirs) {
    std::vector<std::string> dirs = plugin_dirs;
    if (const char *env = std::getenv("FDPLUG_PLUGIN_PATH")) {
        gchar **parts = g_strsplit(env, ":", -1);
        for (gchar **p = parts; *p; ++p)
            if (**p) dirs.emplace_back(*p);
        g_strfreev(parts);
    }
    dirs.emplace_back(FDPLUG_BUILD_PLUGIN_DIR);
    dirs.emplace_back(FDPLUG_INSTALL_PLUGIN_DIR);
    return dirs;
}

bool PluginLoader::load(const std::string &path, std::string *error) {
    GModule *module =
        g_module_open(path.c_str(), GModuleFlags(G_MODULE_BIND_LOCAL | G_MODULE_BIND_LAZY));
    if (!module) {
        if (error) *error = "cannot load plugin " + path + ": " + g_module_error();
        return false;
    }
    gpointer symbol = nullptr;
    if (!g_module_symbol(module, FDPLUG_ENTRY_SYMBOL, &symbol) || !symbol) {
        g_module_close(module);
        if (error) *error = path + " is not an fdplug plugin (no " FDPLUG_ENTRY_SYMBOL ")";
        return false;
    }
    const auto entry = reinterpret_cast<FdplugEntryFn>(symbol);
    const FdplugPluginInfo *info = entry(FDPLUG_ABI_MAJOR, FDPLUG_ABI_MINOR);
    if (!info) {
        g_module_close(module);
        if (error)
            *error = "plugin " + path + " refused host ABI " +
                     version_text(FDPLUG_ABI_MAJOR, FDPLUG_ABI_MINOR);
        return false;
    }
    if (std::string why = check_plugin_abi(*info); !why.empty()) {
        g_module_close(module);
        if (error) *error = "refusing plugin " + path + ": " + why;
        return false;
    }
    for (size_t i = 0; i < info->n_types; ++i) {
        if (find_type(info->types[i].name)) {
            g_module_close(module);
            if (error)
                *error = "skipping plugin " + path + ": device type '" + info->types[i].name +
                         "' is already provided by another plugin";
            return false;
        }
    }
    plugins_.push_back({path, module, info});
    return true;
}

void PluginLoader::load_all(const std::vector<std::string> &dirs,
                            std::vector<std::string> *warnings) {
    namespace fs = std::filesystem;
    std::vector<std::string> seen;
    for (const std::string &dir : dirs) {
        std::error_code ec;
        if (!fs::is_directory(dir, ec)) continue;
        std::vector<fs::path> files;
        for (const auto &entry : fs::directory_iterator(dir, ec))
            if (entry.path().extension() == ".so") files.push_back(entry.path());
        std::sort(files.begin(), files.end());
        for (const fs::path &f : files) {
            // The same plugin reached through two directories (e.g. build and install) loads once.
            const std::string name = f.filename().string();
            if (std::find(seen.begin(), seen.end(), name) != seen.end()) continue;
            std::string why;
            if (load(f.string(), &why))
                seen.push_back(name);
            else if (warnings)
                warnings->push_back(why);
        }
    }
}

bool PluginLoader::init_all(const FdplugHost *host, std::string *error) {
    for (auto &p : plugins_) {
        if (!p.info->init) continue;
        char *why = nullptr;
        if (!p.info->init(host, &why)) {
            if (error)
                *error = "plugin " + p.path +
                         " failed to initialise: " + (why ? why : "no reason given");
            std::free(why);
            return false;
        }
    }
    initialized_ = true;
    return true;
}

void PluginLoader::fini_all() {
    if (!initialized_) return;
    initialized_ = false;
    for (auto &p : plugins_)
        if (p.info->fini) p.info->fini();
}

const FdplugDeviceTypeInfo *PluginLoader::find_type(const std::string &name) const {
    for (const auto &p : plugins_)
        for (size_t i = 0; i < p.info->n_types; ++i)
            if (name == p.info->types[i].name) return &p.info->types[i];
    return nullptr;
}

std::vector<const FdplugDeviceTypeInfo *> PluginLoader::types() const {
    std::vector<const FdplugDeviceTypeInfo *> out;
    for (const auto &p : plugins_)
        for (size_t i = 0; i < p.info->n_types; ++i) out.push_back(&p.info->types[i]);
    return out;
}

}  // namespace fdplug
