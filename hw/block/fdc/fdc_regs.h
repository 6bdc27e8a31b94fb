// The 82077AA's registers as the bus sees them: port offsets from the controller's base and the
// name of every bit of SRA, SRB, DOR, TDR, MSR, DSR, DIR, CCR and of the status bytes ST0–ST3
// that the result phase returns. Bits are named by their position; where a register has a
// personality per mode (FdcMode: PS/2, Model 30) each layout has its own group; active-low bits
// are named kNot… The status bits keep the datasheet's mnemonics (MA, ND, SE…). Header only, so
// tests that drive a controller through a host's ports (qtest, benchmarks) share these names
// without linking the core.
#pragma once

#include <cstdint>

namespace fdplug::floppy {

// Port offsets from the controller's base (+6 belongs to the hard disk controller).
enum FdcPort : uint8_t {
    kSra = 0,
    kSrb = 1,
    kDor = 2,
    kTdr = 3,
    kMsr = 4,  // read
    kDsr = 4,  // write
    kFifo = 5,
    kDir = 7,  // read
    kCcr = 7,  // write
};

// Status register A (read, +0). AT mode does not drive it.
namespace sra {
namespace ps2 {
inline constexpr uint8_t kIntPending = 0x80;
inline constexpr uint8_t kNotDrive2 = 0x40;  // a second drive is installed
inline constexpr uint8_t kStep = 0x20;
inline constexpr uint8_t kNotTrack0 = 0x10;
inline constexpr uint8_t kHeadSelect = 0x08;
inline constexpr uint8_t kNotIndex = 0x04;
inline constexpr uint8_t kNotWriteProtect = 0x02;
inline constexpr uint8_t kDirection = 0x01;
}  // namespace ps2
namespace model30 {
inline constexpr uint8_t kIntPending = 0x80;
inline constexpr uint8_t kDrq = 0x40;
inline constexpr uint8_t kStep = 0x20;  // latched step pulse
inline constexpr uint8_t kTrack0 = 0x10;
inline constexpr uint8_t kNotHeadSelect = 0x08;
inline constexpr uint8_t kIndex = 0x04;
inline constexpr uint8_t kWriteProtect = 0x02;
inline constexpr uint8_t kNotDirection = 0x01;
}  // namespace model30
}  // namespace sra

// Status register B (read, +1). AT mode does not drive it.
namespace srb {
namespace ps2 {
inline constexpr uint8_t kReserved = 0xC0;      // read as 1
inline constexpr uint8_t kDriveSelect0 = 0x20;  // DOR's drive select bit 0
inline constexpr uint8_t kWriteData = 0x10;     // toggles with each write data pulse
inline constexpr uint8_t kReadData = 0x08;      // toggles with each read data pulse
inline constexpr uint8_t kWriteGate = 0x04;
inline constexpr uint8_t kMotor1 = 0x02;
inline constexpr uint8_t kMotor0 = 0x01;
}  // namespace ps2
namespace model30 {
inline constexpr uint8_t kNotDrive2 = 0x80;  // a second drive is installed
inline constexpr uint8_t kNotSelect1 = 0x40;
inline constexpr uint8_t kNotSelect0 = 0x20;
inline constexpr uint8_t kWriteData = 0x10;  // latched
inline constexpr uint8_t kReadData = 0x08;   // latched
inline constexpr uint8_t kWriteEnable = 0x04;
inline constexpr uint8_t kNotSelect3 = 0x02;
inline constexpr uint8_t kNotSelect2 = 0x01;
}  // namespace model30
}  // namespace srb

// Digital output register (read/write, +2).
namespace dor {
inline constexpr uint8_t kMotor3 = 0x80;
inline constexpr uint8_t kMotor2 = 0x40;
inline constexpr uint8_t kMotor1 = 0x20;
inline constexpr uint8_t kMotor0 = 0x10;
inline constexpr uint8_t kDmaGate = 0x08;   // DMAGATE: INT and DRQ reach the bus (not in PS/2 mode)
inline constexpr uint8_t kNotReset = 0x04;  // RESET, active low: 0 holds the controller in reset
inline constexpr uint8_t kDriveSelect = 0x03;
constexpr uint8_t motor(unsigned unit) {
    return uint8_t(kMotor0 << (unit & 3));
}
}  // namespace dor

// Tape drive register (read/write, +3).
namespace tdr {
inline constexpr uint8_t kTapeSelect = 0x03;
inline constexpr uint8_t kUndriven = 0xFC;  // not driven: the ISA bus floats high
}  // namespace tdr

// Main status register (read, +4).
namespace msr {
inline constexpr uint8_t kRqm = 0x80;        // request for master: the FIFO is ready for a byte
inline constexpr uint8_t kDio = 0x40;        // direction: 1 = controller to host
inline constexpr uint8_t kNonDma = 0x20;     // NDM: execution phase in PIO mode
inline constexpr uint8_t kCb = 0x10;         // command busy
inline constexpr uint8_t kDriveBusy = 0x0F;  // one bit per drive: seeking, or its status unsensed
constexpr uint8_t drive_busy(unsigned unit) {
    return uint8_t(1u << (unit & 3));
}
}  // namespace msr

// Data rate select register (write, +4).
namespace dsr {
inline constexpr uint8_t kSoftwareReset = 0x80;  // clears itself
inline constexpr uint8_t kPowerDown = 0x40;
inline constexpr uint8_t kPrecomp = 0x1C;
inline constexpr uint8_t kRateSelect = 0x03;  // DataRate
}  // namespace dsr

// Digital input register (read, +7).
namespace dir {
inline constexpr uint8_t kDiskChange = 0x80;  // DSKCHG (active low in Model 30 mode)
namespace ps2 {
inline constexpr uint8_t kReserved = 0x78;        // read as 1
inline constexpr uint8_t kRateSelect = 0x06;      // DataRate, shifted left by one
inline constexpr uint8_t kNotHighDensity = 0x01;  // 0 at 500 kbit/s and 1 Mbit/s
}  // namespace ps2
namespace model30 {
inline constexpr uint8_t kDmaGate = 0x08;    // DOR's
inline constexpr uint8_t kNoPrecomp = 0x04;  // CCR's
inline constexpr uint8_t kRateSelect = 0x03;
}  // namespace model30
}  // namespace dir

// Configuration control register (write, +7).
namespace ccr {
inline constexpr uint8_t kNoPrecomp = 0x04;  // Model 30 mode
inline constexpr uint8_t kRateSelect = 0x03;
}  // namespace ccr

// Status byte 0 (SENSE INTERRUPT STATUS and every data command's result).
namespace st0 {
inline constexpr uint8_t kIc = 0xC0;  // interrupt code:
inline constexpr uint8_t kIcNormal = 0x00;
inline constexpr uint8_t kIcAbnormal = 0x40;
inline constexpr uint8_t kIcInvalid = 0x80;  // invalid command; also SIS with nothing pending
inline constexpr uint8_t kIcPolling = 0xC0;  // a drive's ready line changed (reset polling)
inline constexpr uint8_t kSe = 0x20;         // seek end
inline constexpr uint8_t kEc = 0x10;         // equipment check: track 0 not found, or past it
inline constexpr uint8_t kHead = 0x04;
inline constexpr uint8_t kUnit = 0x03;
}  // namespace st0

// Status byte 1.
namespace st1 {
inline constexpr uint8_t kEn = 0x80;  // end of cylinder: past EOT without TC
inline constexpr uint8_t kDe = 0x20;  // data error (CRC) in the ID or data field
inline constexpr uint8_t kOr = 0x10;  // overrun / underrun
inline constexpr uint8_t kNd = 0x04;  // no data: the sector was not found
inline constexpr uint8_t kNw = 0x02;  // not writable
inline constexpr uint8_t kMa = 0x01;  // missing address mark
}  // namespace st1

// Status byte 2.
namespace st2 {
inline constexpr uint8_t kCm = 0x40;  // control mark: a data mark other than the one wanted
inline constexpr uint8_t kDd = 0x20;  // data error in the data field
inline constexpr uint8_t kWc = 0x10;  // wrong cylinder
inline constexpr uint8_t kSh = 0x08;  // scan hit (equal)
inline constexpr uint8_t kSn = 0x04;  // scan not satisfied
inline constexpr uint8_t kBc = 0x02;  // bad cylinder (C = 0xFF)
inline constexpr uint8_t kMd = 0x01;  // missing data address mark
}  // namespace st2

// Status byte 3 (SENSE DRIVE STATUS).
namespace st3 {
inline constexpr uint8_t kFault = 0x80;
inline constexpr uint8_t kWp = 0x40;       // write protected
inline constexpr uint8_t kReady = 0x20;    // always 1 on a PC
inline constexpr uint8_t kT0 = 0x10;       // track 0
inline constexpr uint8_t kTwoSide = 0x08;  // always 1 on the 82077AA
inline constexpr uint8_t kHead = 0x04;
inline constexpr uint8_t kUnit = 0x03;
}  // namespace st3

}  // namespace fdplug::floppy
