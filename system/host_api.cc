#include "system/host_api.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <list>

#include "system/machine.h"

struct FdplugPortRegion {
    fdplug::IsaBus::RegionId id;
};
struct FdplugIrq {
    unsigned line;
    bool level = false;
};
struct FdplugDma {
    unsigned channel;
};
struct FdplugTimer {
    fdplug::VirtualClock::Timer *timer;
};

namespace fdplug {

namespace {

// One machine per process: the ABI's free functions reach it through these.
Machine *g_machine = nullptr;
VirtualClock *g_clock = nullptr;  // g_machine's, without the virtual clock() call per read
QmpBridge *g_bridge = nullptr;
std::list<FdplugPortRegion> g_regions;
std::list<FdplugIrq> g_irqs;
std::list<FdplugDma> g_dmas;
std::list<FdplugTimer> g_timers;

void set_error(char **errp, const std::string &text) {
    if (errp) *errp = strdup(text.c_str());
}

FdplugLogLevel log_threshold() {
    static const FdplugLogLevel level = [] {
        const char *env = std::getenv("FDPLUG_LOG_LEVEL");
        if (!env) return FDPLUG_LOG_WARNING;
        static const char *const names[] = {"error", "warning", "info", "debug", "trace"};
        for (int i = 0; i < 5; ++i)
            if (!std::strcmp(env, names[i])) return FdplugLogLevel(i);
        return FDPLUG_LOG_WARNING;
    }();
    return level;
}

void host_log(FdplugDevice *dev, FdplugLogLevel level, const char *fmt, ...) {
    if (level > log_threshold()) return;
    static const char *const names[] = {"error", "warning", "info", "debug", "trace"};
    std::fprintf(stderr, "fdplug-host: %s%s%s: ", names[unsigned(level) < 5 ? level : 0],
                 dev ? " " : "", dev ? (dev->id.empty() ? dev->type->name : dev->id.c_str()) : "");
    va_list ap;
    va_start(ap, fmt);
    std::vfprintf(stderr, fmt, ap);
    va_end(ap);
    std::fputc('\n', stderr);
}

const char *machine_property(const char *key) {
    return key ? g_machine->property(key) : nullptr;
}
const char *device_id(FdplugDevice *dev) {
    return dev->id.c_str();
}
const char *device_path(FdplugDevice *dev) {
    return dev->path.c_str();
}
const char *device_type(FdplugDevice *dev) {
    return dev->type->name;
}
void *device_parent(FdplugDevice *dev) {
    return dev->parent ? dev->parent->self : nullptr;
}

const std::string *prop(FdplugDevice *dev, const char *name) {
    auto it = dev->props.find(name);
    return it == dev->props.end() ? nullptr : &it->second;
}
const char *prop_string(FdplugDevice *dev, const char *name) {
    const std::string *v = prop(dev, name);
    return v ? v->c_str() : nullptr;
}
int64_t prop_int(FdplugDevice *dev, const char *name) {
    const std::string *v = prop(dev, name);
    return v ? parse_int(*v).value_or(0) : 0;
}
bool prop_bool(FdplugDevice *dev, const char *name) {
    const std::string *v = prop(dev, name);
    return v && parse_bool(*v).value_or(false);
}
bool prop_is_set(FdplugDevice *dev, const char *name) {
    return dev->user_set.count(name) != 0;
}

FdplugPortRegion *port_region_add(FdplugDevice *dev, uint16_t base, uint16_t len,
                                  const FdplugPortOps *ops, void *opaque, const char *name,
                                  char **errp) {
    if (!ops || !ops->read || !ops->write) {
        set_error(errp, "port region needs read and write callbacks");
        return nullptr;
    }
    PortHandler h;
    h.native_sizes = ops->native_sizes;
    h.split_sizes = ops->split_sizes;
    // The bus calls the plugin's C callbacks directly (PortHandler::c_read/c_write).
    h.c_read = ops->read;
    h.c_write = ops->write;
    h.c_opaque = opaque;
    std::string error;
    auto id = g_machine->bus().add_region(
        base, len, std::move(h),
        std::string(dev->type->name) + (name ? std::string(":") + name : ""), &error);
    if (!id) {
        set_error(errp, error);
        return nullptr;
    }
    return &g_regions.emplace_back(FdplugPortRegion{*id});
}

void port_region_del(FdplugPortRegion *region) {
    if (!region) return;
    g_machine->bus().remove_region(region->id);
    g_regions.remove_if([region](const FdplugPortRegion &r) { return &r == region; });
}

FdplugIrq *irq_claim(FdplugDevice *, unsigned isa_irq, char **errp) {
    if (!g_machine->pic()) {
        set_error(errp, "this machine has no ISA interrupt controller");
        return nullptr;
    }
    if (isa_irq > 15 || isa_irq == 2) {
        set_error(errp,
                  "ISA IRQ " + std::to_string(isa_irq) + " does not exist (use 0-15 except 2)");
        return nullptr;
    }
    return &g_irqs.emplace_back(FdplugIrq{isa_irq});
}

void irq_set(FdplugIrq *irq, bool level) {
    if (!irq || irq->level == level) return;
    irq->level = level;
    // Lines are shared wire-OR on ISA only by convention; each claim drives its own level here.
    g_machine->set_isa_irq(irq->line, level);
}

void irq_release(FdplugIrq *irq) {
    if (!irq) return;
    irq_set(irq, false);
    g_irqs.remove_if([irq](const FdplugIrq &i) { return &i == irq; });
}

FdplugDma *dma_claim(FdplugDevice *, unsigned channel, FdplugDmaHandler handler, void *opaque,
                     char **errp) {
    IsaDma *dma = g_machine->dma();
    if (!dma) {
        set_error(errp, "this machine has no ISA DMA controller");
        return nullptr;
    }
    if (channel > 7 || channel == 4) {
        set_error(errp,
                  "ISA DMA channel " + std::to_string(channel) + " does not exist (use 0-3, 5-7)");
        return nullptr;
    }
    for (const FdplugDma &d : g_dmas)
        if (d.channel == channel) {
            set_error(errp, "ISA DMA channel " + std::to_string(channel) + " is already in use");
            return nullptr;
        }
    dma->set_handler(channel, [handler, opaque](FdplugDmaDir dir, std::span<uint8_t> buf, bool tc) {
        return handler(opaque, dir, buf.data(), buf.size(), tc);
    });
    return &g_dmas.emplace_back(FdplugDma{channel});
}

void dma_request(FdplugDma *dma, bool level) {
    if (dma) g_machine->dma()->set_request(dma->channel, level);
}

void dma_release(FdplugDma *dma) {
    if (!dma) return;
    g_machine->dma()->set_request(dma->channel, false);
    g_machine->dma()->set_handler(dma->channel, nullptr);
    g_dmas.remove_if([dma](const FdplugDma &d) { return &d == dma; });
}

int64_t clock_ns() {
    return g_clock->now();
}

FdplugTimer *timer_new(FdplugDevice *, FdplugTimerCb cb, void *opaque) {
    auto *t = g_machine->clock().timer_new([cb, opaque] { cb(opaque); });
    return &g_timers.emplace_back(FdplugTimer{t});
}
void timer_mod(FdplugTimer *t, int64_t deadline) {
    if (t) g_machine->clock().timer_mod(t->timer, deadline);
}
void timer_del(FdplugTimer *t) {
    if (t) g_machine->clock().timer_del(t->timer);
}
void timer_free(FdplugTimer *t) {
    if (!t) return;
    g_machine->clock().timer_free(t->timer);
    g_timers.remove_if([t](const FdplugTimer &x) { return &x == t; });
}

uint8_t cmos_read(uint8_t index) {
    return g_machine->cmos() ? g_machine->cmos()->nvram(index) : 0;
}
void cmos_write(uint8_t index, uint8_t value) {
    if (g_machine->cmos()) g_machine->cmos()->set_nvram(index, value);
}

FdplugDrive *drive_by_id(const char *id) {
    return id ? g_machine->drive_by_id(id) : nullptr;
}
FdplugDrive *drive_by_if(const char *interface, unsigned index) {
    return interface ? g_machine->drive_by_if(interface, index) : nullptr;
}
const char *drive_option(FdplugDrive *drive, const char *key) {
    if (!drive || !key) return nullptr;
    auto it = drive->options.find(key);
    return it == drive->options.end() ? nullptr : it->second.c_str();
}
const char *drive_name(FdplugDrive *drive) {
    return drive ? drive->name.c_str() : "";
}
bool drive_claim(FdplugDrive *drive, FdplugDevice *dev, char **errp) {
    if (!drive) {
        set_error(errp, "no such drive");
        return false;
    }
    if (drive->owner && drive->owner != dev) {
        set_error(errp, "Drive '" + drive->name + "' is already in use by device '" +
                            (drive->owner->id.empty() ? drive->owner->path : drive->owner->id) +
                            "'");
        return false;
    }
    drive->owner = dev;
    return true;
}

void block_register(FdplugDevice *dev, const char *qdev_id, const char *device_name,
                    const FdplugBlockOps *ops, void *opaque) {
    if (g_bridge->block_register)
        g_bridge->block_register(dev, qdev_id ? qdev_id : "", device_name ? device_name : "", ops,
                                 opaque);
}

bool qmp_add_schema(const char *text, const char *source, char **errp) {
    std::string error = "this host has no QMP monitor";
    if (g_bridge->add_schema && g_bridge->add_schema(text, source ? source : "plugin", &error))
        return true;
    set_error(errp, error);
    return false;
}
bool qmp_register(const char *command, FdplugQmpHandler handler, void *opaque, char **errp) {
    std::string error = "this host has no QMP monitor";
    if (g_bridge->register_command && g_bridge->register_command(command, handler, opaque, &error))
        return true;
    set_error(errp, error);
    return false;
}
void qmp_event(const char *event, const char *data_json) {
    if (g_bridge->emit_event && event) g_bridge->emit_event(event, data_json);
}

void buffer_append(FdplugBuffer *buf, const void *data, size_t len) {
    if (!buf || !data) return;
    const auto *p = static_cast<const uint8_t *>(data);
    buf->bytes.insert(buf->bytes.end(), p, p + len);
}

}  // namespace

const FdplugHost *host_table(Machine &machine, QmpBridge &bridge) {
    g_machine = &machine;
    g_clock = &machine.clock();
    g_bridge = &bridge;
    static const FdplugHost table = {
        .struct_size = sizeof(FdplugHost),
        .abi_major = FDPLUG_ABI_MAJOR,
        .abi_minor = FDPLUG_ABI_MINOR,
        .host_name = "fdplug-host",
        .log = host_log,
        .machine_property = machine_property,
        .device_id = device_id,
        .device_path = device_path,
        .device_type = device_type,
        .device_parent = device_parent,
        .prop_string = prop_string,
        .prop_int = prop_int,
        .prop_bool = prop_bool,
        .prop_is_set = prop_is_set,
        .port_region_add = port_region_add,
        .port_region_del = port_region_del,
        .irq_claim = irq_claim,
        .irq_set = irq_set,
        .irq_release = irq_release,
        .dma_claim = dma_claim,
        .dma_request = dma_request,
        .dma_release = dma_release,
        .clock_ns = clock_ns,
        .timer_new = timer_new,
        .timer_mod = timer_mod,
        .timer_del = timer_del,
        .timer_free = timer_free,
        .cmos_read = cmos_read,
        .cmos_write = cmos_write,
        .drive_by_id = drive_by_id,
        .drive_by_if = drive_by_if,
        .drive_option = drive_option,
        .drive_name = drive_name,
        .drive_claim = drive_claim,
        .block_register = block_register,
        .qmp_add_schema = qmp_add_schema,
        .qmp_register = qmp_register,
        .qmp_event = qmp_event,
        .buffer_append = buffer_append,
    };
    return &table;
}

}  // namespace fdplug
