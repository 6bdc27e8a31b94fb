// The host's object tree as QMP's qom-* commands see it (docs/qmp.md#objects-and-properties):
// /machine, its containers peripheral, peripheral-anon and unattached, and every device a plugin
// provides, with the properties its type declares. Values come from the device where it says
// what it really uses (FdplugDeviceTypeInfo.get_property), else from the host's record; a change
// reaches the running device only where the device accepts it (set_property). Nothing here
// knows what a device is for.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "monitor/host_commands.h"

struct FdplugDevice;

namespace fdplug {

class Machine;

class QomTree {
  public:
    explicit QomTree(const Machine &machine);

    qmp::Outcome list(const std::string &path) const;
    qmp::Outcome get(const std::string &path, const std::string &property) const;
    qmp::Outcome set(const std::string &path, const std::string &property, const qmp::Json &value);
    qmp::Json list_types(const std::optional<std::string> &implements, bool abstract) const;

  private:
    struct Node {
        std::string path, type;
        FdplugDevice *device = nullptr;
    };
    // nullptr: no such object; *ambiguous: a partial path that names several.
    const Node *resolve(const std::string &path, bool *ambiguous) const;

    const Machine &machine_;
    std::vector<Node> nodes_;
};

}  // namespace fdplug
