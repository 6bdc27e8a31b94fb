// The 82077AA command set as a table: how an opcode is recognised, how many bytes it takes and
// returns, and which handler runs it. Reference: shared/reference/82077aa.md §5.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace fdplug::floppy {

enum class Command : uint8_t {
    ReadData,
    ReadDeleted,
    WriteData,
    WriteDeleted,
    ReadTrack,
    Verify,
    ScanEqual,
    ScanLowOrEqual,
    ScanHighOrEqual,
    Format,
    ReadId,
    Recalibrate,
    Seek,
    RelativeSeek,
    SenseInterrupt,
    Specify,
    SenseDrive,
    Configure,
    Dumpreg,
    Version,
    Lock,
    Perpendicular,
    Invalid,
};

inline constexpr size_t kCommandCount = static_cast<size_t>(Command::Invalid) + 1;

struct CommandInfo {
    Command command;
    const char *name;
    uint8_t code, mask;  // recognised when (opcode & mask) == code
    uint8_t in_bytes;    // including the opcode
    uint8_t out_bytes;   // result bytes (0: none, e.g. SEEK)
};

// The entry for an opcode; an unknown opcode gives the Invalid entry (1 in, 1 out).
const CommandInfo &decode_command(uint8_t opcode);
std::span<const CommandInfo> command_table();

inline constexpr uint8_t kMaxCommandBytes = 9;
inline constexpr uint8_t kMaxResultBytes = 10;

}  // namespace fdplug::floppy
