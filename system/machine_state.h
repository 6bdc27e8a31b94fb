// Saving and loading a whole machine of fdplug-host: the QMP commands x-save-devices and
// x-load-devices (qapi/migration.json) write and read one file holding the host's own platform
// devices (8237 DMA controllers, 8259 interrupt controllers, MC146818 NVRAM, RAM) and every
// plugin device's state blob (FdplugDeviceTypeInfo.save_state), in machine order.
//
//   file    := magic "FDPLUGVM" | u32 version | u32 count | count × entry | blobs | u32 CRC-32
//   entry   := u8 kind (0 host part, 1 plugin device) | u8 flags (1: has state)
//              | u16 n + name (host part name, or the device's QOM path)
//              | u16 n + type (the same name, or the device type) | u32 blob length
//
// A load checks the whole file, that the machine has the same device set (kinds, names, types,
// in order), and every host part, before it changes anything; then it applies the host parts and
// loads each device; if a device refuses its state, everything already applied is put back from
// a snapshot taken first, so a failed load leaves the machine as it was. docs/state.md §7.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace fdplug {

class Machine;

namespace machine_state {

inline constexpr char kMagic[8] = {'F', 'D', 'P', 'L', 'U', 'G', 'V', 'M'};
inline constexpr uint32_t kVersion = 1;

bool save(Machine &machine, std::vector<uint8_t> *out, std::string *error);
bool load(Machine &machine, std::span<const uint8_t> bytes, std::string *error);

// The same, through a file (written to a temporary name and renamed into place).
bool save_file(Machine &machine, const std::string &filename, std::string *error);
bool load_file(Machine &machine, const std::string &filename, std::string *error);

}  // namespace machine_state
}  // namespace fdplug
