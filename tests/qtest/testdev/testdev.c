/*
 * test-isa-dev: a device that exists only to exercise the plugin ABI end to end from the
 * qtest tests (ports, IRQ, DMA in both directions, timers, a plugin-provided bus). Plain C, to
 * prove the header works from C. Not installed.
 *
 * Registers (iobase + n):
 *   0  W: 1 raises the IRQ, 0 lowers it        R: current IRQ level
 *   1  W: N: produce N bytes (i*3+1) by DMA     R: bytes moved so far (low 8 bits)
 *   2  W: N: consume N bytes from memory by DMA R: bit 0 TC seen, bit 1 transfer done
 *   3  W: N: raise the IRQ N ms from now        R: number of timer expiries
 *   4  R: sum of consumed bytes (low 8 bits)
 *   5  R: number of children on this device's bus
 *
 * QMP (through the ABI): command test-ping {value} returns {value} or, for a negative value, a
 * plugin error class with an extra "hresult" member; event TEST_TIMER on every timer expiry;
 * a drive slot named "testdrive<iobase>" answering query-block, eject and blockdev-change-medium.
 */
#define FDPLUG_BUILDING_PLUGIN
#include <fdplug/plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const FdplugHost *host;

typedef struct TestDev {
    FdplugDevice *dev;
    FdplugPortRegion *ports;
    FdplugIrq *irq;
    FdplugDma *dma;
    FdplugTimer *timer;
    int irq_level;
    unsigned want, moved, sum, timer_fires, children;
    int consuming, tc, done;
    char medium[256]; /* "" = empty drive slot */
    char qdev[64], drive[64];
} TestDev;

static void set_irq(TestDev *t, int level) {
    t->irq_level = level;
    host->irq_set(t->irq, level);
}

static size_t dma_handler(void *opaque, FdplugDmaDir dir, uint8_t *buf, size_t len, bool tc) {
    TestDev *t = opaque;
    size_t n = t->want - t->moved;
    if (n > len) n = len;
    for (size_t i = 0; i < n; ++i) {
        if (t->consuming)
            t->sum += buf[i];
        else if (dir == FDPLUG_DMA_DEV_TO_MEM)
            buf[i] = (uint8_t)((t->moved + i) * 3 + 1);
    }
    t->moved += (unsigned)n;
    if (tc && n == len) t->tc = 1;
    if (t->moved == t->want || t->tc) {
        t->done = 1;
        host->dma_request(t->dma, false);
        set_irq(t, 1);
    }
    return n;
}

static void timer_cb(void *opaque) {
    TestDev *t = opaque;
    char data[64];
    t->timer_fires++;
    set_irq(t, 1);
    snprintf(data, sizeof data, "{\"fires\": %u}", t->timer_fires);
    host->qmp_event("TEST_TIMER", data);
}

static const char test_schema[] =
    "{ 'command': 'test-ping', 'data': { 'value': 'int' }, 'returns': 'TestPong' }\n"
    "{ 'struct': 'TestPong', 'data': { 'value': 'int' } }\n"
    "{ 'event': 'TEST_TIMER', 'data': { 'fires': 'int' } }\n";

static bool test_ping(void *opaque, const char *args, char **ret, FdplugError *err) {
    long value = 0;
    const char *v = strstr(args, "\"value\":");
    (void)opaque;
    if (v) value = strtol(v + 8, NULL, 10);
    if (value < 0) {
        err->cls = "TEST_E_NEGATIVE";
        err->cls_static = true;
        err->desc = strdup("test-ping takes a value of 0 or more");
        err->extra_json = strdup("{\"hresult\": \"0xA0040652\"}");
        return false;
    }
    *ret = malloc(64);
    snprintf(*ret, 64, "{\"value\": %ld}", value);
    return true;
}

static char *slot_query(void *opaque) {
    TestDev *t = opaque;
    char *out = malloc(700);
    if (t->medium[0])
        snprintf(out, 700,
                 "{\"device\": \"%s\", \"qdev\": \"%s\", \"removable\": true, "
                 "\"locked\": false, \"type\": \"unknown\", \"inserted\": {\"file\": \"%s\"}}",
                 t->drive, t->qdev, t->medium);
    else
        snprintf(out, 700,
                 "{\"device\": \"%s\", \"qdev\": \"%s\", \"removable\": true, "
                 "\"locked\": false, \"type\": \"unknown\"}",
                 t->drive, t->qdev);
    return out;
}

static bool slot_eject(void *opaque, bool force, FdplugError *err) {
    TestDev *t = opaque;
    (void)force;
    (void)err;
    t->medium[0] = 0;
    return true;
}

static bool slot_change(void *opaque, const char *file, const char *format, const char *mode,
                        FdplugError *err) {
    TestDev *t = opaque;
    (void)format;
    (void)mode;
    if (file[0] != '/') {
        err->cls = "GenericError";
        err->cls_static = true;
        err->desc = strdup("test drive wants an absolute path");
        return false;
    }
    snprintf(t->medium, sizeof t->medium, "%s", file);
    return true;
}

static const FdplugBlockOps slot_ops = {
    .query = slot_query, .eject = slot_eject, .change_medium = slot_change};

static uint32_t port_read(void *opaque, uint16_t off, unsigned size) {
    TestDev *t = opaque;
    (void)size;
    switch (off) {
        case 0:
            return (uint32_t)t->irq_level;
        case 1:
            return t->moved & 0xFF;
        case 2:
            return (uint32_t)(t->tc | t->done << 1);
        case 3:
            return t->timer_fires & 0xFF;
        case 4:
            return t->sum & 0xFF;
        case 5:
            return t->children;
        default:
            return 0;
    }
}

static void port_write(void *opaque, uint16_t off, uint32_t value, unsigned size) {
    TestDev *t = opaque;
    (void)size;
    switch (off) {
        case 0:
            set_irq(t, value != 0);
            break;
        case 1:
        case 2:
            t->want = value & 0xFF;
            t->moved = t->sum = 0;
            t->tc = t->done = 0;
            t->consuming = off == 2;
            host->dma_request(t->dma, t->want != 0);
            break;
        case 3:
            host->timer_mod(t->timer, host->clock_ns() + (int64_t)value * 1000000);
            break;
        default:
            break;
    }
}

static const FdplugPortOps test_ops = {
    .read = port_read, .write = port_write, .native_sizes = 1, .split_sizes = 2};

static void *test_new(FdplugDevice *dev) {
    TestDev *t = calloc(1, sizeof *t);
    if (t) t->dev = dev;
    return t;
}

static bool test_realize(void *self, char **errp) {
    TestDev *t = self;
    uint16_t base = (uint16_t)host->prop_int(t->dev, "iobase");
    t->ports = host->port_region_add(t->dev, base, 8, &test_ops, t, "regs", errp);
    if (!t->ports) return false;
    t->irq = host->irq_claim(t->dev, (unsigned)host->prop_int(t->dev, "irq"), errp);
    if (!t->irq) return false;
    t->dma = host->dma_claim(t->dev, (unsigned)host->prop_int(t->dev, "dma"), dma_handler, t, errp);
    if (!t->dma) return false;
    t->timer = host->timer_new(t->dev, timer_cb, t);
    snprintf(t->qdev, sizeof t->qdev, "%s",
             host->device_id(t->dev)[0] ? host->device_id(t->dev) : host->device_path(t->dev));
    snprintf(t->drive, sizeof t->drive, "testdrive%x", (unsigned)base);
    host->block_register(t->dev, t->qdev, t->drive, &slot_ops, t);
    return true;
}

static void test_unrealize(void *self) {
    TestDev *t = self;
    host->timer_free(t->timer);
    host->dma_release(t->dma);
    host->irq_release(t->irq);
    host->port_region_del(t->ports);
}

static void test_reset(void *self, FdplugResetKind kind) {
    TestDev *t = self;
    (void)kind;
    set_irq(t, 0);
}

static void test_free(void *self) {
    free(self);
}

typedef struct TestChild {
    FdplugDevice *dev;
} TestChild;

static void *child_new(FdplugDevice *dev) {
    TestChild *c = calloc(1, sizeof *c);
    if (c) c->dev = dev;
    return c;
}

static bool child_realize(void *self, char **errp) {
    TestChild *c = self;
    TestDev *parent = host->device_parent(c->dev);
    if (!parent) {
        *errp = strdup("test-child needs a test-bus");
        return false;
    }
    parent->children++;
    return true;
}

static const FdplugPropertyInfo test_props[] = {
    {.name = "iobase",
     .type = FDPLUG_PROP_INT,
     .default_value = "0x300",
     .min = 0,
     .max = 0xFFF8,
     .description = "base I/O port"},
    {.name = "irq",
     .type = FDPLUG_PROP_INT,
     .default_value = "5",
     .min = 0,
     .max = 15,
     .description = "ISA IRQ"},
    {.name = "dma",
     .type = FDPLUG_PROP_INT,
     .default_value = "1",
     .min = 0,
     .max = 7,
     .description = "ISA DMA channel"},
};

static const FdplugDeviceTypeInfo types[] = {
    {.name = "test-isa-dev",
     .description = "ABI exerciser for fdplug-host tests",
     .bus_type = "isa",
     .provides_bus = "test-bus",
     .user_creatable = true,
     .props = test_props,
     .n_props = sizeof test_props / sizeof test_props[0],
     .instance_new = test_new,
     .realize = test_realize,
     .unrealize = test_unrealize,
     .reset = test_reset,
     .instance_free = test_free},
    {.name = "test-child",
     .description = "plugs into test-isa-dev's bus",
     .bus_type = "test-bus",
     .user_creatable = true,
     .instance_new = child_new,
     .realize = child_realize,
     .instance_free = free},
};

static bool init(const FdplugHost *h, char **errp) {
    host = h;
    return host->qmp_add_schema(test_schema, "testdev.json", errp) &&
           host->qmp_register("test-ping", test_ping, NULL, errp);
}

static const FdplugPluginInfo info = {
    FDPLUG_PLUGIN_INFO_SIZES,
    .name = "fdplug-testdev",
    .version = "1",
    .types = types,
    .n_types = sizeof types / sizeof types[0],
    .init = init,
};

FDPLUG_PLUGIN_EXPORT const FdplugPluginInfo *fdplug_plugin_entry(uint32_t major, uint32_t minor) {
    (void)minor;
    return major == FDPLUG_ABI_MAJOR ? &info : NULL;
}
