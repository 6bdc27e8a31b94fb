/*
 * fdplug plugin ABI — the only thing a host emulator and a device plugin share.
 *
 * Plain C so that any host (fdplug-host, a Bochs adapter, another emulator) can load plugins.
 * QEMU concepts in C: device types with typed properties, realize/unrealize/reset, port I/O
 * regions on the ISA bus, level IRQ lines, ISA DMA channels with 8237 semantics, timers on the
 * virtual clock, device state save/load, QMP commands and events, logging.
 *
 * Versioning: a plugin exports FDPLUG_ENTRY_SYMBOL. The host calls it with its own ABI version
 * and refuses the plugin unless the major versions are equal, the plugin's minor is not newer
 * than the host's, and every struct size the plugin was built with equals the host's.
 *
 * Ownership: strings a plugin hands to the host (JSON replies, error texts) are allocated with
 * malloc() and become the host's, which frees them with free(). Strings the host hands to the
 * plugin stay the host's and are valid for the duration of the call unless said otherwise.
 *
 * Threading: the host calls the plugin from one thread only, and never re-entrantly: callbacks
 * the plugin causes (for example a DMA transfer after it raises DREQ) run after the plugin's
 * current callback has returned.
 */
#ifndef FDPLUG_PLUGIN_H
#define FDPLUG_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FDPLUG_ABI_MAJOR 1
#define FDPLUG_ABI_MINOR 2

/* The one symbol a plugin exports; its type is FdplugEntryFn. */
#define FDPLUG_ENTRY_SYMBOL "fdplug_plugin_entry"

typedef struct FdplugHost FdplugHost;
typedef struct FdplugDevice FdplugDevice; /* host-side handle of one device instance */
typedef struct FdplugPortRegion FdplugPortRegion;
typedef struct FdplugIrq FdplugIrq;
typedef struct FdplugDma FdplugDma;
typedef struct FdplugTimer FdplugTimer;
typedef struct FdplugDrive FdplugDrive;   /* a -drive or -blockdev definition */
typedef struct FdplugBuffer FdplugBuffer; /* growable byte buffer owned by the host */

typedef enum FdplugLogLevel {
    FDPLUG_LOG_ERROR = 0,
    FDPLUG_LOG_WARNING = 1,
    FDPLUG_LOG_INFO = 2,
    FDPLUG_LOG_DEBUG = 3,
    FDPLUG_LOG_TRACE = 4,
} FdplugLogLevel;

/* ---------------------------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------------------------- */

/*
 * An error a plugin reports to the host. `cls` is a QMP error class ("GenericError",
 * "DeviceNotFound", or a plugin's own, e.g. "VM_E_NO_MEDIA_CAPTURED"); `desc` says what went
 * wrong and how to fix it; `extra_json`, if not NULL, is a JSON object whose members the host
 * merges into the QMP error object (e.g. {"hresult": "0xA0040652"}). All three are malloc()ed
 * by the plugin (cls may also point to a string literal if cls_static is true).
 */
typedef struct FdplugError {
    const char *cls;
    bool cls_static;
    char *desc;
    char *extra_json;
} FdplugError;

/* ---------------------------------------------------------------------------------------------
 * Device types and properties
 * ------------------------------------------------------------------------------------------- */

typedef enum FdplugPropType {
    FDPLUG_PROP_STRING = 0,
    FDPLUG_PROP_INT = 1,  /* signed 64-bit, range-checked against min/max; "0x" hex accepted */
    FDPLUG_PROP_BOOL = 2, /* on/off, true/false, yes/no */
    FDPLUG_PROP_ENUM = 3, /* one of enum_values */
} FdplugPropType;

typedef struct FdplugPropertyInfo {
    const char *name;
    FdplugPropType type;
    const char *default_value;      /* textual default; NULL means "not set" */
    const char *const *enum_values; /* NULL-terminated, for FDPLUG_PROP_ENUM */
    int64_t min, max;               /* for FDPLUG_PROP_INT */
    const char *description;        /* one line, shown by -device TYPE,help */
} FdplugPropertyInfo;

typedef enum FdplugResetKind {
    FDPLUG_RESET_COLD = 0, /* power-on / system_reset */
    FDPLUG_RESET_WARM = 1,
} FdplugResetKind;

/* Per-drive hooks so that the host's generic block commands (query-block, eject,
 * blockdev-change-medium) reach whichever device owns a drive. */
typedef struct FdplugBlockOps {
    /* One BlockInfo object (QEMU's query-block element) as JSON, malloc()ed. */
    char *(*query)(void *opaque);
    /* QEMU semantics: an empty drive ejects successfully. */
    bool (*eject)(void *opaque, bool force, FdplugError *err);
    /* read_only_mode: "retain", "read-only" or "read-write"; format may be NULL. */
    bool (*change_medium)(void *opaque, const char *filename, const char *format,
                          const char *read_only_mode, FdplugError *err);
    /* Since ABI 1.2. change_medium with blockdev-change-medium's `transient` (the guest's
     * writes stay in memory and the file never changes); the host calls it when it is not
     * NULL, else change_medium, refusing transient=true. */
    bool (*change_medium2)(void *opaque, const char *filename, const char *format,
                           const char *read_only_mode, bool transient, FdplugError *err);
} FdplugBlockOps;

/* What a device answers when a client changes a property of the realized device (qom-set). */
typedef enum FdplugSetResult {
    FDPLUG_SET_OK = 0,          /* the running device now uses the value */
    FDPLUG_SET_REFUSED = 1,     /* the value is refused; *errp says why */
    FDPLUG_SET_NOT_RUNTIME = 2, /* this property cannot change once the device is realized */
} FdplugSetResult;

typedef struct FdplugDeviceTypeInfo {
    const char *name;         /* "isa-fdc" */
    const char *description;  /* one line, shown by -device help */
    const char *bus_type;     /* the bus it plugs into: "isa", or a type some device provides */
    const char *provides_bus; /* bus type this device offers to children, or NULL */
    bool user_creatable;      /* may be created with -device */
    const char *default_on_machine; /* machine type that creates one instance by itself, or NULL */

    const FdplugPropertyInfo *props;
    size_t n_props;

    /* Allocate an instance; no side effects on the machine yet. Returns NULL on failure. */
    void *(*instance_new)(FdplugDevice *dev);
    /* Claim resources, connect to the parent. On failure set *errp (malloc()ed) and return
     * false; the host then calls instance_free only. */
    bool (*realize)(void *self, char **errp);
    void (*unrealize)(void *self);
    void (*reset)(void *self, FdplugResetKind kind);
    void (*instance_free)(void *self);
    /* Called once after every device of the machine is realized (e.g. to fill CMOS). */
    void (*machine_ready)(void *self);

    /* Device state: append the whole state to `out` with host->buffer_append. */
    bool (*save_state)(void *self, FdplugBuffer *out, char **errp);
    /* Validate everything first; on failure leave the device as it was and set *errp. */
    bool (*load_state)(void *self, const uint8_t *data, size_t len, char **errp);

    /* Since ABI 1.1. Properties of a realized device, as qom-get / qom-set see them.
     * get_property: the value the device really uses, as text in the property's syntax
     * (malloc()ed), e.g. the unit a drive took when `unit` was not given; NULL: the value the
     * host set (after defaults, -global and -device). May be NULL.
     * set_property: `value` is already checked against the property's type, enum values and
     * range. On FDPLUG_SET_OK the host records the new value. With value NULL (and errp NULL)
     * it only asks whether the property can change at runtime: FDPLUG_SET_OK or
     * FDPLUG_SET_NOT_RUNTIME, nothing changes. May be NULL: nothing can change at runtime. */
    char *(*get_property)(void *self, const char *name);
    FdplugSetResult (*set_property)(void *self, const char *name, const char *value, char **errp);
} FdplugDeviceTypeInfo;

/* ---------------------------------------------------------------------------------------------
 * Port I/O, IRQ, DMA, timers
 * ------------------------------------------------------------------------------------------- */

typedef struct FdplugPortOps {
    /* offset is relative to the region's base; size is 1, 2 or 4. */
    uint32_t (*read)(void *opaque, uint16_t offset, unsigned size);
    void (*write)(void *opaque, uint16_t offset, uint32_t value, unsigned size);
    /* Bitmask of access sizes the callbacks handle themselves (1, 2, 4). */
    uint8_t native_sizes;
    /* Bitmask of wider sizes the bus splits into byte accesses, lowest address first. An access
     * of a size in neither mask is not decoded: reads return all-ones, writes are dropped. */
    uint8_t split_sizes;
} FdplugPortOps;

typedef enum FdplugDmaDir {
    FDPLUG_DMA_VERIFY = 0,     /* 8237 verify: no memory cycle; buf content is undefined */
    FDPLUG_DMA_DEV_TO_MEM = 1, /* 8237 "write" transfer: the device fills buf */
    FDPLUG_DMA_MEM_TO_DEV = 2, /* 8237 "read" transfer: buf holds bytes from memory */
} FdplugDmaDir;

/*
 * Called by the host's DMA controller while the device's DREQ is asserted and the channel is
 * unmasked. The host offers `len` bytes (never more than the channel's remaining count);
 * `terminal_count` is true when the last byte offered is the channel's final byte (TC).
 * The device returns how many bytes it took or produced (<= len); the channel advances by that
 * much and TC happened iff the return equals len and terminal_count was true. The host calls
 * again while DREQ stays asserted and the device keeps making progress.
 */
typedef size_t (*FdplugDmaHandler)(void *opaque, FdplugDmaDir dir, uint8_t *buf, size_t len,
                                   bool terminal_count);

typedef void (*FdplugTimerCb)(void *opaque);

/* ---------------------------------------------------------------------------------------------
 * QMP
 * ------------------------------------------------------------------------------------------- */

/*
 * A QMP command handler. args_json is the command's "arguments" object, already validated
 * against the schema (members, types). On success set *ret_json to malloc()ed JSON (NULL means
 * {}) and return true; on failure fill *err and return false.
 */
typedef bool (*FdplugQmpHandler)(void *opaque, const char *args_json, char **ret_json,
                                 FdplugError *err);

/* ---------------------------------------------------------------------------------------------
 * Host services (host → plugin)
 * ------------------------------------------------------------------------------------------- */

struct FdplugHost {
    uint32_t struct_size; /* sizeof(FdplugHost) as the host was built */
    uint32_t abi_major, abi_minor;
    const char *host_name; /* "fdplug-host", "bochs", … */

    void (*log)(FdplugDevice *dev, FdplugLogLevel level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

    /* Machine facts, generic key/value: "type" (pc/none), "nodefaults" (on/off),
     * "accel" (qtest/tcg/none). NULL for an unknown key. */
    const char *(*machine_property)(const char *key);

    /* Device instance */
    const char *(*device_id)(FdplugDevice *dev);   /* "" when the user gave none */
    const char *(*device_path)(FdplugDevice *dev); /* QOM-style path */
    const char *(*device_type)(FdplugDevice *dev);
    /* The instance (as returned by instance_new) of the device providing this device's bus,
     * or NULL when the parent is the ISA bus. */
    void *(*device_parent)(FdplugDevice *dev);
    /* Property values after -device/-global/defaults; NULL/false/0 when not set. */
    const char *(*prop_string)(FdplugDevice *dev, const char *name);
    int64_t (*prop_int)(FdplugDevice *dev, const char *name);
    bool (*prop_bool)(FdplugDevice *dev, const char *name);
    bool (*prop_is_set)(FdplugDevice *dev, const char *name); /* given by the user */

    /* ISA bus resources; each claim fails (NULL, *errp set) on overlap or a bad number. */
    FdplugPortRegion *(*port_region_add)(FdplugDevice *dev, uint16_t base, uint16_t len,
                                         const FdplugPortOps *ops, void *opaque, const char *name,
                                         char **errp);
    void (*port_region_del)(FdplugPortRegion *region);
    FdplugIrq *(*irq_claim)(FdplugDevice *dev, unsigned isa_irq, char **errp);
    void (*irq_set)(FdplugIrq *irq, bool level);
    void (*irq_release)(FdplugIrq *irq);
    FdplugDma *(*dma_claim)(FdplugDevice *dev, unsigned channel, FdplugDmaHandler handler,
                            void *opaque, char **errp);
    void (*dma_request)(FdplugDma *dma, bool level); /* DREQ */
    void (*dma_release)(FdplugDma *dma);

    /* Virtual clock and timers (ns). A timer fires once per timer_mod; during a clock step the
     * clock reads exactly the timer's deadline when its callback runs. Equal deadlines fire in
     * the order they were armed. */
    int64_t (*clock_ns)(void);
    FdplugTimer *(*timer_new)(FdplugDevice *dev, FdplugTimerCb cb, void *opaque);
    void (*timer_mod)(FdplugTimer *timer, int64_t deadline_ns);
    void (*timer_del)(FdplugTimer *timer);
    void (*timer_free)(FdplugTimer *timer);

    /* CMOS/RTC NVRAM (pc machine only; reads 0 and ignores writes elsewhere). */
    uint8_t (*cmos_read)(uint8_t index);
    void (*cmos_write)(uint8_t index, uint8_t value);

    /* Drive definitions from -drive / -blockdev / the machine's defaults. The host opens no
     * files; a device reads the options and opens its media itself. */
    FdplugDrive *(*drive_by_id)(const char *id); /* -drive id= or node-name= */
    FdplugDrive *(*drive_by_if)(const char *interface, unsigned index); /* -drive if=X,index=N */
    const char *(*drive_option)(FdplugDrive *drive, const char *key);   /* "file", "format",
                                                                    "readonly", "snapshot", … */
    const char *(*drive_name)(FdplugDrive *drive);                      /* "floppy0", "drv1", … */
    /* Mark a drive as used by dev; fails if another device has it. */
    bool (*drive_claim)(FdplugDrive *drive, FdplugDevice *dev, char **errp);

    /* Generic block dispatch: register one drive slot a device owns. qdev_id is the device id
     * or path; device_name is the legacy drive name ("" if none). */
    void (*block_register)(FdplugDevice *dev, const char *qdev_id, const char *device_name,
                           const FdplugBlockOps *ops, void *opaque);

    /* QMP: add a QAPI schema text (plugin's own commands, types and events), then register a
     * handler per command. Both fail with *errp set on a schema error or an unknown command. */
    bool (*qmp_add_schema)(const char *schema_text, const char *source_name, char **errp);
    bool (*qmp_register)(const char *command, FdplugQmpHandler handler, void *opaque, char **errp);
    /* Emit an event declared in a schema; data_json is an object or NULL. */
    void (*qmp_event)(const char *event, const char *data_json);

    /* State buffers (see FdplugDeviceTypeInfo.save_state). */
    void (*buffer_append)(FdplugBuffer *buf, const void *data, size_t len);
};

/* ---------------------------------------------------------------------------------------------
 * Plugin description (plugin → host)
 * ------------------------------------------------------------------------------------------- */

typedef struct FdplugPluginInfo {
    uint32_t abi_major, abi_minor; /* FDPLUG_ABI_MAJOR/MINOR the plugin was built with */
    /* sizeof() of each ABI struct as the plugin saw them; the host refuses a mismatch. */
    uint32_t sizeof_host, sizeof_plugin_info, sizeof_device_type, sizeof_property, sizeof_port_ops,
        sizeof_block_ops, sizeof_error;
    const char *name; /* "fdplug-floppy" */
    const char *version;
    const FdplugDeviceTypeInfo *types;
    size_t n_types;
    /* Called once after the checks pass, before any device exists: keep `host`, add schemas,
     * register QMP commands. Return false with *errp set to refuse loading. */
    bool (*init)(const FdplugHost *host, char **errp);
    /* Called once before the host unloads the plugin. */
    void (*fini)(void);
} FdplugPluginInfo;

#define FDPLUG_PLUGIN_INFO_SIZES                                                             \
    .abi_major = FDPLUG_ABI_MAJOR, .abi_minor = FDPLUG_ABI_MINOR,                            \
    .sizeof_host = sizeof(FdplugHost), .sizeof_plugin_info = sizeof(FdplugPluginInfo),       \
    .sizeof_device_type = sizeof(FdplugDeviceTypeInfo),                                      \
    .sizeof_property = sizeof(FdplugPropertyInfo), .sizeof_port_ops = sizeof(FdplugPortOps), \
    .sizeof_block_ops = sizeof(FdplugBlockOps), .sizeof_error = sizeof(FdplugError)

/* The entry point. The host passes its ABI version; a plugin may return NULL to refuse. */
typedef const FdplugPluginInfo *(*FdplugEntryFn)(uint32_t host_abi_major, uint32_t host_abi_minor);

#ifdef FDPLUG_BUILDING_PLUGIN
#define FDPLUG_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define FDPLUG_PLUGIN_EXPORT
#endif

#ifdef __cplusplus
}
#endif

#endif /* FDPLUG_PLUGIN_H */
