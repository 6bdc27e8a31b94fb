#include "hw/rtc/mc146818.h"

#include <ctime>

#include "hw/isa/isa_bus.h"

namespace fdplug {

namespace {
constexpr uint8_t kRegBBinary = 0x04, kRegB24h = 0x02;
// Time-of-day registers: which struct tm field each one shows.
enum Field {
    kSec = 0x00,
    kMin = 0x02,
    kHour = 0x04,
    kWday = 0x06,
    kMday = 0x07,
    kMon = 0x08,
    kYear = 0x09
};
}  // namespace

CmosRtc::CmosRtc(TimeSource now) : now_(std::move(now)) {
    ram_[kRegA] = 0x26;  // 32.768 kHz time base, 1.024 kHz periodic rate
    ram_[kRegB] = kRegB24h;
    ram_[kRegD] = 0x80;  // RAM and time valid
}

void CmosRtc::attach(IsaBus &bus) {
    PortHandler h;
    h.native_sizes = 1;
    h.split_sizes = 2;
    h.read = [this](uint16_t off, unsigned) -> uint32_t { return off ? read_data() : 0xFF; };
    h.write = [this](uint16_t off, uint32_t v, unsigned) {
        if (off)
            write_data(uint8_t(v));
        else
            write_index(uint8_t(v));
    };
    bus.add_region(0x70, 2, std::move(h), "rtc", nullptr);
}

int64_t CmosRtc::seconds_now() const {
    return now_() / 1'000'000'000 + offset_s_;
}

uint8_t CmosRtc::encode(unsigned v) const {
    return (ram_[kRegB] & kRegBBinary) ? uint8_t(v) : uint8_t(((v / 10) << 4) | (v % 10));
}

unsigned CmosRtc::decode(uint8_t v) const {
    return (ram_[kRegB] & kRegBBinary) ? v : unsigned((v >> 4) * 10 + (v & 15));
}

uint8_t CmosRtc::read_data() {
    const time_t t = time_t(seconds_now());
    struct tm tm {};
    gmtime_r(&t, &tm);
    switch (index_) {
        case kSec:
            return encode(unsigned(tm.tm_sec));
        case kMin:
            return encode(unsigned(tm.tm_min));
        case kHour:
            if (ram_[kRegB] & kRegB24h) return encode(unsigned(tm.tm_hour));
            return uint8_t(encode(unsigned(tm.tm_hour % 12 ? tm.tm_hour % 12 : 12)) |
                           (tm.tm_hour >= 12 ? 0x80 : 0));
        case kWday:
            return encode(unsigned(tm.tm_wday + 1));
        case kMday:
            return encode(unsigned(tm.tm_mday));
        case kMon:
            return encode(unsigned(tm.tm_mon + 1));
        case kYear:
            return encode(unsigned(tm.tm_year % 100));
        case kCentury:
            return encode(unsigned((tm.tm_year + 1900) / 100));
        case kRegA:
            return ram_[kRegA] & 0x7F;  // UIP never observed: updates are instantaneous
        case kRegC: {
            const uint8_t v = ram_[kRegC];
            ram_[kRegC] = 0;  // reading C acknowledges the interrupt flags
            return v;
        }
        default:
            return ram_[index_];
    }
}

void CmosRtc::write_data(uint8_t value) {
    const time_t t = time_t(seconds_now());
    struct tm tm {};
    gmtime_r(&t, &tm);
    const int v = int(decode(value));
    switch (index_) {
        case kSec:
            tm.tm_sec = v;
            break;
        case kMin:
            tm.tm_min = v;
            break;
        case kHour:
            if (ram_[kRegB] & kRegB24h)
                tm.tm_hour = v;
            else
                tm.tm_hour = int(decode(value & 0x7F)) % 12 + ((value & 0x80) ? 12 : 0);
            break;
        case kMday:
            tm.tm_mday = v;
            break;
        case kMon:
            tm.tm_mon = v - 1;
            break;
        case kYear:
            tm.tm_year = (tm.tm_year / 100) * 100 + v;
            break;
        case kCentury:
            tm.tm_year = v * 100 + tm.tm_year % 100 - 1900;
            break;
        case kRegC:
        case kRegD:
            return;  // read-only
        default:
            ram_[index_] = value;
            return;
    }
    offset_s_ += int64_t(timegm(&tm)) - int64_t(t);
}

}  // namespace fdplug
