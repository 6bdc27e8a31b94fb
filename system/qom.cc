#include "system/qom.h"

#include <cstdlib>
#include <cstring>

#include "system/machine.h"

namespace fdplug {

namespace {

using qmp::Json;
using qmp::Outcome;

// QEMU's names: -machine pc is the pc-i440fx-7.2 machine type.
std::string machine_type_name(const std::string &machine) {
    return machine == "pc" ? "pc-i440fx-7.2-machine" : machine + "-machine";
}

std::string parent_type(const FdplugDeviceTypeInfo &type) {
    return type.bus_type && std::strcmp(type.bus_type, "isa") != 0 ? "device" : "isa-device";
}

const FdplugPropertyInfo *find_prop(const FdplugDeviceTypeInfo &type, const std::string &name) {
    for (size_t i = 0; i < type.n_props; ++i)
        if (name == type.props[i].name) return &type.props[i];
    return nullptr;
}

std::string qom_type(const FdplugPropertyInfo &p) {
    switch (p.type) {
        case FDPLUG_PROP_INT:
            return p.min >= 0 && p.max <= 0xFFFFFFFFll ? "uint32" : "int64";
        case FDPLUG_PROP_BOOL:
            return "bool";
        default:
            return "str";
    }
}

// A property's textual value (the host's record, a default, a device's answer) as JSON.
Json typed(const FdplugPropertyInfo &p, const char *text) {
    switch (p.type) {
        case FDPLUG_PROP_INT:
            return text ? parse_int(text).value_or(0) : 0;
        case FDPLUG_PROP_BOOL:
            return text ? parse_bool(text).value_or(false) : false;
        default:
            return text ? text : "";
    }
}

Outcome not_found(const std::string &type, const std::string &property) {
    return Outcome::fail("GenericError", "Property '" + type + "." + property + "' not found");
}

}  // namespace

QomTree::QomTree(const Machine &machine) : machine_(machine) {
    nodes_.push_back({"/", "container", nullptr});
    nodes_.push_back({"/machine", machine_type_name(machine.config().machine), nullptr});
    for (const char *c : {"peripheral", "peripheral-anon", "unattached"})
        nodes_.push_back({std::string("/machine/") + c, "container", nullptr});
    for (const auto &dev : machine.devices())
        nodes_.push_back({dev->path, dev->type->name, dev.get()});
}

// Like QEMU's object_resolve_path(): an absolute path names one object; a partial one names the
// object whose path ends with it, if there is exactly one.
const QomTree::Node *QomTree::resolve(const std::string &path, bool *ambiguous) const {
    *ambiguous = false;
    if (path.starts_with('/')) {
        const std::string p =
            path.size() > 1 && path.ends_with('/') ? path.substr(0, path.size() - 1) : path;
        for (const Node &n : nodes_)
            if (n.path == p) return &n;
        return nullptr;
    }
    const Node *found = nullptr;
    for (const Node &n : nodes_) {
        if (path.empty() || !n.path.ends_with("/" + path)) continue;
        if (found) {
            *ambiguous = true;
            return nullptr;
        }
        found = &n;
    }
    return found;
}

Outcome QomTree::list(const std::string &path) const {
    bool ambiguous = false;
    const Node *node = resolve(path, &ambiguous);
    if (!node)
        return ambiguous ? Outcome::fail("GenericError", "Path '" + path + "' is ambiguous")
                         : Outcome::fail("DeviceNotFound", "Device '" + path + "' not found");
    Json out = Json::array();
    out.push_back(Json{{"name", "type"}, {"type", "string"}});
    if (const FdplugDevice *dev = node->device) {
        for (size_t i = 0; i < dev->type->n_props; ++i) {
            const FdplugPropertyInfo &p = dev->type->props[i];
            Json info{{"name", p.name}, {"type", qom_type(p)}};
            if (p.description) info["description"] = p.description;
            if (p.default_value) info["default-value"] = typed(p, p.default_value);
            out.push_back(std::move(info));
        }
    }
    const std::string prefix = node->path == "/" ? "/" : node->path + "/";
    for (const Node &n : nodes_) {
        if (&n == node || !n.path.starts_with(prefix)) continue;
        const std::string name = n.path.substr(prefix.size());
        if (name.find('/') == std::string::npos)
            out.push_back(Json{{"name", name}, {"type", "child<" + n.type + ">"}});
    }
    return Outcome::ok(out);
}

Outcome QomTree::get(const std::string &path, const std::string &property) const {
    bool ambiguous = false;
    const Node *node = resolve(path, &ambiguous);
    if (!node) return qmp::MachineControl::no_object(path);
    if (property == "type") return Outcome::ok(node->type);
    const FdplugDevice *dev = node->device;
    const FdplugPropertyInfo *p = dev ? find_prop(*dev->type, property) : nullptr;
    if (!p) return not_found(node->type, property);
    if (dev->realized && dev->type->get_property) {
        if (char *live = dev->type->get_property(dev->self, p->name)) {
            Json v = typed(*p, live);
            std::free(live);
            return Outcome::ok(v);
        }
    }
    const auto it = dev->props.find(property);
    return Outcome::ok(typed(*p, it != dev->props.end() ? it->second.c_str() : p->default_value));
}

Outcome QomTree::set(const std::string &path, const std::string &property, const Json &value) {
    bool ambiguous = false;
    const Node *node = resolve(path, &ambiguous);
    if (!node) return qmp::MachineControl::no_object(path);
    // QEMU: the type property has no setter.
    if (property == "type")
        return Outcome::fail("GenericError", "Insufficient permission to perform this operation");
    FdplugDevice *dev = node->device;
    const FdplugPropertyInfo *p = dev ? find_prop(*dev->type, property) : nullptr;
    if (!p) return not_found(node->type, property);
    // As QEMU 7.2 does, a property that cannot change after realize says so before the value
    // is looked at.
    auto settable = [&](const char *text, char **errp) {
        return dev->realized && dev->type->set_property
                   ? dev->type->set_property(dev->self, p->name, text, errp)
               : dev->realized ? FDPLUG_SET_NOT_RUNTIME
                               : FDPLUG_SET_OK;
    };
    if (settable(nullptr, nullptr) == FDPLUG_SET_NOT_RUNTIME) {
        const std::string what = dev->id.empty() ? "anonymous device" : "device '" + dev->id + "'";
        return Outcome::fail("GenericError", "Attempt to set property '" + property + "' on " +
                                                 what + " (type '" + dev->type->name +
                                                 "') after it was realized");
    }
    std::string text;
    switch (p->type) {
        case FDPLUG_PROP_INT:
            if (!value.is_number_integer())
                return Outcome::fail("GenericError", "Invalid parameter type for '" + property +
                                                         "', expected: integer");
            if (value.is_number_unsigned()
                    ? value.get<uint64_t>() > uint64_t(INT64_MAX) || value.get<int64_t>() > p->max
                    : value.get<int64_t>() < p->min || value.get<int64_t>() > p->max)
                return Outcome::fail("GenericError",
                                     "Parameter '" + property + "' expects an integer in " +
                                         std::to_string(p->min) + ".." + std::to_string(p->max));
            text = std::to_string(value.get<int64_t>());
            break;
        case FDPLUG_PROP_BOOL:
            if (!value.is_boolean())
                return Outcome::fail("GenericError", "Invalid parameter type for '" + property +
                                                         "', expected: boolean");
            text = value.get<bool>() ? "on" : "off";
            break;
        case FDPLUG_PROP_ENUM:
        case FDPLUG_PROP_STRING:
            if (!value.is_string())
                return Outcome::fail("GenericError", "Invalid parameter type for '" + property +
                                                         "', expected: string");
            text = value.get<std::string>();
            if (p->type == FDPLUG_PROP_ENUM) {
                bool known = false;
                for (const char *const *e = p->enum_values; e && *e; ++e) known |= text == *e;
                if (!known)
                    return Outcome::fail(
                        "GenericError",
                        "Parameter '" + property + "' does not accept value '" + text + "'");
            }
            break;
    }
    char *err = nullptr;
    const FdplugSetResult r = settable(text.c_str(), &err);
    if (r != FDPLUG_SET_OK) {
        const std::string desc = err ? err : "the device refused the value";
        std::free(err);
        return Outcome::fail("GenericError", desc);
    }
    dev->props[property] = text;
    return Outcome::ok();
}

Json QomTree::list_types(const std::optional<std::string> &implements, bool abstract) const {
    struct Type {
        std::string name, parent;
        bool abstract = false;
    };
    std::vector<Type> types = {{"object", "", true},
                               {"container", "object"},
                               {"device", "object", true},
                               {"isa-device", "device", true},
                               {"machine", "object", true}};
    types.push_back({machine_type_name(machine_.config().machine), "machine"});
    for (const FdplugDeviceTypeInfo *t : machine_.plugins().types())
        types.push_back({t->name, parent_type(*t)});
    auto derives = [&](const Type &t, const std::string &ancestor) {
        for (const Type *at = &t; at;) {
            if (at->name == ancestor) return true;
            const Type *up = nullptr;
            for (const Type &u : types)
                if (u.name == at->parent) up = &u;
            at = up;
        }
        return false;
    };
    Json out = Json::array();
    for (const Type &t : types) {
        if (t.abstract && !abstract) continue;
        if (implements && !derives(t, *implements)) continue;
        Json info{{"name", t.name}};
        if (t.abstract) info["abstract"] = true;
        if (!t.parent.empty()) info["parent"] = t.parent;
        out.push_back(std::move(info));
    }
    return out;
}

}  // namespace fdplug
