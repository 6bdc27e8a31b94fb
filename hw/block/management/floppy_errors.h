// The error classes of the floppy-* QMP commands: Windows Virtual PC's IVMFloppyDrive results
// (docs/floppy-management.md#error-objects-and-the-codes). One table, symbol → HRESULT; every error
// the commands return is an Error<VpcError> (hw/block/error/expected.h) and goes out as QMP's error
// object with its HRESULT as "0xA0040652", made here by qmp_error().
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "hw/block/error/expected.h"

namespace fdplug::floppy {

enum class VpcError : uint8_t {
    VmUnknown,              // VM_E_VM_UNKNOWN: no such drive, or it is not configured
    ImageCaptureFail,       // VM_E_IMAGE_CAPTURE_FAIL: the image cannot be captured
    HostFloppyCaptureFail,  // VM_E_HOST_FLOPPY_CAPTURE_FAIL: the host drive cannot be captured
    NoMediaCaptured,        // VM_E_NO_MEDIA_CAPTURED: nothing is attached
    FileReadOnly,           // VM_E_FILE_READ_ONLY: read-write asked of a read-only file
    DriveInUse,             // VM_E_DRIVE_IN_USE: the drive already holds media
    MediaWrongType,         // VM_E_MEDIA_WRONG_TYPE: what is attached is the other kind
    DispException,          // DISP_E_EXCEPTION: an unexpected failure
    InvalidArg,             // E_INVALIDARG: a bad host device name, or not a floppy device
};

struct VpcErrorInfo {
    VpcError error;
    const char *symbol;  // the QMP error class, e.g. "VM_E_NO_MEDIA_CAPTURED"
    uint32_t hresult;    // e.g. 0xA0040652
    const char *meaning;
};

// Every entry, in VpcError order.
std::span<const VpcErrorInfo> vpc_errors();
const VpcErrorInfo &vpc_error(VpcError error);
std::optional<VpcError> vpc_error_by_symbol(std::string_view symbol);
// "0xA0040652": 0x, then 8 upper-case hex digits.
std::string hresult_text(uint32_t hresult);

// A command's error as QMP's error object holds it — {"class": "VM_E_NO_MEDIA_CAPTURED",
// "desc": message, "hresult": "0xA0040652"} — split the way monitors take it: the class, the
// desc, and the members they add (the plugin ABI's FdplugError, the Bochs monitor's qmp::Error).
struct QmpError {
    const char *cls;  // the table's symbol (static storage)
    std::string desc;
    nlohmann::ordered_json members;  // {"hresult": "0xA0040652"}
};
QmpError qmp_error(const Error<VpcError> &error);

}  // namespace fdplug::floppy
