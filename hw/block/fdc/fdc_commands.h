// The 82077AA command set as a table (fdc_commands.cc), one row per command: how its opcode is
// recognised, how many bytes it takes and returns, the handler that runs it, and, for a data
// command, what it does on the disk. The controller asks the row instead of testing for a
// command by name.
// Reference: docs/hardware/82077aa.md §5.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fdplug::floppy {

class Fdc82077;

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

// What a data command's search looks for under the head.
enum class Search : uint8_t {
    None,   // not a data command
    Id,     // the sector whose ID matches C H R N
    AnyId,  // whichever ID passes first (READ ID)
    Track,  // the index pulse, then every sector in physical order, R counting them (READ TRACK)
    Index,  // the index pulse, then the IDs the host gives (FORMAT)
};

// What a data command does with each sector it finds.
enum class SectorOp : uint8_t {
    None,     // nothing (READ ID reads only the ID, into its result)
    Read,     // the data field goes to the host
    Verify,   // the data field is read and checked, and goes nowhere
    Write,    // the host's bytes become the data field
    Compare,  // the data field is compared with the host's bytes (the scans)
    Format,   // the host's 4 bytes become the ID; the data field is filled
};

// Where a data command's bytes flow between the FIFO and the host.
enum class HostData : uint8_t { None, ToHost, FromHost };

// Which counter ends a data command.
enum class Stop : uint8_t {
    None,         // READ ID: one ID
    Tc,           // the host's count (TC); running past EOT first is an error (EN)
    Eot,          // EOT is its normal end (the scans; a hit ends them too)
    EotOrEc,      // VERIFY: EOT, or with EC set its sector count (SC, in the DTL byte)
    SectorCount,  // FORMAT: SC sectors, then the rest of the track
};

// How a data command moves from one sector to the next.
enum class Next : uint8_t {
    None,      // READ ID
    R,         // R + 1; at EOT the other head (MT) or the next cylinder
    Stp,       // R + STP, STP being the low 2 bits of the DTL byte (the scans)
    Physical,  // the next sector in physical order, whatever its ID (FORMAT)
};

// The cylinder a data command works on.
enum class Cylinder : uint8_t {
    Head,  // the one under the head (FORMAT, READ ID: no C)
    C,     // the one its C names: an implied seek goes there first
};

// The data address mark a data command reads or writes.
enum class Mark : uint8_t { Normal, Deleted };

// A scan's test of one disk byte against the host's (0xFF from the host matches anything).
using ScanTest = bool (*)(uint8_t disk, uint8_t host);
using CommandHandler = void (Fdc82077::*)();

struct CommandInfo {
    Command command;
    const char *name;
    uint8_t code, mask;  // recognised when (opcode & mask) == code
    uint8_t in_bytes;    // including the opcode
    uint8_t out_bytes;   // result bytes (0: none, e.g. SEEK)
    CommandHandler run;  // runs it once its last byte is in
    // Data commands; the others keep the defaults.
    Search search = Search::None;
    SectorOp op = SectorOp::None;
    Stop stop = Stop::None;
    Next next = Next::None;
    Cylinder cylinder = Cylinder::Head;
    Mark mark = Mark::Normal;
    ScanTest scan = nullptr;  // the scans' condition

    constexpr bool data_command() const { return search != Search::None; }
    constexpr bool starts_at_index() const {
        return search == Search::Track || search == Search::Index;
    }
    constexpr HostData host() const {
        switch (op) {
            case SectorOp::Read:
                return HostData::ToHost;
            case SectorOp::Write:
            case SectorOp::Compare:
            case SectorOp::Format:
                return HostData::FromHost;
            default:
                return HostData::None;
        }
    }
    constexpr bool writes() const { return op == SectorOp::Write || op == SectorOp::Format; }
};

// The row for an opcode; an opcode no command claims gives the Invalid row (1 in, 1 out).
const CommandInfo &decode_command(uint8_t opcode);
const CommandInfo &command_info(Command command);

inline constexpr uint8_t kMaxCommandBytes = 9;
inline constexpr uint8_t kMaxResultBytes = 10;

}  // namespace fdplug::floppy
