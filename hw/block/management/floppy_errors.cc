#include "hw/block/management/floppy_errors.h"

#include <cstdio>
#include <iterator>

namespace fdplug::floppy {

namespace {

// Virtual PC builds its codes as 0xA0040000 | code (severity, the customer bit, FACILITY_ITF).
constexpr uint32_t vpc(uint32_t code) {
    return 0xA0040000u | code;
}

constexpr VpcErrorInfo kErrors[] = {
    {VpcError::VmUnknown, "VM_E_VM_UNKNOWN", vpc(0x207), "the drive is unknown or not configured"},
    {VpcError::ImageCaptureFail, "VM_E_IMAGE_CAPTURE_FAIL", vpc(0x650),
     "the image file could not be captured"},
    {VpcError::HostFloppyCaptureFail, "VM_E_HOST_FLOPPY_CAPTURE_FAIL", vpc(0x651),
     "the host floppy drive could not be captured"},
    {VpcError::NoMediaCaptured, "VM_E_NO_MEDIA_CAPTURED", vpc(0x652), "no media is attached"},
    {VpcError::FileReadOnly, "VM_E_FILE_READ_ONLY", vpc(0x67A), "the file is read-only"},
    {VpcError::DriveInUse, "VM_E_DRIVE_IN_USE", vpc(0x727), "the drive already holds media"},
    {VpcError::MediaWrongType, "VM_E_MEDIA_WRONG_TYPE", vpc(0x728),
     "the attached media is not of the kind the command releases"},
    {VpcError::DispException, "DISP_E_EXCEPTION", 0x80020009u, "an unexpected failure"},
    {VpcError::InvalidArg, "E_INVALIDARG", 0x80070057u, "an invalid argument"},
};

constexpr bool in_enum_order() {
    for (size_t i = 0; i < std::size(kErrors); ++i)
        if (size_t(kErrors[i].error) != i) return false;
    return std::size(kErrors) == size_t(VpcError::InvalidArg) + 1;
}
static_assert(in_enum_order(), "kErrors lists every VpcError once, in enum order");

}  // namespace

std::span<const VpcErrorInfo> vpc_errors() {
    return kErrors;
}

const VpcErrorInfo &vpc_error(VpcError error) {
    return kErrors[size_t(error)];
}

std::optional<VpcError> vpc_error_by_symbol(std::string_view symbol) {
    for (const VpcErrorInfo &e : kErrors)
        if (symbol == e.symbol) return e.error;
    return std::nullopt;
}

std::string hresult_text(uint32_t hresult) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08X", unsigned(hresult));
    return buf;
}

QmpError qmp_error(const Error<VpcError> &error) {
    const VpcErrorInfo &info = vpc_error(error.kind());
    return {info.symbol, error.message(), {{"hresult", hresult_text(info.hresult)}}};
}

}  // namespace fdplug::floppy
