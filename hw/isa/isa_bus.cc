#include "hw/isa/isa_bus.h"

#include <cstdio>

namespace fdplug {

namespace {
constexpr uint32_t all_ones(unsigned size) {
    return size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
}
constexpr bool valid_size(unsigned size) {
    return size == 1 || size == 2 || size == 4;
}

std::string hex_range(uint32_t base, uint32_t len) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%04x-0x%04x", base, base + len - 1);
    return buf;
}
}  // namespace

IsaBus::IsaBus() {
    owner_.fill(kNone);
}

std::optional<IsaBus::RegionId> IsaBus::add_region(uint16_t base, uint32_t len, PortHandler handler,
                                                   std::string name, std::string *error) {
    if (len == 0 || uint32_t(base) + len > 0x10000) {
        if (error)
            *error = "port region '" + name + "' at base " + hex_range(base, len ? len : 1) +
                     " with length " + std::to_string(len) + " does not fit the I/O space";
        return std::nullopt;
    }
    for (uint32_t p = base; p < base + len; ++p) {
        if (owner_[p] != kNone) {
            const Region &other = regions_[owner_[p]];
            if (error)
                *error = "port region '" + name + "' (" + hex_range(base, len) +
                         ") overlaps region '" + other.name + "' (" +
                         hex_range(other.base, other.len) + ")";
            return std::nullopt;
        }
    }
    if (regions_.size() >= kNone) {
        if (error) *error = "too many port regions";
        return std::nullopt;
    }
    const auto index = uint16_t(regions_.size());
    regions_.push_back(Region{base, len, std::move(handler), std::move(name), true});
    for (uint32_t p = base; p < base + len; ++p) owner_[p] = index;
    return index;
}

void IsaBus::remove_region(RegionId id) {
    if (id >= regions_.size() || !regions_[id].live) return;
    Region &r = regions_[id];
    for (uint32_t p = r.base; p < r.base + r.len; ++p) owner_[p] = kNone;
    r.live = false;
    r.handler = {};
}

uint32_t IsaBus::read_byte(uint16_t port) {
    const uint16_t i = owner_[port];
    if (i == kNone) return 0xFF;
    const Region &r = regions_[i];
    if (!(r.handler.native_sizes & 1)) return 0xFF;
    return call_read(r.handler, uint16_t(port - r.base), 1) & 0xFF;
}

void IsaBus::write_byte(uint16_t port, uint8_t value) {
    const uint16_t i = owner_[port];
    if (i == kNone) return;
    const Region &r = regions_[i];
    if (r.handler.native_sizes & 1) call_write(r.handler, uint16_t(port - r.base), value, 1);
}

// The common case first: a byte access to a port some region decodes natively.
uint32_t IsaBus::read(uint16_t port, unsigned size) {
    const uint16_t i = owner_[port];
    if (size == 1 && i != kNone) {
        const Region &r = regions_[i];
        if (r.handler.native_sizes & 1) {
            const uint32_t value = call_read(r.handler, uint16_t(port - r.base), 1) & 0xFF;
            done();
            return value;
        }
    }
    return read_other(port, size);
}

void IsaBus::write(uint16_t port, uint32_t value, unsigned size) {
    const uint16_t i = owner_[port];
    if (size == 1 && i != kNone) {
        const Region &r = regions_[i];
        if (r.handler.native_sizes & 1) {
            call_write(r.handler, uint16_t(port - r.base), value & 0xFF, 1);
            done();
            return;
        }
    }
    write_other(port, value, size);
}

uint32_t IsaBus::read_other(uint16_t port, unsigned size) {
    uint32_t value = all_ones(size);
    const uint16_t i = owner_[port];
    if (!valid_size(size) || i == kNone) {
        ++undecoded_;
    } else if (const Region &r = regions_[i];
               (r.handler.native_sizes & size) && uint32_t(port) + size <= r.base + r.len) {
        value = call_read(r.handler, uint16_t(port - r.base), size) & all_ones(size);
    } else if (r.handler.split_sizes & size) {
        value = 0;
        for (unsigned b = 0; b < size; ++b) value |= read_byte(uint16_t(port + b)) << (8 * b);
    } else {
        ++undecoded_;
    }
    done();
    return value;
}

void IsaBus::write_other(uint16_t port, uint32_t value, unsigned size) {
    const uint16_t i = owner_[port];
    if (!valid_size(size) || i == kNone) {
        ++undecoded_;
    } else if (const Region &r = regions_[i];
               (r.handler.native_sizes & size) && uint32_t(port) + size <= r.base + r.len) {
        call_write(r.handler, uint16_t(port - r.base), value & all_ones(size), size);
    } else if (r.handler.split_sizes & size) {
        for (unsigned b = 0; b < size; ++b)
            write_byte(uint16_t(port + b), uint8_t(value >> (8 * b)));
    } else {
        ++undecoded_;
    }
    done();
}

}  // namespace fdplug
