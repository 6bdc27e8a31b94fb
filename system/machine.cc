#include "system/machine.h"

#include <glib.h>

#include <algorithm>
#include <cstdlib>

namespace fdplug {

namespace {

std::string known_properties(const FdplugDeviceTypeInfo &type) {
    std::string list;
    for (size_t i = 0; i < type.n_props; ++i)
        list += (list.empty() ? "" : ", ") + std::string(type.props[i].name);
    return list.empty() ? "none" : list;
}

const FdplugPropertyInfo *find_prop(const FdplugDeviceTypeInfo &type, const std::string &name) {
    for (size_t i = 0; i < type.n_props; ++i)
        if (name == type.props[i].name) return &type.props[i];
    return nullptr;
}

// The device types loaded plugins provide, for error messages.
std::string known_types(const PluginLoader &plugins, bool user_creatable_only) {
    std::string known;
    for (const auto *t : plugins.types())
        if (t->user_creatable || !user_creatable_only)
            known += (known.empty() ? "" : ", ") + std::string(t->name);
    return known.empty() ? "none; no plugin provides devices" : known;
}

// Per-device properties every device has, handled by the host itself.
bool is_common_property(const std::string &name) {
    return name == "id" || name == "bus";
}

}  // namespace

Machine::Machine(const HostConfig &config, PluginLoader &plugins)
    : config_(config),
      plugins_(plugins),
      clock_(config.qtest_accel ? VirtualClock::Mode::Manual : VirtualClock::Mode::Realtime),
      memory_(config.ram_bytes) {}

Machine::~Machine() {
    unrealize_all();
}

const char *Machine::property(const std::string &key) const {
    if (key == "type") return config_.machine.c_str();
    if (key == "nodefaults") return config_.nodefaults ? "on" : "off";
    if (key == "accel") return config_.qtest_accel ? "qtest" : "tcg";
    return nullptr;
}

void Machine::run_deferred() {
    if (in_deferred_ || !dma_) return;
    in_deferred_ = true;
    dma_->run();
    in_deferred_ = false;
}

void Machine::set_isa_irq(unsigned line, bool level) {
    if (pic_) pic_->set_irq(line, level);
    if (on_pin_change && is_pc()) on_pin_change(kIoapicPath, line, level);
}

bool Machine::define_drives(std::string *error) {
    std::map<std::string, unsigned> next_index;
    for (const KeyValueOptions &o : config_.drives) {
        auto d = std::make_unique<FdplugDrive>();
        for (const std::string &k : o.keys()) d->options[k] = *o.get(k);
        d->interface = o.get_or("if", "ide");
        if (auto ro = o.get("read-only")) d->options["readonly"] = *ro;
        if (auto idx = o.get("index")) {
            auto v = parse_int(*idx);
            if (!v || *v < 0 || *v > 255) {
                if (error) *error = "-drive index=" + *idx + ": expected a number 0..255";
                return false;
            }
            d->index = unsigned(*v);
        } else if (auto unit = o.get("unit"); unit && parse_int(*unit)) {
            d->index = unsigned(*parse_int(*unit));
        } else {
            d->index = next_index[d->interface];
        }
        next_index[d->interface] = std::max(next_index[d->interface], d->index + 1);
        if (auto id = o.get("id")) {
            d->name = *id;
        } else if (d->interface == "none") {
            if (error) *error = "-drive if=none needs an id=";
            return false;
        } else {
            d->name = d->interface + std::to_string(d->index);  // QEMU's legacy name: floppy0
        }
        if (drive_by_id(d->name) ||
            (d->interface != "none" && drive_by_if(d->interface, d->index))) {
            if (error)
                *error = "-drive " + d->name + ": duplicate drive id or if=" + d->interface +
                         ",index=" + std::to_string(d->index);
            return false;
        }
        drives_.push_back(std::move(d));
    }
    for (const KeyValueOptions &o : config_.blockdevs) {
        auto d = std::make_unique<FdplugDrive>();
        for (const std::string &k : o.keys()) d->options[k] = *o.get(k);
        d->name = *o.get("node-name");
        // Present the node graph the way -drive spells it: file=, format=, readonly=.
        const std::string driver = o.get_or("driver", "");
        if (auto f = o.get("file.filename"))
            d->options["file"] = *f;
        else if (auto f2 = o.get("filename"))
            d->options["file"] = *f2;
        d->options["format"] = driver == "file" ? "raw" : driver;
        if (auto ro = o.get("read-only")) d->options["readonly"] = *ro;
        if (drive_by_id(d->name)) {
            if (error) *error = "-blockdev node-name=" + d->name + ": duplicate node name";
            return false;
        }
        drives_.push_back(std::move(d));
    }
    return true;
}

FdplugDrive *Machine::drive_by_id(const std::string &id) {
    for (auto &d : drives_)
        if (d->name == id) return d.get();
    return nullptr;
}

FdplugDrive *Machine::drive_by_if(const std::string &interface, unsigned index) {
    for (auto &d : drives_)
        if (d->interface == interface && d->index == index) return d.get();
    return nullptr;
}

bool Machine::set_property(FdplugDevice &dev, const FdplugPropertyInfo *info,
                           const std::string &value, std::string *error) {
    const std::string where = std::string(dev.type->name) + "." + info->name;
    switch (info->type) {
        case FDPLUG_PROP_STRING:
            break;
        case FDPLUG_PROP_INT: {
            auto v = parse_int(value);
            if (!v || *v < info->min || *v > info->max) {
                if (error)
                    *error = "property " + where + " expects an integer in " +
                             std::to_string(info->min) + ".." + std::to_string(info->max) +
                             ", not '" + value + "'";
                return false;
            }
            dev.props[info->name] = std::to_string(*v);
            return true;
        }
        case FDPLUG_PROP_BOOL: {
            auto v = parse_bool(value);
            if (!v) {
                if (error) *error = "property " + where + " expects on or off, not '" + value + "'";
                return false;
            }
            dev.props[info->name] = *v ? "on" : "off";
            return true;
        }
        case FDPLUG_PROP_ENUM: {
            std::string list;
            for (const char *const *e = info->enum_values; e && *e; ++e) {
                if (value == *e) {
                    dev.props[info->name] = value;
                    return true;
                }
                list += (list.empty() ? "" : ", ") + std::string(*e);
            }
            if (error)
                *error =
                    "property " + where + " does not accept '" + value + "' (one of: " + list + ")";
            return false;
        }
    }
    dev.props[info->name] = value;
    return true;
}

bool Machine::create_device(const FdplugDeviceTypeInfo *type, KeyValueOptions props, bool user,
                            std::string *error) {
    auto dev = std::make_unique<FdplugDevice>();
    dev->type = type;
    for (size_t i = 0; i < type->n_props; ++i) {
        const FdplugPropertyInfo &p = type->props[i];
        if (p.default_value && !set_property(*dev, &p, p.default_value, error)) return false;
    }
    for (const GlobalProperty &g : config_.globals) {
        if (g.type != type->name) continue;
        // Checked against the type in build(), before any device exists.
        if (!set_property(*dev, find_prop(*type, g.property), g.value, error)) return false;
        dev->user_set.insert(g.property);
    }
    for (const std::string &key : props.keys()) {
        const std::string value = *props.get(key);
        if (is_common_property(key)) {
            dev->props[key] = value;
            continue;
        }
        const FdplugPropertyInfo *p = find_prop(*type, key);
        if (!p) {
            if (error)
                *error = "device '" + std::string(type->name) + "' has no property '" + key +
                         "' (known: " + known_properties(*type) + ")";
            return false;
        }
        if (!set_property(*dev, p, value, error)) return false;
        dev->user_set.insert(key);
    }
    dev->id = props.get_or("id", "");
    if (!dev->id.empty()) {
        for (const auto &other : devices_)
            if (other->id == dev->id) {
                if (error) *error = "duplicate device id '" + dev->id + "'";
                return false;
            }
        dev->path = "/machine/peripheral/" + dev->id;
    } else if (user) {
        dev->path = "/machine/peripheral-anon/device[" + std::to_string(anon_count_++) + "]";
    } else {
        dev->path = "/machine/unattached/device[" + std::to_string(unattached_count_++) + "]";
    }
    devices_.push_back(std::move(dev));
    return true;
}

bool Machine::attach_to_bus(FdplugDevice &dev, std::string *error) {
    const std::string bus_type = dev.type->bus_type ? dev.type->bus_type : "isa";
    if (bus_type == "isa") {
        if (!is_pc()) {
            if (error)
                *error = "no ISA bus on machine '" + config_.machine + "' for device '" +
                         dev.type->name + "'";
            return false;
        }
        return true;
    }
    const auto wanted = dev.props.find("bus");
    for (const auto &other : devices_) {
        if (other.get() == &dev || !other->realized || !other->type->provides_bus) continue;
        if (bus_type != other->type->provides_bus) continue;
        if (wanted != dev.props.end() && wanted->second != other->id &&
            wanted->second != other->id + ".0")
            continue;
        dev.parent = other.get();
        return true;
    }
    if (error) {
        *error = wanted != dev.props.end()
                     ? "bus '" + wanted->second + "' not found for device '" + dev.type->name + "'"
                     : "No '" + bus_type + "' bus found for device '" + dev.type->name + "'";
    }
    return false;
}

void Machine::setup_pc_cmos() {
    // What a PC BIOS setup leaves: base memory 640 KiB, extended memory sizes, FPU present.
    // Floppy bytes (0x10, 0x14 bits 0 and 7-6) are left to the floppy devices.
    const uint64_t ext_kib =
        config_.ram_bytes > (1u << 20) ? (config_.ram_bytes - (1u << 20)) / 1024 : 0;
    const uint64_t ext_capped = std::min<uint64_t>(ext_kib, 0xFFFF);
    cmos_->set_nvram(0x15, 0x80);
    cmos_->set_nvram(0x16, 0x02);
    cmos_->set_nvram(0x17, uint8_t(ext_capped));
    cmos_->set_nvram(0x18, uint8_t(ext_capped >> 8));
    cmos_->set_nvram(0x30, uint8_t(ext_capped));
    cmos_->set_nvram(0x31, uint8_t(ext_capped >> 8));
    const uint64_t above16 =
        config_.ram_bytes > (16u << 20) ? (config_.ram_bytes - (16u << 20)) >> 16 : 0;
    cmos_->set_nvram(0x34, uint8_t(std::min<uint64_t>(above16, 0xFFFF)));
    cmos_->set_nvram(0x35, uint8_t(std::min<uint64_t>(above16, 0xFFFF) >> 8));
    cmos_->set_nvram(0x14, 0x02);  // FPU present; display and floppies set elsewhere
}

bool Machine::build(std::string *error) {
    if (!define_drives(error)) return false;
    if (is_pc()) {
        dma_ = std::make_unique<IsaDma>(memory_);
        dma_->attach(bus_);
        pic_ = std::make_unique<PicPair>();
        pic_->attach(bus_);
        const int64_t boot_wall_ns = g_get_real_time() * 1000;
        cmos_ =
            std::make_unique<CmosRtc>([this, boot_wall_ns] { return boot_wall_ns + clock_.now(); });
        cmos_->attach(bus_);
        setup_pc_cmos();
    }
    // After every port access and timer: most have left no DMA request, and that check is inline.
    bus_.after_access = [this] {
        if (dma_ && dma_->requested()) run_deferred();
    };
    clock_.after_callback = [this] {
        if (dma_ && dma_->requested()) run_deferred();
    };

    for (const GlobalProperty &g : config_.globals) {
        const FdplugDeviceTypeInfo *type = plugins_.find_type(g.type);
        if (!type) {
            if (error)
                *error = "-global " + g.type + "." + g.property + ": no device type '" + g.type +
                         "' (known: " + known_types(plugins_, false) + ")";
            return false;
        }
        if (!find_prop(*type, g.property)) {
            if (error)
                *error = "-global " + g.type + "." + g.property + ": device '" + g.type +
                         "' has no property '" + g.property +
                         "' (known: " + known_properties(*type) + ")";
            return false;
        }
    }
    for (const FdplugDeviceTypeInfo *type : plugins_.types())
        if (type->default_on_machine && config_.machine == type->default_on_machine)
            if (!create_device(type, KeyValueOptions{}, false, error)) return false;
    for (const DeviceRequest &req : config_.devices) {
        const FdplugDeviceTypeInfo *type = plugins_.find_type(req.type);
        if (!type) {
            if (error)
                *error = "-device " + req.type +
                         ": unknown device type (known: " + known_types(plugins_, true) + ")";
            return false;
        }
        if (!type->user_creatable) {
            if (error)
                *error = "-device " + req.type + ": this device cannot be created by the user";
            return false;
        }
        std::string why;
        if (!create_device(type, req.props, true, &why)) {
            if (error) *error = "-device " + req.type + ": " + why;
            return false;
        }
    }
    for (auto &dev : devices_) {
        dev->self = dev->type->instance_new ? dev->type->instance_new(dev.get()) : nullptr;
        if (!dev->self) {
            if (error)
                *error = std::string("device '") + dev->type->name + "' could not be created";
            return false;
        }
    }
    for (auto &dev : devices_) {
        std::string why;
        if (!attach_to_bus(*dev, &why)) {
            if (error) *error = std::string("-device ") + dev->type->name + ": " + why;
            return false;
        }
        char *msg = nullptr;
        if (dev->type->realize && !dev->type->realize(dev->self, &msg)) {
            if (error)
                *error = std::string(dev->type->name) +
                         (dev->id.empty() ? "" : " '" + dev->id + "'") + ": " +
                         (msg ? msg : "realize failed");
            std::free(msg);
            return false;
        }
        dev->realized = true;
    }
    for (const auto &d : drives_) {
        if (!d->owner && !d->interface.empty() && d->interface != "none") {
            if (error)
                *error = "machine type '" + config_.machine +
                         "' does not support if=" + d->interface +
                         ",index=" + std::to_string(d->index);
            return false;
        }
    }
    for (auto &dev : devices_)
        if (dev->type->machine_ready) dev->type->machine_ready(dev->self);
    reset(FDPLUG_RESET_COLD);
    clock_.set_running(!config_.start_stopped);
    return true;
}

void Machine::reset(FdplugResetKind kind) {
    if (dma_) dma_->reset();
    if (pic_) pic_->reset();
    for (auto &dev : devices_)
        if (dev->realized && dev->type->reset) dev->type->reset(dev->self, kind);
    run_deferred();
}

void Machine::unrealize_all() {
    for (auto it = devices_.rbegin(); it != devices_.rend(); ++it) {
        FdplugDevice &dev = **it;
        if (dev.realized && dev.type->unrealize) dev.type->unrealize(dev.self);
        dev.realized = false;
        if (dev.self && dev.type->instance_free) dev.type->instance_free(dev.self);
        dev.self = nullptr;
    }
}

std::optional<std::string> Machine::resolve_path(std::string_view path) const {
    std::vector<std::string> known;
    if (is_pc()) {
        known.emplace_back(kIoapicPath);
        known.emplace_back("/machine/i440fx");
        known.emplace_back("/machine/unattached/i8259");
    }
    for (const auto &dev : devices_) known.push_back(dev->path);
    if (path.starts_with('/')) {
        if (std::find(known.begin(), known.end(), path) != known.end()) return std::string(path);
        return std::nullopt;
    }
    // A partial path names an object by its trailing components; it must be unambiguous.
    std::optional<std::string> match;
    const std::string suffix = "/" + std::string(path);
    for (const std::string &k : known) {
        if (k.size() >= suffix.size() &&
            k.compare(k.size() - suffix.size(), suffix.size(), suffix) == 0) {
            if (match) return std::nullopt;
            match = k;
        }
    }
    return match;
}

unsigned Machine::gpio_in_count(const std::string &path) const {
    return path == kIoapicPath ? 24 : 0;
}

void Machine::set_gpio_in(const std::string &path, unsigned pin, bool level) {
    if (path != kIoapicPath) return;
    if (pin < 16) {
        set_isa_irq(pin, level);
    } else if (on_pin_change) {
        on_pin_change(path, pin, level);
    }
}

}  // namespace fdplug
