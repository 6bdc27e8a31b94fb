// The part of Bochs' plugin ABI that fdplug's libbx_floppy.so uses, declared in our own words.
//
// Describes exactly Debian 12's Bochs 2.7, package bochs 2.7+dfsg-4+deb12u1 (amd64): its
// /usr/bin/bochs-bin and the plugins in /usr/lib/x86_64-linux-gnu/bochs/plugins. No Bochs source
// or header is copied here; every value was read from those binaries (nm -D, readelf -r,
// objdump -d) and is re-checked by adapters/bochs/verify-abi.py, which reads the `// verify:`
// comment after each constant:
//   size BIN SYM TYPE      nm -D -S: BIN exports SYM with this nm type and this size
//   slot BIN VTABLE NAMES  the vtable's slot at this byte offset holds one of NAMES (|-separated)
//   hub FN SLOT SYM        in Debian's libbx_floppy FN, g++'s devirtualisation guard loads
//                          bx_devices+VALUE, then slot SLOT of that object, and compares it with
//                          SYM: ties the hub offset to a class and a method
//   guard BIN FN SYM       in BIN's FN a vtable slot at this offset is compared with SYM
//   load BIN FN EXPR       FN reads EXPR ({V} = the value): a member of what a call returned
//   imm BIN FN TEXT        FN's disassembly contains TEXT ({V} = the value in hex)
//   alloc BIN FN CTOR      FN calls operator new with this many bytes and CTOR on the result:
//                          the size of an object we construct with Bochs' own constructor
//   string BIN             (for string constants) BIN's read-only data holds the string
// The same script checks the built module: one exported symbol, no library but the C/C++
// runtime and GLib (QMP inside Bochs), every other undefined symbol exported by bochs-bin,
// BIND_NOW. At INIT the adapter also checks each foreign vtable slot it will call with dladdr()
// against the expected symbol names (bx_floppy.cc, self_check()).
//
// A different Bochs build (another configure, 2.8, a new Debian revision) needs all of this
// re-verified: there is no ABI version check at load time, and a wrong slot is silent memory
// corruption.
#pragma once

// One fact a line, with its `// verify:` comment on the same line for verify-abi.py: kept out
// of clang-format, which would wrap them.
// clang-format off

#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdio>

static_assert(sizeof(void *) == 8 && CHAR_BIT == 8, "Debian amd64 only: every offset below is for LP64");
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "x86-64 only");
#if !defined(__GXX_ABI_VERSION) || !defined(__x86_64__) || !defined(__linux__)
#error "the Bochs ABI facts below are for g++'s Itanium C++ ABI on x86-64 Linux"
#endif

// ---- Classes whose non-virtual member functions bochs-bin exports. Only their mangled names
// matter: these declarations have no data members. The two parameter classes below are built by
// their exported constructors in memory of the size Bochs allocates (kListSize,
// kShadowFiledataSize); every other one is never instantiated by us.
class bx_pc_system_c {
public:
    int register_timer(void *this_ptr, void (*handler)(void *), unsigned usec, bool continuous,
                       bool active, const char *id);
    void activate_timer_nsec(unsigned index, unsigned long nsec, bool continuous);
    void deactivate_timer(unsigned index);
    unsigned long time_nsec();
};

class logfunctions {
public:
    void info(const char *fmt, ...) __attribute__((format(printf, 2, 3)));
    void error(const char *fmt, ...) __attribute__((format(printf, 2, 3)));
    void panic(const char *fmt, ...) __attribute__((format(printf, 2, 3)));
};

// Parameters: only the non-virtual handler installers are called by name. A handler runs inside
// set(), before the new value is stored, and returns the value to store. `long` is int64_t on
// LP64 and spelled so that the mangled names match (…EPFlP10bx_param_cblE).
class bx_param_c;  // opaque
class bx_param_num_c {
public:
    void set_handler(long (*handler)(bx_param_c *param, bool set, long value));
};
class bx_param_string_c {
public:
    void set_handler(const char *(*handler)(bx_param_string_c *param, bool set, const char *old_value,
                                            const char *value, int max_length));
    void set(const char *value);  // runs the handler, then copies the value
};

// Save and restore: a list node of the parameter tree, added to `parent` by its constructor
// (Bochs' save writes each list under the root to a file of its name in the save folder) ...
class bx_list_c {
public:
    bx_list_c(bx_param_c *parent, const char *name);
};
// ... and a parameter whose value is a file of its own. Bochs' save opens SAVEDIR/LIST.NAME for
// writing, copies *scratch_file into it if that is open, and calls `save(owner, file)`. Its
// restore opens the file for reading, copies it to *scratch_file (a tmpfile() it opens when that
// is null) and then calls `restore(owner, file)` with the file at its end; all of this before
// any device's after_restore_state().
class bx_shadow_filedata_c {
public:
    bx_shadow_filedata_c(bx_param_c *parent, const char *name, FILE **scratch_file);
    void set_sr_handlers(void *owner, void (*save)(void *owner, FILE *file),
                         void (*restore)(void *owner, FILE *file));
};

// The GUI: the status bar's items (the drive LEDs " A: ", " B: ").
class bx_gui_c {
public:
    int register_statusitem(const char *text, bool auto_off);
    void statusbar_setitem(int element, bool active, bool w);
    // Re-reads floppy.N.status into the toolbar buttons' state, which the floppy buttons toggle
    // (update_runtime_options() calls it after the handlers).
    void update_drive_status_buttons();
};

// The debugger (Debian builds Bochs with it): `info device "floppy"` calls slot 0x30,
// debug_dump(argc, argv), of the object registered under that name; dbg_printf prints there.
void dbg_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool bx_dbg_register_debug_info(const char *name, void *device);

class bx_devmodel_c;  // opaque: we only pass our own object with this vtable layout
struct plugin_t;      // opaque: passed back to pluginRegisterDeviceDevmodel

// ---- Data and C functions exported by bochs-bin (all have C-style, unmangled names).
extern "C" {
extern bx_pc_system_c bx_pc_system;
extern unsigned char bx_devices[];  // bx_devices_c: only read at the hub offsets below
extern void *SIM;                   // bx_simulator_interface_c*
extern logfunctions *pluginlog;
extern bx_gui_c *bx_gui;
extern int (*pluginRegisterIRQ)(unsigned irq, const char *name);
extern int (*pluginRegisterIOReadHandler)(void *this_ptr, uint32_t (*)(void *, uint32_t addr, unsigned len),
                                          unsigned port, const char *name, uint8_t mask);
extern int (*pluginRegisterIOWriteHandler)(void *this_ptr,
                                           void (*)(void *, uint32_t addr, uint32_t value, unsigned len),
                                           unsigned port, const char *name, uint8_t mask);
void pluginRegisterDeviceDevmodel(plugin_t *plugin, uint16_t type, bx_devmodel_c *dev, const char *name);
}

namespace fdplug::bochs::abi {

// ---- Object sizes (bochs-bin, nm -D -S).
inline constexpr size_t kDevicesSize = 0xFA0;     // verify: size bochs-bin bx_devices B
inline constexpr size_t kPcSystemSize = 0x1678;   // verify: size bochs-bin bx_pc_system B
inline constexpr size_t kSimPtrSize = 8;          // verify: size bochs-bin SIM B
inline constexpr size_t kPluginlogPtrSize = 8;    // verify: size bochs-bin pluginlog B
inline constexpr size_t kGuiPtrSize = 8;          // verify: size bochs-bin bx_gui B
inline constexpr size_t kRegisterIrqPtrSize = 8;  // verify: size bochs-bin pluginRegisterIRQ B
inline constexpr size_t kRegisterReadPtrSize = 8;   // verify: size bochs-bin pluginRegisterIOReadHandler B
inline constexpr size_t kRegisterWritePtrSize = 8;  // verify: size bochs-bin pluginRegisterIOWriteHandler B

// ---- The plugin entry: extern "C" int libfloppy_plugin_entry(plugin_t*, uint16_t type, uint8_t mode).
// Debian's entry tests mode == 1 (INIT), then mode == 0 (FINI), else returns mode == 2 (PROBE
// answers 1 = PLUGTYPE_CORE; FLAGS = 3 answers 0).
inline constexpr uint8_t kModeFini = 0;    // verify: imm libbx_floppy libfloppy_plugin_entry test   %dl,%dl
inline constexpr uint8_t kModeInit = 1;    // verify: imm libbx_floppy libfloppy_plugin_entry cmp    $0x1,%dl
inline constexpr uint8_t kModeProbe = 2;   // verify: imm libbx_floppy libfloppy_plugin_entry cmp    $0x2,%dl
inline constexpr uint8_t kModeFlags = 3;   // verify: value the mode that is none of the above (FLAGS, answered 0)
inline constexpr int kPlugtypeCore = 1;    // verify: imm libbx_floppy libfloppy_plugin_entry sete   %al
inline constexpr char kDeviceName[] = "floppy";  // verify: string libbx_floppy

// ---- The registered object's vtable (bx_devmodel_c). bochs-bin calls init/reset/
// register_state/after_restore_state through these slots (bx_init_plugins & co.).
inline constexpr unsigned kDevDtorComplete = 0x00;  // verify: slot bochs-bin _ZTV13bx_devmodel_c _ZN13bx_devmodel_cD1Ev
inline constexpr unsigned kDevDtorDeleting = 0x08;  // verify: slot bochs-bin _ZTV13bx_devmodel_c _ZN13bx_devmodel_cD0Ev
inline constexpr unsigned kDevInit = 0x10;          // verify: guard bochs-bin bx_init_plugins _ZN13bx_devmodel_c4initEv
inline constexpr unsigned kDevReset = 0x18;         // verify: guard bochs-bin bx_reset_plugins _ZN13bx_devmodel_c5resetEj
inline constexpr unsigned kDevRegisterState = 0x20; // verify: guard bochs-bin bx_plugins_register_state _ZN13bx_devmodel_c14register_stateEv
inline constexpr unsigned kDevAfterRestore = 0x28;  // verify: guard bochs-bin bx_plugins_after_restore_state _ZN13bx_devmodel_c19after_restore_stateEv
inline constexpr unsigned kDevDebugDump = 0x30;     // verify: slot bochs-bin _ZTV13bx_devmodel_c _ZN13bx_devmodel_c10debug_dumpEiPPc
// reset(type): Debian's bx_floppy_ctrl_c::reset compares type with BX_RESET_HARDWARE.
inline constexpr unsigned kResetHardware = 11;      // verify: imm libbx_floppy _ZN16bx_floppy_ctrl_c5resetEj cmp    $0xb,%esi
inline constexpr unsigned kResetSoftware = 10;      // verify: value the other reset type (BX_RESET_SOFTWARE)

// ---- Device hub: pointers stored in bx_devices by bx_devices_c::init_stubs().
inline constexpr unsigned kHubCmos = 0x38;  // verify: hub _ZN16bx_floppy_ctrl_c4initEv 0x40 _ZN14bx_cmos_stub_c7set_regEhj
inline constexpr unsigned kHubDma = 0x40;   // verify: hub _ZN16bx_floppy_ctrl_c6get_tcEv 0x50 _ZN13bx_dma_stub_c6get_TCEv
inline constexpr unsigned kHubHdd = 0x48;   // verify: hub _ZN16bx_floppy_ctrl_c12read_handlerEPvjj 0x38 _ZN20bx_hard_drive_stub_c17virt_read_handlerEjj
inline constexpr unsigned kHubPic = 0x50;   // verify: hub _ZN16bx_floppy_ctrl_c15raise_interruptEv 0x38 _ZN13bx_pic_stub_c9raise_irqEj

// ---- Vtable slots of the hub objects (the stub classes in bochs-bin, the real ones in the
// plugins; both have the same layout, debug_dump at 0x30 shifting the own methods to 0x38).
inline constexpr unsigned kPicRaiseIrq = 0x38;  // verify: slot libbx_pic _ZTV8bx_pic_c _ZN8bx_pic_c9raise_irqEj
inline constexpr unsigned kPicLowerIrq = 0x40;  // verify: slot libbx_pic _ZTV8bx_pic_c _ZN8bx_pic_c9lower_irqEj
inline constexpr unsigned kPicStubRaiseIrq = 0x38;  // verify: slot bochs-bin _ZTV13bx_pic_stub_c _ZN13bx_pic_stub_c9raise_irqEj
inline constexpr unsigned kPicStubLowerIrq = 0x40;  // verify: slot bochs-bin _ZTV13bx_pic_stub_c _ZN13bx_pic_stub_c9lower_irqEj
inline constexpr unsigned kDmaRegister8 = 0x38; // verify: slot libbx_dma _ZTV8bx_dma_c _ZN8bx_dma_c19registerDMA8ChannelEjPFtPhtES2_PKc
inline constexpr unsigned kDmaGetTc = 0x50;     // verify: slot libbx_dma _ZTV8bx_dma_c _ZN8bx_dma_c6get_TCEv
inline constexpr unsigned kDmaSetDrq = 0x58;    // verify: slot libbx_dma _ZTV8bx_dma_c _ZN8bx_dma_c7set_DRQEjb
inline constexpr unsigned kDmaStubSetDrq = 0x58;  // verify: slot bochs-bin _ZTV13bx_dma_stub_c _ZN13bx_dma_stub_c7set_DRQEjb
inline constexpr unsigned kCmosGetReg = 0x38;   // verify: slot libbx_cmos _ZTV9bx_cmos_c _ZN9bx_cmos_c7get_regEh
inline constexpr unsigned kCmosSetReg = 0x40;   // verify: slot libbx_cmos _ZTV9bx_cmos_c _ZN9bx_cmos_c7set_regEhj
inline constexpr unsigned kHddVirtRead = 0x38;  // verify: slot libbx_harddrv _ZTV15bx_hard_drive_c _ZN15bx_hard_drive_c17virt_read_handlerEjj
inline constexpr unsigned kHddVirtWrite = 0x40; // verify: slot libbx_harddrv _ZTV15bx_hard_drive_c _ZN15bx_hard_drive_c18virt_write_handlerEjjj
inline constexpr unsigned kHddStubVirtWrite = 0x40;  // verify: slot bochs-bin _ZTV20bx_hard_drive_stub_c _ZN20bx_hard_drive_stub_c18virt_write_handlerEjjj

// ---- SIM (bx_real_sim_c) and parameter objects.
inline constexpr unsigned kSimGetParamString = 0x40;  // verify: slot bochs-bin _ZTV13bx_real_sim_c _ZN13bx_real_sim_c16get_param_stringEPKcP10bx_param_c
inline constexpr unsigned kSimGetParamBool = 0x48;    // verify: slot bochs-bin _ZTV13bx_real_sim_c _ZN13bx_real_sim_c14get_param_boolEPKcP10bx_param_c
inline constexpr unsigned kSimGetParamEnum = 0x50;    // verify: slot bochs-bin _ZTV13bx_real_sim_c _ZN13bx_real_sim_c14get_param_enumEPKcP10bx_param_c
// Runtime media changes: Bochs' GUI floppy buttons and its runtime configuration menu set
// floppy.N.status/path/readonly and then call SIM->update_runtime_options(), which calls every
// registered runtime-config handler (Debian's floppyA_handler shows the slot's guard).
inline constexpr unsigned kSimRegisterRuntimeConfig = 0x1F8;  // verify: slot bochs-bin _ZTV13bx_real_sim_c _ZN13bx_real_sim_c31register_runtime_config_handlerEPvPFvS0_E
inline constexpr unsigned kSimUpdateRuntimeOptions = 0x208;   // verify: guard bochs-bin _ZN8bx_gui_c15floppyA_handlerEv _ZN24bx_simulator_interface_c22update_runtime_optionsEv
// The root of the parameter tree that Bochs' save state writes ("bochs"); every device adds its
// list under it in register_state(). Debian's BX_MEM_C::register_state shows the slot's guard.
inline constexpr unsigned kSimGetBochsRoot = 0x2B8;  // verify: slot bochs-bin _ZTV13bx_real_sim_c _ZN13bx_real_sim_c14get_bochs_rootEv
// Object sizes for the parameters we construct: the operator new that Bochs' own register_state
// code calls right before each constructor.
inline constexpr size_t kListSize = 0xA0;            // verify: alloc bochs-bin _ZN14bx_pc_system_c14register_stateEv _ZN9bx_list_cC1EP10bx_param_cPKc
inline constexpr size_t kShadowFiledataSize = 0x90;  // verify: alloc bochs-bin _ZN8BX_MEM_C14register_stateEv _ZN20bx_shadow_filedata_cC1EP10bx_param_cPKcPP8_IO_FILE
// The folder `bochs -r DIR` restores from (named in our restore error messages).
inline constexpr char kParamRestorePath[] = "general.restore_path";  // verify: string bochs-bin
// void set_runtime_param(bool): bx_param_c's, for numeric, enum, bool and string parameters.
inline constexpr unsigned kParamNumSetRuntime = 0x18;     // verify: slot bochs-bin _ZTV14bx_param_num_c _ZN10bx_param_c17set_runtime_paramEb
inline constexpr unsigned kParamEnumSetRuntime = 0x18;    // verify: slot bochs-bin _ZTV15bx_param_enum_c _ZN10bx_param_c17set_runtime_paramEb
inline constexpr unsigned kParamBoolSetRuntime = 0x18;    // verify: slot bochs-bin _ZTV15bx_param_bool_c _ZN10bx_param_c17set_runtime_paramEb
inline constexpr unsigned kParamStringSetRuntime = 0x18;  // verify: slot bochs-bin _ZTV17bx_param_string_c _ZN10bx_param_c17set_runtime_paramEb
// bx_param_num_c and its subclasses bool and enum: int64_t get64() (0x40 is the inline get()).
inline constexpr unsigned kParamNumGet64 = 0x48;   // verify: slot bochs-bin _ZTV14bx_param_num_c _ZN14bx_param_num_c5get64Ev
inline constexpr unsigned kParamEnumGet64 = 0x48;  // verify: slot bochs-bin _ZTV15bx_param_enum_c _ZN14bx_param_num_c5get64Ev
inline constexpr unsigned kParamBoolGet64 = 0x48;  // verify: slot bochs-bin _ZTV15bx_param_bool_c _ZN14bx_param_num_c5get64Ev
// void set(int64_t): numeric and bool share bx_param_num_c's; enum overrides it (checks the value).
inline constexpr unsigned kParamNumSet = 0x50;   // verify: slot bochs-bin _ZTV14bx_param_num_c _ZN14bx_param_num_c3setEl
inline constexpr unsigned kParamBoolSet = 0x50;  // verify: slot bochs-bin _ZTV15bx_param_bool_c _ZN14bx_param_num_c3setEl
inline constexpr unsigned kParamEnumSet = 0x50;  // verify: slot bochs-bin _ZTV15bx_param_enum_c _ZN15bx_param_enum_c3setEl
// bx_param_string_c: the char* value, read by the inline getptr() right after get_param_string.
inline constexpr unsigned kParamStringValue = 0x70;  // verify: load libbx_floppy _ZN16bx_floppy_ctrl_c4initEv ret(_ZN24bx_simulator_interface_c16get_param_stringEPKcP10bx_param_c)+{V}

static_assert(kParamNumGet64 == kParamEnumGet64 && kParamNumGet64 == kParamBoolGet64,
              "one get64() slot serves every numeric parameter");
static_assert(kParamNumSet == kParamEnumSet && kParamNumSet == kParamBoolSet,
              "one set() slot serves every numeric parameter");
static_assert(kParamNumSetRuntime == kParamEnumSetRuntime && kParamNumSetRuntime == kParamBoolSetRuntime &&
                  kParamNumSetRuntime == kParamStringSetRuntime,
              "one set_runtime_param() slot serves every parameter");
static_assert(kPicRaiseIrq == kPicStubRaiseIrq && kDmaSetDrq == kDmaStubSetDrq &&
                  kHddVirtWrite == kHddStubVirtWrite && kPicLowerIrq == kPicStubLowerIrq,
              "stub and real device classes share their layout");
static_assert(kHubPic + 8 <= kDevicesSize && kHubCmos % 8 == 0 && kHubDma % 8 == 0 &&
                  kHubHdd % 8 == 0 && kHubPic % 8 == 0,
              "hub pointers are aligned members of bx_devices");
static_assert(kDevDebugDump == kDevAfterRestore + 8 && kPicRaiseIrq == kDevDebugDump + 8,
              "the debugger slot shifts every device's own methods to 0x38");

// ---- Parameter tree (bochsrc floppya: → floppy.0, floppyb: → floppy.1).
inline constexpr char kParamFloppyA[] = "floppy.0";  // verify: string libbx_floppy
inline constexpr char kParamFloppyB[] = "floppy.1";  // verify: string libbx_floppy
inline constexpr char kParamDevtype[] = "devtype";   // verify: string libbx_floppy
inline constexpr char kParamPath[] = "path";         // verify: string libbx_floppy
inline constexpr char kParamType[] = "type";         // verify: string libbx_floppy
inline constexpr char kParamStatus[] = "status";     // verify: string libbx_floppy
inline constexpr char kParamReadonly[] = "readonly"; // verify: string libbx_floppy
inline constexpr char kParamCmosImage[] = "clock_cmos.cmosimage.enabled";  // verify: string libbx_floppy
inline constexpr char kParamBootDrive1[] = "boot_params.boot_drive1";      // verify: string libbx_floppy
inline constexpr char kParamBootDrive2[] = "boot_params.boot_drive2";      // verify: string libbx_floppy
inline constexpr char kParamBootDrive3[] = "boot_params.boot_drive3";      // verify: string libbx_floppy
inline constexpr char kParamSigCheck[] = "boot_params.floppy_sig_check";   // verify: string libbx_floppy
inline constexpr char kPortName[] = "Floppy Drive";  // verify: string libbx_floppy
inline constexpr char kNoMedia[] = "none";           // verify: string libbx_floppy
// floppy.N.type: BX_FLOPPY_NONE, which Debian's init() tests before looking at the image.
inline constexpr int64_t kMediaNone = 10;  // verify: imm libbx_floppy _ZN16bx_floppy_ctrl_c4initEv cmp    $0xa,%eax
// floppy.N.status: BX_EJECTED / BX_INSERTED (Debian's runtime_config compares status with it).
inline constexpr int64_t kStatusEjected = 0;   // verify: value the other status (a floppy that is not in)
inline constexpr int64_t kStatusInserted = 1;  // verify: value checked by the boot test (a floppy that boots)
// boot_params.boot_drive1 value meaning "floppy A" (CMOS 0x2D bit 5).
inline constexpr int64_t kBootFloppyA = 1;  // verify: value checked by the boot test's CMOS dump against Debian's plugin

// ---- Timer: Debian's plugin registers register_timer(this, handler, 250, false, false, "floppy").
inline constexpr unsigned kTimerInitialUsec = 250;  // verify: imm libbx_floppy _ZN16bx_floppy_ctrl_c4initEv mov    $0xfa,%ecx
inline constexpr int kNullTimerHandle = 10000;      // verify: imm libbx_floppy _ZN16bx_floppy_ctrl_c4initEv cmpl   $0x2710,

// ISA resources and ports.
inline constexpr unsigned kIrq = 6;        // verify: imm libbx_floppy _ZN16bx_floppy_ctrl_c4initEv mov    $0x6,%edi
inline constexpr unsigned kDmaChannel = 2; // verify: imm libbx_floppy _ZN16bx_floppy_ctrl_c9dma_writeEPht mov    $0x2,%esi
inline constexpr unsigned kPortFirst = 0x3F2;  // verify: imm libbx_floppy _ZN16bx_floppy_ctrl_c4initEv mov    $0x3f2,%ebp
inline constexpr unsigned kPortEnd = 0x3F8;    // verify: imm libbx_floppy _ZN16bx_floppy_ctrl_c4initEv cmp    $0x3f8,%ebp
inline constexpr unsigned kPortHddShared = 0x3F6;
inline constexpr unsigned kPortDir = 0x3F7;

// ---- Calling a virtual function of a Bochs object through its vtable slot (Itanium ABI:
// `this` is the first argument; no variadic methods are called this way).
template <typename R, typename... Args>
inline R vcall(void *object, unsigned slot, Args... args) {
    void *const *vtable = *static_cast<void *const *const *>(object);
    auto fn = reinterpret_cast<R (*)(void *, Args...)>(vtable[slot / sizeof(void *)]);
    return fn(object, args...);
}

inline void *hub(unsigned offset) {
    void *p;
    __builtin_memcpy(&p, bx_devices + offset, sizeof p);
    return p;
}

}  // namespace fdplug::bochs::abi
// clang-format on
