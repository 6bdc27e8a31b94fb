// Finds and loads device plugins (GModule), checking each one's ABI version and struct sizes
// against the host's before trusting anything in it.
#pragma once

#include <gmodule.h>

#include <string>
#include <vector>

#include "fdplug/plugin.h"

namespace fdplug {

struct LoadedPlugin {
    std::string path;
    GModule *module = nullptr;
    const FdplugPluginInfo *info = nullptr;
};

class PluginLoader {
  public:
    ~PluginLoader();

    // Directories in search order: -plugin-dir, $FDPLUG_PLUGIN_PATH, the build tree, the
    // install directory. A type name found twice keeps the first.
    static std::vector<std::string> search_path(const std::vector<std::string> &plugin_dirs);

    // Loads every plugin in the directories; problems are collected in warnings (a broken
    // plugin must not stop the host), and a refused plugin's message names both versions.
    void load_all(const std::vector<std::string> &dirs, std::vector<std::string> *warnings);
    // Loads one file; false + *error on refusal.
    bool load(const std::string &path, std::string *error);
    // Runs each plugin's init with the host table; false if one refuses.
    bool init_all(const FdplugHost *host, std::string *error);
    void fini_all();

    const FdplugDeviceTypeInfo *find_type(const std::string &name) const;
    std::vector<const FdplugDeviceTypeInfo *> types() const;
    const std::vector<LoadedPlugin> &plugins() const { return plugins_; }

  private:
    std::vector<LoadedPlugin> plugins_;
    bool initialized_ = false;
};

// Checks a plugin's description against the host's ABI; "" when it fits.
std::string check_plugin_abi(const FdplugPluginInfo &info);

}  // namespace fdplug
