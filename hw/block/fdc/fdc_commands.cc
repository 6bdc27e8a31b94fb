#include "hw/block/fdc/fdc_commands.h"

#include <array>

namespace fdplug::floppy {

namespace {
// Masks follow QEMU's decoding where the datasheet does not say whether bits are don't-care
// (82077aa.md §5 "Opcode decoding"): MT/MFM/SK ignored for reads, MT/MFM for writes (which
// also lets BeOS's WRITE-with-SK through), MFM for READ TRACK/FORMAT/READ ID.
constexpr std::array kTable = {
    CommandInfo{Command::ReadData, "READ DATA", 0x06, 0x1F, 9, 7},
    CommandInfo{Command::ReadDeleted, "READ DELETED DATA", 0x0C, 0x1F, 9, 7},
    CommandInfo{Command::WriteData, "WRITE DATA", 0x05, 0x1F, 9, 7},
    CommandInfo{Command::WriteDeleted, "WRITE DELETED DATA", 0x09, 0x3F, 9, 7},
    CommandInfo{Command::ReadTrack, "READ TRACK", 0x02, 0xBF, 9, 7},
    CommandInfo{Command::Verify, "VERIFY", 0x16, 0x1F, 9, 7},
    CommandInfo{Command::ScanEqual, "SCAN EQUAL", 0x11, 0x1F, 9, 7},
    CommandInfo{Command::ScanLowOrEqual, "SCAN LOW OR EQUAL", 0x19, 0x1F, 9, 7},
    CommandInfo{Command::ScanHighOrEqual, "SCAN HIGH OR EQUAL", 0x1D, 0x1F, 9, 7},
    CommandInfo{Command::Format, "FORMAT TRACK", 0x0D, 0xBF, 6, 7},
    CommandInfo{Command::ReadId, "READ ID", 0x0A, 0xBF, 2, 7},
    CommandInfo{Command::Recalibrate, "RECALIBRATE", 0x07, 0xFF, 2, 0},
    CommandInfo{Command::Seek, "SEEK", 0x0F, 0xFF, 3, 0},
    CommandInfo{Command::RelativeSeek, "RELATIVE SEEK", 0x8F, 0xBF, 3, 0},
    CommandInfo{Command::SenseInterrupt, "SENSE INTERRUPT STATUS", 0x08, 0xFF, 1, 2},
    CommandInfo{Command::Specify, "SPECIFY", 0x03, 0xFF, 3, 0},
    CommandInfo{Command::SenseDrive, "SENSE DRIVE STATUS", 0x04, 0xFF, 2, 1},
    CommandInfo{Command::Configure, "CONFIGURE", 0x13, 0xFF, 4, 0},
    CommandInfo{Command::Dumpreg, "DUMPREG", 0x0E, 0xFF, 1, 10},
    CommandInfo{Command::Version, "VERSION", 0x10, 0xFF, 1, 1},
    CommandInfo{Command::Lock, "LOCK", 0x14, 0x7F, 1, 1},
    CommandInfo{Command::Perpendicular, "PERPENDICULAR MODE", 0x12, 0xFF, 2, 0},
};
constexpr CommandInfo kInvalid{Command::Invalid, "INVALID", 0x00, 0x00, 1, 1};

// 256 opcodes → table index, built once at compile time.
constexpr std::array<uint8_t, 256> build_index() {
    std::array<uint8_t, 256> index{};
    for (unsigned op = 0; op < 256; ++op) {
        index[op] = uint8_t(kTable.size());
        for (unsigned i = 0; i < kTable.size(); ++i) {
            if ((op & kTable[i].mask) == kTable[i].code) {
                index[op] = uint8_t(i);
                break;
            }
        }
    }
    return index;
}
constexpr auto kIndex = build_index();
}  // namespace

const CommandInfo &decode_command(uint8_t opcode) {
    const uint8_t i = kIndex[opcode];
    return i < kTable.size() ? kTable[i] : kInvalid;
}

std::span<const CommandInfo> command_table() {
    return kTable;
}

}  // namespace fdplug::floppy
