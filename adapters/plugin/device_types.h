// The device types the floppy plugin offers, each described for the ABI in its own file:
// `isa-fdc` (isa_fdc_type.cc) and `floppy` (floppy_device.cc).
#pragma once

#include "adapters/plugin/floppy_plugin.h"

namespace fdplug::floppy::plugin {

extern const FdplugDeviceTypeInfo kIsaFdcType;
extern const FdplugDeviceTypeInfo kFloppyType;

}  // namespace fdplug::floppy::plugin
