#include "hw/block/fdc/fdc_commands.h"

#include <algorithm>
#include <array>

#include "hw/block/fdc/fdc82077.h"

namespace fdplug::floppy {

namespace {
bool scan_equal(uint8_t disk, uint8_t host) {
    return disk == host;
}
bool scan_low(uint8_t disk, uint8_t host) {
    return disk <= host;
}
bool scan_high(uint8_t disk, uint8_t host) {
    return disk >= host;
}
}  // namespace

// Fdc82077 lets this table name its handlers.
struct CommandTable {
    using F = Fdc82077;
    using Cmd = Command;
    using Cylinder::Head, Cylinder::C;
    using Mark::Normal, Mark::Deleted;
    using Next::R, Next::Stp, Next::Physical;
    using Search::Id, Search::AnyId, Search::Track, Search::Index;
    using SectorOp::Read, SectorOp::Verify, SectorOp::Write, SectorOp::Compare, SectorOp::Format;
    using Stop::Tc, Stop::Eot, Stop::EotOrEc, Stop::SectorCount;

    // Masks follow QEMU's decoding where the datasheet does not say whether bits are don't-care
    // (docs/hardware/82077aa.md §5.4): MT/MFM/SK ignored for reads, MT/MFM for writes (which
    // also lets BeOS's WRITE-with-SK through), MFM for READ TRACK/FORMAT/READ ID.
    // clang-format off
    static constexpr std::array<CommandInfo, kCommandCount> kRows = {{
        // command             name                      code  mask in out
        //   handler             search op       stop         next      cylinder mark scan
        {Cmd::ReadData,        "READ DATA",              0x06, 0x1F, 9, 7,
             &F::cmd_read_write, Id,    Read,    Tc,          R,        C,    Normal},
        {Cmd::ReadDeleted,     "READ DELETED DATA",      0x0C, 0x1F, 9, 7,
             &F::cmd_read_write, Id,    Read,    Tc,          R,        C,    Deleted},
        {Cmd::WriteData,       "WRITE DATA",             0x05, 0x1F, 9, 7,
             &F::cmd_read_write, Id,    Write,   Tc,          R,        C,    Normal},
        {Cmd::WriteDeleted,    "WRITE DELETED DATA",     0x09, 0x3F, 9, 7,
             &F::cmd_read_write, Id,    Write,   Tc,          R,        C,    Deleted},
        {Cmd::ReadTrack,       "READ TRACK",             0x02, 0xBF, 9, 7,
             &F::cmd_read_write, Track, Read,    Tc,          R,        C,    Normal},
        {Cmd::Verify,          "VERIFY",                 0x16, 0x1F, 9, 7,
             &F::cmd_read_write, Id,    Verify,  EotOrEc,     R,        C,    Normal},
        {Cmd::ScanEqual,       "SCAN EQUAL",             0x11, 0x1F, 9, 7,
             &F::cmd_read_write, Id,    Compare, Eot,         Stp,      C,    Normal, scan_equal},
        {Cmd::ScanLowOrEqual,  "SCAN LOW OR EQUAL",      0x19, 0x1F, 9, 7,
             &F::cmd_read_write, Id,    Compare, Eot,         Stp,      C,    Normal, scan_low},
        {Cmd::ScanHighOrEqual, "SCAN HIGH OR EQUAL",     0x1D, 0x1F, 9, 7,
             &F::cmd_read_write, Id,    Compare, Eot,         Stp,      C,    Normal, scan_high},
        {Cmd::Format,          "FORMAT TRACK",           0x0D, 0xBF, 6, 7,
             &F::cmd_format,     Index, Format,  SectorCount, Physical, Head, Normal},
        {Cmd::ReadId,          "READ ID",                0x0A, 0xBF, 2, 7,
             &F::cmd_read_id,    AnyId},
        {Cmd::Recalibrate,     "RECALIBRATE",            0x07, 0xFF, 2, 0, &F::cmd_recalibrate},
        {Cmd::Seek,            "SEEK",                   0x0F, 0xFF, 3, 0, &F::cmd_seek},
        {Cmd::RelativeSeek,    "RELATIVE SEEK",          0x8F, 0xBF, 3, 0, &F::cmd_relative_seek},
        {Cmd::SenseInterrupt,  "SENSE INTERRUPT STATUS", 0x08, 0xFF, 1, 2, &F::cmd_sense_interrupt},
        {Cmd::Specify,         "SPECIFY",                0x03, 0xFF, 3, 0, &F::cmd_specify},
        {Cmd::SenseDrive,      "SENSE DRIVE STATUS",     0x04, 0xFF, 2, 1, &F::cmd_sense_drive},
        {Cmd::Configure,       "CONFIGURE",              0x13, 0xFF, 4, 0, &F::cmd_configure},
        {Cmd::Dumpreg,         "DUMPREG",                0x0E, 0xFF, 1, 10, &F::cmd_dumpreg},
        {Cmd::Version,         "VERSION",                0x10, 0xFF, 1, 1, &F::cmd_version},
        {Cmd::Lock,            "LOCK",                   0x14, 0x7F, 1, 1, &F::cmd_lock},
        {Cmd::Perpendicular,   "PERPENDICULAR MODE",     0x12, 0xFF, 2, 0, &F::cmd_perpendicular},
        // Mask 0 matches every opcode: the last row takes what no row above claims.
        {Cmd::Invalid,         "INVALID",                0x00, 0x00, 1, 1, &F::cmd_invalid},
    }};
    // clang-format on
};

namespace {
constexpr const auto &kRows = CommandTable::kRows;

// Row i is Command i: every command has exactly one row, and a Command indexes its row.
constexpr bool rows_in_enum_order() {
    for (size_t i = 0; i < kRows.size(); ++i)
        if (kRows[i].command != static_cast<Command>(i)) return false;
    return true;
}
static_assert(rows_in_enum_order(), "one row per Command, in the order of enum Command");

// The traits agree with each other.
constexpr bool rows_consistent() {
    for (const CommandInfo &c : kRows) {
        if (c.data_command() && c.out_bytes != 7) return false;  // ST0 ST1 ST2 C H R N
        if ((c.op == SectorOp::Compare) != (c.scan != nullptr)) return false;
        if ((c.next == Next::Stp) != (c.scan != nullptr)) return false;  // only scans step by STP
    }
    return true;
}
static_assert(rows_consistent());

// 256 opcodes → row, built once at compile time: the first row whose mask and code match.
constexpr std::array<uint8_t, 256> build_index() {
    std::array<uint8_t, 256> index{};
    for (unsigned op = 0; op < 256; ++op) {
        unsigned i = 0;
        while ((op & kRows[i].mask) != kRows[i].code) ++i;
        index[op] = uint8_t(i);
    }
    return index;
}
constexpr auto kIndex = build_index();
}  // namespace

const CommandInfo &decode_command(uint8_t opcode) {
    return kRows[kIndex[opcode]];
}

const CommandInfo &command_info(Command command) {
    return kRows[std::min(static_cast<size_t>(command), kRows.size() - 1)];  // else Invalid
}

}  // namespace fdplug::floppy
