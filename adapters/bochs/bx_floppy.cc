// fdplug's drop-in floppy plugin for Debian's Bochs 2.7: the 82077AA core (hw/block/) behind
// Bochs' own plugin interface. Bochs loads libbx_floppy.so as a core plugin; this file forwards
// its port accesses (0x3F2–0x3F5 and 0x3F7; 0x3F6 and DIR bits 6–0 belong to the hard-disk
// device), IRQ 6, DMA channel 2, one Bochs timer (the core's next deadline), reset, the CMOS
// floppy and boot bytes, the floppya:/floppyb: media and Bochs' save and restore (one file in
// the save folder holding the core's state blob) to the core. Every ABI fact it uses is
// in bochs_abi.h. With FDPLUG_QMP set it also serves fdplug's QMP floppy commands
// (bochs_qmp.h), polled from a periodic Bochs timer on Bochs' own thread.
// Reference: docs/bochs.md#the-bochs-27-plugin-abi; user guide: docs/bochs.md.
#include <dlfcn.h>
#include <glib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdarg>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <vector>

#include "adapters/bochs/bochs_abi.h"
#include "adapters/bochs/bochs_qmp.h"
#include "adapters/bochs/bochsrc_media.h"
#include "hw/block/fdc/fdc82077.h"
#include "hw/block/fdc/fdc_host.h"
#include "hw/block/management/floppy_manager.h"
#include "hw/block/management/media_slot.h"
#include "hw/block/media/floppy_formats.h"
#include "hw/block/state/fdc_state_blob.h"

#ifndef FDPLUG_VERSION
#define FDPLUG_VERSION "unknown"
#endif

namespace fdplug::bochs {
namespace {

using namespace fdplug::floppy;

// Refuse to run: one line on stderr (Bochs' log may go to a file), then Bochs' own panic, which
// ends the simulation; exit if a bochsrc made panics non-fatal.
[[noreturn]] void fatal(const char *fmt, const std::string &what) {
    std::fprintf(stderr, "fdplug libbx_floppy: ");
    std::fprintf(stderr, fmt, what.c_str());
    std::fputc('\n', stderr);
    if (pluginlog) pluginlog->panic(fmt, what.c_str());
    std::exit(1);
}

// ---- Checking a foreign vtable slot before calling it --------------------------------------

// The name of the exported function a code pointer points to, or "" (dladdr).
std::string symbol_at(const void *fn) {
    Dl_info info{};
    if (!dladdr(fn, &info) || !info.dli_sname || info.dli_saddr != fn) return {};
    return info.dli_sname;
}

// A virtual method of a Bochs object at a fixed slot, verified once per object: the slot must
// hold one of the expected mangled names, or the adapter refuses to go on.
struct CheckedSlot {
    const char *what;
    unsigned slot;
    const char *expected[2];
    void *verified_for = nullptr;

    void *object(void *obj) {
        if (obj == verified_for) return obj;
        if (!obj) fatal("%s: Bochs has no such device object (null pointer in bx_devices)", what);
        void *const *vtable = *static_cast<void *const *const *>(obj);
        const std::string found = symbol_at(vtable[slot / sizeof(void *)]);
        for (const char *name : expected)
            if (name && found == name) {
                verified_for = obj;
                return obj;
            }
        fatal("%s", std::string(what) + ": vtable slot " + std::to_string(slot) + " holds '" +
                        (found.empty() ? "an unknown function" : found) + "', expected '" +
                        expected[0] +
                        "'. This libbx_floppy.so was built for Debian's bochs 2.7+dfsg-4+deb12u1; "
                        "re-run adapters/bochs/verify-abi.py against the installed Bochs");
    }
};

CheckedSlot pic_raise{"PIC raise_irq",
                      abi::kPicRaiseIrq,
                      {"_ZN8bx_pic_c9raise_irqEj", "_ZN13bx_pic_stub_c9raise_irqEj"}};
CheckedSlot pic_lower{"PIC lower_irq",
                      abi::kPicLowerIrq,
                      {"_ZN8bx_pic_c9lower_irqEj", "_ZN13bx_pic_stub_c9lower_irqEj"}};
CheckedSlot dma_register{"DMA registerDMA8Channel",
                         abi::kDmaRegister8,
                         {"_ZN8bx_dma_c19registerDMA8ChannelEjPFtPhtES2_PKc", nullptr}};
CheckedSlot dma_get_tc{"DMA get_TC", abi::kDmaGetTc, {"_ZN8bx_dma_c6get_TCEv", nullptr}};
CheckedSlot dma_set_drq{"DMA set_DRQ", abi::kDmaSetDrq, {"_ZN8bx_dma_c7set_DRQEjb", nullptr}};
CheckedSlot cmos_get{"CMOS get_reg", abi::kCmosGetReg, {"_ZN9bx_cmos_c7get_regEh", nullptr}};
CheckedSlot cmos_set{"CMOS set_reg", abi::kCmosSetReg, {"_ZN9bx_cmos_c7set_regEhj", nullptr}};
CheckedSlot hdd_read{"hard disk virt_read_handler",
                     abi::kHddVirtRead,
                     {"_ZN15bx_hard_drive_c17virt_read_handlerEjj",
                      "_ZN20bx_hard_drive_stub_c17virt_read_handlerEjj"}};
CheckedSlot hdd_write{"hard disk virt_write_handler",
                      abi::kHddVirtWrite,
                      {"_ZN15bx_hard_drive_c18virt_write_handlerEjjj",
                       "_ZN20bx_hard_drive_stub_c18virt_write_handlerEjjj"}};
CheckedSlot sim_string{"SIM get_param_string",
                       abi::kSimGetParamString,
                       {"_ZN13bx_real_sim_c16get_param_stringEPKcP10bx_param_c", nullptr}};
CheckedSlot sim_bool{"SIM get_param_bool",
                     abi::kSimGetParamBool,
                     {"_ZN13bx_real_sim_c14get_param_boolEPKcP10bx_param_c", nullptr}};
CheckedSlot sim_enum{"SIM get_param_enum",
                     abi::kSimGetParamEnum,
                     {"_ZN13bx_real_sim_c14get_param_enumEPKcP10bx_param_c", nullptr}};

CheckedSlot sim_root{
    "SIM get_bochs_root", abi::kSimGetBochsRoot, {"_ZN13bx_real_sim_c14get_bochs_rootEv", nullptr}};

CheckedSlot sim_register_runtime{
    "SIM register_runtime_config_handler",
    abi::kSimRegisterRuntimeConfig,
    {"_ZN13bx_real_sim_c31register_runtime_config_handlerEPvPFvS0_E", nullptr}};

// ---- Parameter tree -------------------------------------------------------------------------

void *param(CheckedSlot &getter, const std::string &path) {
    void *sim = getter.object(SIM);
    void *p = abi::vcall<void *>(sim, getter.slot, path.c_str(), static_cast<void *>(nullptr));
    if (!p) fatal("Bochs has no parameter '%s'", path);
    return p;
}

int64_t param_num(CheckedSlot &getter, const std::string &path) {
    void *p = param(getter, path);
    CheckedSlot get64{
        "parameter get64", abi::kParamNumGet64, {"_ZN14bx_param_num_c5get64Ev", nullptr}};
    return abi::vcall<int64_t>(get64.object(p), abi::kParamNumGet64);
}
int64_t param_enum(const std::string &path) {
    return param_num(sim_enum, path);
}
// Sets a numeric, bool or enum parameter as Bochs' own plugin does (its handler, if any, runs).
void param_set(CheckedSlot &getter, const std::string &path, int64_t value) {
    void *p = param(getter, path);
    CheckedSlot set{"parameter set",
                    abi::kParamNumSet,
                    {"_ZN14bx_param_num_c3setEl", "_ZN15bx_param_enum_c3setEl"}};
    abi::vcall<void>(set.object(p), abi::kParamNumSet, value);
}
bool param_bool(const std::string &path) {
    return param_num(sim_bool, path) != 0;
}
// Marks a parameter as one Bochs' runtime configuration menu may change.
void set_runtime(void *p) {
    CheckedSlot runtime{"parameter set_runtime_param",
                        abi::kParamNumSetRuntime,
                        {"_ZN10bx_param_c17set_runtime_paramEb", nullptr}};
    abi::vcall<void>(runtime.object(p), abi::kParamNumSetRuntime, true);
}
std::string param_string(const std::string &path) {
    void *p = param(sim_string, path);
    const char *value;
    std::memcpy(&value, static_cast<const unsigned char *>(p) + abi::kParamStringValue,
                sizeof value);
    return value ? value : "";
}

// ---- The registered object: bx_devmodel_c's vtable layout ------------------------------------

class DevModel {
  public:
    virtual ~DevModel() = default;              // slots 0x00 (complete), 0x08 (deleting)
    virtual void init() = 0;                    // 0x10
    virtual void reset(unsigned type) = 0;      // 0x18
    virtual void register_state() {}            // 0x20
    virtual void after_restore_state() {}       // 0x28
    virtual void debug_dump(int, char **) = 0;  // 0x30 (Debian builds with the debugger)
};

// Where g++ put a virtual method: a pointer to a virtual member holds 1 + its vtable offset.
template <typename M>
ptrdiff_t vtable_offset(M method) {
    struct {
        uintptr_t ptr;
        ptrdiff_t adj;
    } raw;
    static_assert(sizeof method == sizeof raw);
    std::memcpy(&raw, &method, sizeof raw);
    return ptrdiff_t(raw.ptr) - 1;
}

void check_own_layout() {
    struct Slot {
        const char *name;
        ptrdiff_t got, want;
    };
    const Slot slots[] = {
        {"init", vtable_offset(&DevModel::init), abi::kDevInit},
        {"reset", vtable_offset(&DevModel::reset), abi::kDevReset},
        {"register_state", vtable_offset(&DevModel::register_state), abi::kDevRegisterState},
        {"after_restore_state", vtable_offset(&DevModel::after_restore_state),
         abi::kDevAfterRestore},
        {"debug_dump", vtable_offset(&DevModel::debug_dump), abi::kDevDebugDump},
    };
    for (const Slot &s : slots)
        if (s.got != s.want)
            fatal("%s", std::string("own devmodel vtable: ") + s.name + " is at slot " +
                            std::to_string(s.got) + ", Bochs calls slot " + std::to_string(s.want));
}

// ---- The adapter ------------------------------------------------------------------------------

class BochsFloppy;
BochsFloppy *g_floppy = nullptr;  // Bochs' DMA callbacks carry no context; Bochs has one FDC

class BochsFloppy final : public DevModel, public FdcHost {
  public:
    ~BochsFloppy() override {
        if (qmp_timer_ != abi::kNullTimerHandle)
            bx_pc_system.deactivate_timer(unsigned(qmp_timer_));
        qmp_.reset();
        if (trace_) std::fclose(trace_);
        if (timer_ != abi::kNullTimerHandle) bx_pc_system.deactivate_timer(unsigned(timer_));
        for (auto &slot : slots_) {
            if (const Status flushed = slot->flush(); !flushed)
                pluginlog->error("fdplug: %s: %s", slot->name().c_str(),
                                 flushed.error().message().c_str());
            manager_.remove(*slot);
        }
    }

    void init() override {
        guarded("init", [this] { do_init(); });
    }
    // The debugger's `info device "floppy"`: each drive as query-floppy-drives sees it, and DOR.
    void debug_dump(int, char **) override {
        guarded("debug_dump", [&] {
            dbg_printf("fdplug %s: Intel 82077AA floppy controller, DOR=0x%02x\n", FDPLUG_VERSION,
                       unsigned(core_->read(kDor)));
            for (const auto &slot : slots_) {
                const auto info = slot->info();
                std::string line = directive_of(slot->unit()) + ": ";
                if (!slot->configured()) {
                    dbg_printf("%snot installed\n", line.c_str());
                    continue;
                }
                line += "drive " + info.value("drive-type", std::string("?")) + ", ";
                if (slot->attachment() == Attachment::None) {
                    line += "no medium";
                } else {
                    const auto &g = info["geometry"];
                    line += "'" + slot->source() + "' " + g.value("format", std::string("?")) +
                            (slot->read_only() ? " read-only" : " read-write");
                }
                dbg_printf("%s; motor %s, cylinder %d, disk changed %s\n", line.c_str(),
                           info.value("motor", false) ? "on" : "off", info.value("cylinder", 0),
                           info.value("disk-changed", false) ? "yes" : "no");
            }
        });
    }
    // Save and restore (docs/bochs.md#save-and-restore): the list "floppy" under the tree's root
    // holds one file parameter, whose file in the save folder is the controller's state blob.
    void register_state() override {
        guarded("register_state", [this] { do_register_state(); });
    }
    // Bochs has restored every device's parameters (the clock, the PIC, the DMA controller and
    // the timers among them) and our handler has read the blob: load it now.
    void after_restore_state() override {
        guarded("after_restore_state", [this] { restore(); });
    }
    void reset(unsigned type) override {
        // Bochs' power-on and machine reset (BX_RESET_HARDWARE) pulse RESET DRV; a software
        // (CPU-only) reset does not reach the controller.
        guarded("reset", [&] {
            if (type == abi::kResetHardware && core_) core_->hardware_reset();
            if (core_) update_leds();
        });
    }

    // --- Bochs callbacks
    static uint32_t port_read(void *self, uint32_t port, unsigned len) {
        uint32_t v = 0xFF;
        static_cast<BochsFloppy *>(self)->guarded(
            "port read", [&] { v = static_cast<BochsFloppy *>(self)->read(port, len); });
        return v;
    }
    static void port_write(void *self, uint32_t port, uint32_t value, unsigned len) {
        static_cast<BochsFloppy *>(self)->guarded(
            "port write", [&] { static_cast<BochsFloppy *>(self)->write(port, value, len); });
    }
    static void timer_fired(void *self) {
        static_cast<BochsFloppy *>(self)->guarded(
            "timer", [&] { static_cast<BochsFloppy *>(self)->expired(); });
    }
    static void qmp_timer_fired(void *self) {
        static_cast<BochsFloppy *>(self)->guarded(
            "QMP", [&] { static_cast<BochsFloppy *>(self)->poll_qmp(); });
    }
    // Handlers of floppy.N.status/readonly (numeric) and floppy.N.path: run inside Bochs' set(),
    // they only note the drive; the change is made when Bochs calls the runtime-config handler
    // after the GUI button or the configuration menu (update_runtime_options).
    static long num_param_set(bx_param_c *param, bool set, long value) {
        if (set && g_floppy)
            g_floppy->guarded("parameter", [&] { g_floppy->param_changed(param); });
        return value;
    }
    static const char *path_param_set(bx_param_string_c *param, bool set, const char *,
                                      const char *value, int) {
        if (!value || !*value) value = abi::kNoMedia;  // as Bochs: an empty path is no medium
        if (set && g_floppy)
            g_floppy->guarded("parameter", [&] { g_floppy->param_changed(param); });
        return value;
    }
    static void save_fired(void *self, std::FILE *file) {
        static_cast<BochsFloppy *>(self)->guarded(
            "save state", [&] { static_cast<BochsFloppy *>(self)->save(file); });
    }
    static void restore_fired(void *self, std::FILE *file) {
        static_cast<BochsFloppy *>(self)->guarded(
            "restore state", [&] { static_cast<BochsFloppy *>(self)->read_saved(file); });
    }
    static void runtime_config_fired(void *self) {
        static_cast<BochsFloppy *>(self)->guarded(
            "runtime config", [&] { static_cast<BochsFloppy *>(self)->apply_runtime_config(); });
    }
    // dmaWrite: device → memory (a disk read; a verify cycle asks for 1 byte and drops it).
    static uint16_t dma_to_memory(uint8_t *buf, uint16_t maxlen) {
        return g_floppy ? g_floppy->dma(DmaCycle::ToMemory, buf, maxlen) : 0;
    }
    // dmaRead: memory → device (a disk write or FORMAT).
    static uint16_t dma_from_memory(uint8_t *buf, uint16_t len) {
        return g_floppy ? g_floppy->dma(DmaCycle::FromMemory, buf, len) : 0;
    }

    // --- FdcHost
    int64_t now_ns() const override {
        const int64_t t = int64_t(bx_pc_system.time_nsec());
        return std::max(t, floor_ns_);
    }
    void set_irq(bool level) override {
        trace("IRQ6 %d", level);
        void *pic = abi::hub(abi::kHubPic);
        if (level)
            abi::vcall<void>(pic_raise.object(pic), abi::kPicRaiseIrq, abi::kIrq);
        else
            abi::vcall<void>(pic_lower.object(pic), abi::kPicLowerIrq, abi::kIrq);
    }
    void set_drq(bool level) override {
        trace("DRQ2 %d", level);
        abi::vcall<void>(dma_set_drq.object(abi::hub(abi::kHubDma)), abi::kDmaSetDrq,
                         abi::kDmaChannel, level);
    }
    void arm_timer(int64_t deadline_ns) override {
        deadline_ = deadline_ns;
        if (timer_ == abi::kNullTimerHandle) return;  // not registered yet: init() re-arms below
        // activate_timer_nsec(0) would mean "the previous period": never pass 0.
        const int64_t delta = std::max<int64_t>(deadline_ns - now_ns(), 1);
        bx_pc_system.activate_timer_nsec(unsigned(timer_), static_cast<unsigned long>(delta),
                                         false);
    }
    void cancel_timer() override {
        deadline_ = kNever;
        if (timer_ != abi::kNullTimerHandle) bx_pc_system.deactivate_timer(unsigned(timer_));
    }

  private:
    // What Bochs' GUI and configuration menu change, per drive, and the drive's LED.
    struct Shown {
        bool inserted = false;
        std::string path;
        bool read_only = false;
        bool operator==(const Shown &) const = default;
    };
    struct RuntimeParams {
        void *path = nullptr, *readonly = nullptr, *status = nullptr;
        bool changed = false;
        Shown shown;   // the medium as the parameters last showed it
        int led = -1;  // the status-bar item, -1 without a drive
        bool led_on = false;
    };

    template <typename F>
    void guarded(const char *what, F &&f) {
        try {
            f();
        } catch (const std::exception &e) {
            pluginlog->error("fdplug: %s: %s", what, e.what());
        } catch (...) {
            pluginlog->error("fdplug: %s: unexpected exception", what);
        }
    }

    void do_init() {
        for (CheckedSlot *s : {&sim_string, &sim_bool, &sim_enum}) s->object(SIM);
        pic_raise.object(abi::hub(abi::kHubPic));
        pic_lower.object(abi::hub(abi::kHubPic));
        for (CheckedSlot *s : {&dma_register, &dma_get_tc, &dma_set_drq})
            s->object(abi::hub(abi::kHubDma));
        cmos_get.object(abi::hub(abi::kHubCmos));
        cmos_set.object(abi::hub(abi::kHubCmos));

        FdcConfig config;
        if (const char *trace = std::getenv("FDPLUG_TRACE"); trace && *trace) {
            trace_ = std::fopen(trace, "w");
            if (!trace_) fatal("FDPLUG_TRACE='%s': cannot create the trace file", trace);
        }
        const char *timing = std::getenv("FDPLUG_TIMING");
        if (!timing || !*timing || !std::strcmp(timing, "accurate"))
            config.timing = TimingPolicy::Accurate;
        else if (!std::strcmp(timing, "fast"))
            config.timing = TimingPolicy::Fast;
        else
            fatal("FDPLUG_TIMING='%s' is not a timing policy: use accurate (the default) or fast",
                  timing);
        // Bochs' own BIOS reads and writes without seeking first, because Bochs' controller
        // always seeks by itself; so by default the core does too here.
        const char *seek = std::getenv("FDPLUG_IMPLIED_SEEK");
        if (!seek || !*seek || !std::strcmp(seek, "always"))
            config.implied_seek = ImpliedSeek::Always;
        else if (!std::strcmp(seek, "configure"))
            config.implied_seek = ImpliedSeek::Configure;
        else
            fatal(
                "FDPLUG_IMPLIED_SEEK='%s': use always (the default, as Bochs' controller) or "
                "configure (the datasheet: only with CONFIGURE EIS)",
                seek);

        // FDPLUG_TRANSIENT=on: the floppya:/floppyb: files never change; the guest's writes go
        // to an overlay in memory (docs/bochs.md).
        const char *transient = std::getenv("FDPLUG_TRANSIENT");
        if (!transient || !*transient || !std::strcmp(transient, "off"))
            transient_ = false;
        else if (!std::strcmp(transient, "on"))
            transient_ = true;
        else
            fatal("FDPLUG_TRANSIENT='%s': use on (writes stay in memory) or off (the default)",
                  transient);

        // The core first: Bochs may call any handler registered below from then on. Its
        // constructor's reset leaves INT and DRQ low and arms nothing, so it calls no host pin.
        core_ = std::make_unique<Fdc82077>(*this, config);
        pluginRegisterIRQ(abi::kIrq, abi::kPortName);
        for (unsigned port = abi::kPortFirst; port < abi::kPortEnd; ++port) {
            pluginRegisterIOReadHandler(this, port_read, port, abi::kPortName, 1);
            pluginRegisterIOWriteHandler(this, port_write, port, abi::kPortName, 1);
        }
        abi::vcall<unsigned>(dma_register.object(abi::hub(abi::kHubDma)), abi::kDmaRegister8,
                             abi::kDmaChannel, &BochsFloppy::dma_from_memory,
                             &BochsFloppy::dma_to_memory, abi::kPortName);
        timer_ = bx_pc_system.register_timer(this, timer_fired, abi::kTimerInitialUsec, false,
                                             false, "floppy");
        if (deadline_ != kNever) arm_timer(deadline_);

        int64_t devtype[2] = {0, 0};
        manager_.set_log_sink(
            [](const std::string &text) { pluginlog->error("fdplug: %s", text.c_str()); });
        manager_.set_configure_hint(
            "Bochs connects drives from the bochsrc only: add e.g. 'floppyb: type=1_44' "
            "(a drive with no disk) and restart Bochs");
        for (unsigned u = 0; u < 2; ++u) {
            const std::string base = u == 0 ? abi::kParamFloppyA : abi::kParamFloppyB;
            devtype[u] = param_enum(base + "." + abi::kParamDevtype);
            const DriveType type = bochs::drive_type_of(devtype[u]);
            core_->drive(u).connect(type);
            // Both positions are drives for QMP: an unconfigured one answers VM_E_VM_UNKNOWN.
            const bool read_only =
                type != DriveType::None && param_bool(base + "." + abi::kParamReadonly);
            slots_.push_back(
                std::make_unique<MediaSlot>(*core_, u, identity(u), nullptr, read_only));
            manager_.add(*slots_.back());
            if (type == DriveType::None) continue;
            const int64_t media = param_enum(base + "." + abi::kParamType);
            if (media == abi::kMediaNone) continue;
            const std::string path = param_string(base + "." + abi::kParamPath);
            if (path.empty() || path == abi::kNoMedia) continue;
            // A medium fdplug can never open stops Bochs now, naming the bochsrc line.
            if (const Status source = check_source(u, media, path); !source)
                fatal("%s", source.error().message());
            if (param_enum(base + "." + abi::kParamStatus) != abi::kStatusInserted) continue;
            if (!attach(*slots_.back(), media, path, read_only, false))
                param_set(sim_enum, base + "." + abi::kParamStatus, abi::kStatusEjected);
            else if (slots_.back()->read_only() && !read_only)
                param_set(sim_bool, base + "." + abi::kParamReadonly, 1);
        }
        write_cmos(devtype);
        install_runtime_handlers();
        register_leds();
        bx_dbg_register_debug_info(abi::kDeviceName, static_cast<DevModel *>(this));
        pluginlog->info("fdplug %s: Intel 82077AA floppy controller (timing=%s), from %s",
                        FDPLUG_VERSION, config.timing == TimingPolicy::Fast ? "fast" : "accurate",
                        library_path().c_str());
        if (const char *address = std::getenv("FDPLUG_QMP"); address && *address)
            start_qmp(address);
    }

    void do_register_state() {
        void *root = abi::vcall<void *>(sim_root.object(SIM), abi::kSimGetBochsRoot);
        if (!root) fatal("%s", "Bochs has no parameter tree root to register the state in");
        // Built by Bochs' own constructors, in memory of the size Bochs gives them: the tree owns
        // and frees both.
        auto *list = new (::operator new(abi::kListSize))
            bx_list_c(static_cast<bx_param_c *>(root), abi::kDeviceName);
        auto *file = new (::operator new(abi::kShadowFiledataSize))
            bx_shadow_filedata_c(reinterpret_cast<bx_param_c *>(list), kStateParam, &scratch_file_);
        file->set_sr_handlers(this, &BochsFloppy::save_fired, &BochsFloppy::restore_fired);
    }

    // Bochs' save: the blob (media flushed first) into SAVEDIR/floppy.fdc82077. A failure cannot
    // stop Bochs' save: it is logged, the file stays empty, and a restore refuses it.
    void save(std::FILE *file) {
        const Expected<std::vector<uint8_t>> blob = state_format::save_blob(*core_);
        if (!blob) {
            std::fprintf(stderr, "fdplug libbx_floppy: saving the floppy controller: %s\n",
                         blob.error().message().c_str());
            pluginlog->error("fdplug: saving the floppy controller: %s",
                             blob.error().message().c_str());
            return;
        }
        if (std::fwrite(blob->data(), 1, blob->size(), file) != blob->size()) {
            pluginlog->error("fdplug: saving the floppy controller: writing %zu bytes failed",
                             blob->size());
            return;  // not "saved": a restore refuses the short file
        }
        pluginlog->info("fdplug: state saved (%zu bytes): %s", blob->size(),
                        visible_state().c_str());
        trace("state saved: %zu bytes, %s", blob->size(), visible_state().c_str());
    }

    // For the log lines of a save and a restore: what the rest of Bochs sees of the controller.
    std::string visible_state() const {
        std::string text = std::string("IRQ6 ") + (core_->irq_level() ? "1" : "0") + ", DRQ2 " +
                           (core_->drq_level() ? "1" : "0") + ", controller " +
                           (core_->busy() ? "busy" : "idle");
        for (unsigned u = 0; u < 2; ++u)
            if (runtime_[u].led >= 0)
                text += std::string(", LED ") + char('A' + u) + ": " +
                        (runtime_[u].led_on ? "on" : "off");
        return text;
    }

    // Bochs' restore reads the file before any device's after_restore_state(): keep the bytes.
    // Bochs has already copied the file to a scratch file of its own and hands it over at its
    // end: read it from the start. The scratch file is closed, because Bochs' next save would
    // put its content in front of the blob.
    void read_saved(std::FILE *file) {
        if (scratch_file_) {
            std::fclose(scratch_file_);
            scratch_file_ = nullptr;
        }
        std::rewind(file);
        saved_blob_.clear();
        uint8_t chunk[4096];
        size_t n;
        while ((n = std::fread(chunk, 1, sizeof chunk, file)) > 0)
            saved_blob_.insert(saved_blob_.end(), chunk, chunk + n);
        saved_blob_read_ = true;
    }

    // The saved state against this controller and the media the saved bochsrc attached
    // (load_blob refuses a medium whose fingerprint differs, naming the drive and the file).
    // load_state drives IRQ 6 and DRQ 2 to their saved levels: Bochs' PIC and DMA controller
    // restored the same levels, so neither sees an edge, and it re-arms our Bochs timer at the
    // saved deadline, replacing what Bochs restored for it.
    void restore() {
        const std::string where =
            param_string(abi::kParamRestorePath) + "/" + abi::kDeviceName + "." + kStateParam;
        if (!saved_blob_read_)
            fatal("%s", "restoring the floppy controller: Bochs did not read " + where +
                            ": the folder holds no fdplug controller state (saved with Bochs' "
                            "own floppy plugin?)");
        if (const Status loaded = state_format::load_blob(*core_, saved_blob_); !loaded)
            fatal("%s", "restoring the floppy controller from " + where + " (" +
                            std::to_string(saved_blob_.size()) +
                            " bytes): " + loaded.error().message());
        saved_blob_read_ = false;
        for (unsigned u = 0; u < 2; ++u) runtime_[u].shown = shown_by(*slots_[u]);
        update_leds();
        pluginlog->info("fdplug: state restored from %s (%zu bytes): %s", where.c_str(),
                        saved_blob_.size(), visible_state().c_str());
        trace("state restored: %zu bytes, %s", saved_blob_.size(), visible_state().c_str());
        saved_blob_.clear();
    }

    // Drive A: is floppya (QEMU's legacy name floppy0), drive B: floppyb (floppy1).
    static SlotIdentity identity(unsigned unit) {
        const char letter = char('a' + unit);
        return SlotIdentity{.id = std::string("floppy") + letter,
                            .path = std::string("/bochs/floppy/floppy") + letter,
                            .device_name = "floppy" + std::to_string(unit),
                            .controller = abi::kDeviceName};
    }

    // The floppya:/floppyb: medium at power-on, through the same MediaSlot path QMP uses. False
    // (and the drive empty) when it cannot be used, as Bochs' own plugin leaves it.
    bool attach(MediaSlot &slot, int64_t media, const std::string &path, bool read_only,
                bool notify) {
        Expected<OpenedMedium> medium = open_medium(slot, path, read_only);
        if (medium) {
            if (const Status size = check_size(media, medium->file, medium->virtual_size); !size)
                medium = size.error();
        }
        if (!medium) {
            pluginlog->error("fdplug: %s: %s; the drive stays empty", slot.name().c_str(),
                             medium.error().message().c_str());
            return false;
        }
        const Geometry &g = medium->image->geometry();
        pluginlog->info("fdplug: %s: '%s' %s, %u cylinders, %u heads, %u sectors",
                        slot.name().c_str(), medium->file.c_str(),
                        medium->read_only   ? "read-only"
                        : medium->transient ? "transient (writes stay in memory)"
                                            : "read-write",
                        unsigned(g.cylinders), unsigned(g.heads), unsigned(g.sectors));
        slot.insert(std::move(*medium), notify);
        return true;
    }

    static std::string drive_param(unsigned unit, const char *child) {
        return std::string(unit == 0 ? abi::kParamFloppyA : abi::kParamFloppyB) + "." + child;
    }

    // As Bochs' own plugin: handlers on floppy.N.path, readonly and status, all three marked
    // runtime parameters, and one runtime-config handler for both drives.
    void install_runtime_handlers() {
        for (unsigned u = 0; u < 2; ++u) {
            RuntimeParams &d = runtime_[u];
            d.path = param(sim_string, drive_param(u, abi::kParamPath));
            d.readonly = param(sim_bool, drive_param(u, abi::kParamReadonly));
            d.status = param(sim_enum, drive_param(u, abi::kParamStatus));
            static_cast<bx_param_string_c *>(d.path)->set_handler(&BochsFloppy::path_param_set);
            static_cast<bx_param_num_c *>(d.readonly)->set_handler(&BochsFloppy::num_param_set);
            static_cast<bx_param_num_c *>(d.status)->set_handler(&BochsFloppy::num_param_set);
            for (void *p : {d.path, d.readonly, d.status}) set_runtime(p);
            d.shown = shown_by(*slots_[u]);
        }
        abi::vcall<int>(sim_register_runtime.object(SIM), abi::kSimRegisterRuntimeConfig,
                        static_cast<void *>(this), &BochsFloppy::runtime_config_fired);
    }

    void param_changed(const void *param) {
        if (applying_) return;  // our own set() of status or readonly
        for (RuntimeParams &d : runtime_)
            if (param == d.path || param == d.readonly || param == d.status) d.changed = true;
    }

    // After a change through Bochs' GUI or menu: as Bochs' plugin, the medium goes out and the
    // one the parameters name goes in, through the same MediaSlot path as a QMP swap (so the
    // guest sees DSKCHG, and QMP's events and query-floppy-drives follow).
    void apply_runtime_config() {
        for (unsigned u = 0; u < 2; ++u) {
            RuntimeParams &d = runtime_[u];
            if (!d.changed) continue;
            d.changed = false;
            MediaSlot &slot = *slots_[u];
            if (!slot.configured()) {
                pluginlog->error(
                    "fdplug: %s: Bochs connects drives at start-up only: add '%s: "
                    "type=1_44' to the bochsrc",
                    slot.name().c_str(), directive_of(u).c_str());
                continue;
            }
            const bool inserted =
                param_enum(drive_param(u, abi::kParamStatus)) == abi::kStatusInserted;
            if (slot.attachment() != Attachment::None) {
                if (const Status released = slot.release(false, true); !released) {
                    pluginlog->error("fdplug: %s: %s", slot.name().c_str(),
                                     released.error().message().c_str());
                    set_own(sim_enum, drive_param(u, abi::kParamStatus), abi::kStatusInserted);
                    continue;
                }
            }
            if (!inserted) continue;
            const std::string path = param_string(drive_param(u, abi::kParamPath));
            const bool read_only = param_bool(drive_param(u, abi::kParamReadonly));
            if (path.empty() || path == abi::kNoMedia ||
                !attach(slot, param_enum(drive_param(u, abi::kParamType)), path, read_only, true))
                set_own(sim_enum, drive_param(u, abi::kParamStatus), abi::kStatusEjected);
            else if (slot.read_only() && !read_only)
                set_own(sim_bool, drive_param(u, abi::kParamReadonly), 1);
            d.shown = shown_by(slot);
        }
        update_leds();
    }

    // Sets a parameter whose handler is ours without taking it for a user's change.
    void set_own(CheckedSlot &getter, const std::string &path, int64_t value) {
        applying_ = true;
        param_set(getter, path, value);
        applying_ = false;
    }

    // The status bar's " A: " and " B: ", one per connected drive, as Bochs' plugin registers.
    void register_leds() {
        if (!bx_gui) return;
        for (unsigned u = 0; u < 2; ++u)
            if (slots_[u]->configured())
                runtime_[u].led = bx_gui->register_statusitem(u == 0 ? " A: " : " B: ", false);
    }

    // A drive's LED is lit while its motor runs and it is the selected drive (DOR).
    void update_leds() {
        const uint8_t dor = core_->read(kDor);
        for (unsigned u = 0; u < 2; ++u) {
            RuntimeParams &d = runtime_[u];
            const bool on = (dor & (0x10u << u)) && (dor & 3u) == u;
            if (d.led < 0 || on == d.led_on) continue;
            d.led_on = on;
            trace("LED %c: %s", char('A' + u), on ? "on" : "off");
            bx_gui->statusbar_setitem(d.led, on, false);
        }
    }

    // An image file (raw, or IMD told by its content) or, for a device node such as /dev/fd0,
    // the host's floppy drive, as Bochs' plugin opens either.
    Expected<OpenedMedium> open_medium(MediaSlot &slot, const std::string &path,
                                       bool read_only) const {
        const std::string file = absolute_path(path);
        struct stat st {};
        if (::stat(file.c_str(), &st) == 0 && (S_ISBLK(st.st_mode) || S_ISCHR(st.st_mode)))
            return slot.open_host_drive(file);
        MediumRequest request;
        request.file = file;
        request.format = "";
        request.read_only = read_only;
        request.transient = transient_;
        Expected<OpenedMedium> medium = slot.open_image(request);
        if (!medium && medium.error().kind() == ErrorKind::ReadOnly) {
            // As Bochs does: a file that cannot be written is used write-protected.
            request.read_only = true;
            medium = slot.open_image(request);
            if (medium)
                pluginlog->info("fdplug: %s: %s is read-only: write-protected", slot.name().c_str(),
                                request.file.c_str());
        }
        return medium;
    }

    // FDPLUG_QMP: the monitor, and a periodic Bochs timer that services its socket on Bochs'
    // thread (bochs_qmp.h).
    void start_qmp(const std::string &address) {
        std::vector<MediaSlot *> slots;
        for (auto &slot : slots_) slots.push_back(slot.get());
        std::string error;
        qmp_ = BochsQmp::start(address, manager_, std::move(slots), &error);
        if (!qmp_) fatal("FDPLUG_QMP: %s", error);
        qmp_timer_ = bx_pc_system.register_timer(this, qmp_timer_fired, kQmpTimerUsec, true, true,
                                                 "fdplug-qmp");
        pluginlog->info("fdplug: QMP monitor on %s", qmp_->where().c_str());
    }

    // The timer fires every kQmpTimerUsec of emulated time, which may pass much faster than
    // real time (clock: sync=none): the socket is polled at most once per kQmpPollWallUs of
    // real time, so the emulation does not pay a poll() every few thousand instructions.
    void poll_qmp() {
        const int64_t wall = g_get_monotonic_time();
        if (wall - last_qmp_poll_us_ < kQmpPollWallUs) return;
        last_qmp_poll_us_ = wall;
        qmp_->poll();
        show_media_in_params();
    }

    // What a drive holds as Bochs' parameter tree shows it: after a QMP change the tree says so
    // too, so that the toolbar button and the configuration menu start from the drive's state.
    Shown shown_by(const MediaSlot &slot) const {
        return Shown{slot.attachment() != Attachment::None, slot.source(), slot.read_only()};
    }
    void show_media_in_params() {
        for (unsigned u = 0; u < 2; ++u) {
            const MediaSlot &slot = *slots_[u];
            const Shown now = shown_by(slot);
            if (!slot.configured() || now == runtime_[u].shown) continue;
            runtime_[u].shown = now;
            applying_ = true;
            if (now.inserted) {
                static_cast<bx_param_string_c *>(runtime_[u].path)->set(now.path.c_str());
                param_set(sim_bool, drive_param(u, abi::kParamReadonly), now.read_only);
            }
            param_set(sim_enum, drive_param(u, abi::kParamStatus),
                      now.inserted ? abi::kStatusInserted : abi::kStatusEjected);
            applying_ = false;
            if (bx_gui) bx_gui->update_drive_status_buttons();
        }
    }

    // CMOS bytes exactly as Debian's plugin writes them, unless a CMOS image provides them.
    void write_cmos(const int64_t devtype[2]) {
        if (param_bool(abi::kParamCmosImage)) return;
        set_cmos(0x10, uint8_t((devtype[0] & 0xF) << 4 | (devtype[1] & 0xF)));
        const unsigned drives = (devtype[0] != 0) + (devtype[1] != 0);
        const uint8_t equipment = uint8_t(get_cmos(0x14) & 0x3E);
        set_cmos(0x14, drives ? uint8_t(equipment | (drives - 1) << 6 | 1) : equipment);
        const int64_t boot1 = param_enum(abi::kParamBootDrive1);
        const uint8_t seq = uint8_t(get_cmos(0x2D));
        set_cmos(0x2D, boot1 == abi::kBootFloppyA ? uint8_t(seq | 0x20) : uint8_t(seq & 0xDF));
        set_cmos(0x3D, uint8_t(boot1 | param_enum(abi::kParamBootDrive2) << 4));
        set_cmos(0x38, uint8_t((param_bool(abi::kParamSigCheck) ? 1 : 0) |
                               param_enum(abi::kParamBootDrive3) << 4));
    }
    uint32_t get_cmos(uint8_t reg) {
        return abi::vcall<uint32_t>(cmos_get.object(abi::hub(abi::kHubCmos)), abi::kCmosGetReg,
                                    reg);
    }
    void set_cmos(uint8_t reg, uint8_t value) {
        abi::vcall<void>(cmos_set.object(abi::hub(abi::kHubCmos)), abi::kCmosSetReg, reg,
                         uint32_t(value));
    }

    static std::string library_path() {
        Dl_info info{};
        if (dladdr(reinterpret_cast<void *>(&BochsFloppy::timer_fired), &info) && info.dli_fname)
            return info.dli_fname;
        return "libbx_floppy.so";
    }

    uint32_t read(uint32_t port, unsigned len) {
        const uint32_t v = read_port(port, len);
        trace("in  %03x = %02x", unsigned(port), unsigned(v));
        return v;
    }
    uint32_t read_port(uint32_t port, unsigned len) {
        if (port == abi::kPortHddShared)
            return abi::vcall<uint32_t>(hdd_read.object(abi::hub(abi::kHubHdd)), abi::kHddVirtRead,
                                        port, len);
        if (port == abi::kPortDir) {
            // Bit 7 is the floppy controller's DSKCHG, bits 6–0 the IDE controller's.
            const uint32_t ide = abi::vcall<uint32_t>(hdd_read.object(abi::hub(abi::kHubHdd)),
                                                      abi::kHddVirtRead, port, len);
            return (ide & 0x7F) | (core_->read(kDir) & 0x80);
        }
        return core_->read(port & 7);
    }
    void write(uint32_t port, uint32_t value, unsigned len) {
        trace("out %03x = %02x", unsigned(port), unsigned(value));
        if (port == abi::kPortHddShared) {
            abi::vcall<void>(hdd_write.object(abi::hub(abi::kHubHdd)), abi::kHddVirtWrite, port,
                             value, len);
            return;
        }
        core_->write(port & 7, uint8_t(value));
        if ((port & 7) == kDor) update_leds();
    }
    void expired() {
        // Bochs fires the timer on the tick the deadline was rounded down to: the core sees the
        // deadline itself, never a time a fraction of a tick before it.
        if (deadline_ != kNever) floor_ns_ = std::max(floor_ns_, deadline_);
        deadline_ = kNever;
        core_->on_timer();
    }
    uint16_t dma(DmaCycle cycle, uint8_t *buf, uint16_t len) {
        uint16_t moved = 0;
        guarded("DMA", [&] {
            // Bochs' 8237 says during the callback whether the block offered ends at terminal
            // count.
            const bool tc =
                abi::vcall<bool>(dma_get_tc.object(abi::hub(abi::kHubDma)), abi::kDmaGetTc);
            moved = uint16_t(core_->dma_transfer(cycle, std::span<uint8_t>(buf, len), tc));
            trace("DMA %s offered %u%s moved %u",
                  cycle == DmaCycle::ToMemory ? "to memory" : "from memory", unsigned(len),
                  tc ? " (TC)" : "", unsigned(moved));
        });
        return moved;
    }

    // FDPLUG_TRACE=FILE: one line per port access, pin change and DMA block, with the time in µs.
    void trace(const char *fmt, ...) __attribute__((format(printf, 2, 3))) {
        if (!trace_) return;
        std::fprintf(trace_, "%12.3f ", double(now_ns()) / 1000.0);
        va_list ap;
        va_start(ap, fmt);
        std::vfprintf(trace_, fmt, ap);
        va_end(ap);
        std::fputc('\n', trace_);
    }

    static constexpr unsigned kQmpTimerUsec = 1000;
    // The state's file in a save folder is floppy.fdc82077 (the blob's magic).
    static constexpr char kStateParam[] = "fdc82077";
    static constexpr int64_t kQmpPollWallUs = 1000;

    std::FILE *trace_ = nullptr;
    std::FILE *scratch_file_ = nullptr;  // Bochs' copy of a restored file (read_saved())
    std::vector<uint8_t> saved_blob_;    // read by Bochs' restore, loaded after it
    bool saved_blob_read_ = false;
    RuntimeParams runtime_[2];
    bool applying_ = false;
    bool transient_ = false;  // FDPLUG_TRANSIENT=on
    std::unique_ptr<Fdc82077> core_;
    FloppyManager manager_;
    std::vector<std::unique_ptr<MediaSlot>> slots_;  // unit 0 (A:), unit 1 (B:)
    std::unique_ptr<BochsQmp> qmp_;
    int qmp_timer_ = abi::kNullTimerHandle;
    int64_t last_qmp_poll_us_ = 0;
    int timer_ = abi::kNullTimerHandle;
    int64_t deadline_ = kNever;
    int64_t floor_ns_ = 0;
};

}  // namespace
}  // namespace fdplug::bochs

extern "C" __attribute__((visibility("default"))) int libfloppy_plugin_entry(plugin_t *plugin,
                                                                             uint16_t type,
                                                                             uint8_t mode) {
    using namespace fdplug::bochs;
    switch (mode) {
        case abi::kModeInit: {
            check_own_layout();
            g_floppy = new (std::nothrow) BochsFloppy();
            if (!g_floppy) fatal("%s", "out of memory creating the floppy controller");
            pluginRegisterDeviceDevmodel(
                plugin, type, reinterpret_cast<bx_devmodel_c *>(static_cast<DevModel *>(g_floppy)),
                abi::kDeviceName);
            return 0;
        }
        case abi::kModeFini:
            delete g_floppy;
            g_floppy = nullptr;
            return 0;
        case abi::kModeProbe:
            return abi::kPlugtypeCore;
        default:  // kModeFlags
            return 0;
    }
}
