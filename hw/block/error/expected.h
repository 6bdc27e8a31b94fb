// One error type for the floppy stack: what went wrong in words (the message a user reads, which
// names the file or drive and the way out) and, where a caller must branch on it, as a kind.
// Every layer returns Expected<T> (a value or an Error) or Status (success or an Error); the
// plugin ABI (char **errp, FdplugError) and QMP's error objects are made from it once, at the
// adapters and at floppy management's QMP edge (hw/block/management/floppy_errors.h).
//
// The kind is a template parameter so that a layer can branch on its own kinds with the same
// type: the media and the core use ErrorKind; floppy management answers with Virtual PC's
// classes (Error<VpcError>). No exceptions: g++ 12 has no std::expected, and the core and the
// media must not throw across the plugin ABI.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace fdplug::floppy {

// What went wrong, as far as a caller acts on it. Media opened for a drive fail with one of the
// specific kinds; a failure no caller tells apart from others is Failed.
enum class ErrorKind : uint8_t {
    Failed,         // nothing more specific (an invalid saved state, a refused request)
    Unsupported,    // a format or option fdplug does not implement (format=qcow2)
    BadPath,        // a path or device name of a bad form: empty, relative, unresolvable
    NotFound,       // no such file or device node
    WrongFileType,  // a directory, FIFO, device… for an image; not a block device for a drive
    Unreadable,     // permission denied or another failed open(2)
    ReadOnly,       // write access asked of a file that can only be opened read-only
    InUse,          // another process or drive holds its lock or has claimed the device
    NoMedium,       // a host drive with no disk, or none that can be read
    UnknownSize,    // no floppy format fits the size, the boot sector or the drive type
    Corrupt,        // an image file whose contents are damaged or cut short (an IMD file)
    IoError,        // an unexpected I/O failure: a read, a flush, a lock, an fstat
};

// "Failed", "NotFound", …: the enumerator's name, for logs and test messages.
constexpr const char *error_kind_name(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::Failed:
            return "Failed";
        case ErrorKind::Unsupported:
            return "Unsupported";
        case ErrorKind::BadPath:
            return "BadPath";
        case ErrorKind::NotFound:
            return "NotFound";
        case ErrorKind::WrongFileType:
            return "WrongFileType";
        case ErrorKind::Unreadable:
            return "Unreadable";
        case ErrorKind::ReadOnly:
            return "ReadOnly";
        case ErrorKind::InUse:
            return "InUse";
        case ErrorKind::NoMedium:
            return "NoMedium";
        case ErrorKind::UnknownSize:
            return "UnknownSize";
        case ErrorKind::Corrupt:
            return "Corrupt";
        case ErrorKind::IoError:
            return "IoError";
    }
    return "Unknown";
}

template <class Kind = ErrorKind>
class Error {
  public:
    Error(Kind kind, std::string message) : kind_(kind), message_(std::move(message)) {}

    Kind kind() const { return kind_; }
    const std::string &message() const { return message_; }
    // The same error with `context` in front of its message: "drive 0: " + "cannot read …".
    Error prefixed(const std::string &context) const { return Error(kind_, context + message_); }

  private:
    Kind kind_;
    std::string message_;
};

// A T, or the Error that prevented it. Converts from either, so a function returns a value or an
// Error alike; test it (`if (!r)`) before taking the value (value() throws otherwise).
template <class T, class Kind = ErrorKind>
class [[nodiscard]] Expected {
  public:
    Expected(T value) : state_(std::in_place_index<0>, std::move(value)) {}
    Expected(Error<Kind> error) : state_(std::in_place_index<1>, std::move(error)) {}

    bool ok() const { return state_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T &value() & { return std::get<0>(state_); }
    const T &value() const & { return std::get<0>(state_); }
    T &&value() && { return std::get<0>(std::move(state_)); }
    T &operator*() & { return value(); }
    const T &operator*() const & { return value(); }
    T &&operator*() && { return std::move(*this).value(); }
    T *operator->() { return &value(); }
    const T *operator->() const { return &value(); }

    const Error<Kind> &error() const { return std::get<1>(state_); }

  private:
    std::variant<T, Error<Kind>> state_;
};

// Success, or the Error that prevented it.
template <class Kind>
class [[nodiscard]] Expected<void, Kind> {
  public:
    Expected() = default;
    Expected(Error<Kind> error) : error_(std::move(error)) {}

    bool ok() const { return !error_; }
    explicit operator bool() const { return ok(); }
    const Error<Kind> &error() const { return error_.value(); }

  private:
    std::optional<Error<Kind>> error_;
};

using Status = Expected<void>;

}  // namespace fdplug::floppy
