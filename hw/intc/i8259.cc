#include "hw/intc/i8259.h"

#include "hw/isa/isa_bus.h"

namespace fdplug {

void I8259::reset() {
    const uint8_t keep_elcr = elcr;
    *this = I8259{};
    elcr = keep_elcr;
}

int I8259::highest(uint8_t bits) const {
    if (!bits) return -1;
    for (unsigned i = 1; i <= 8; ++i) {  // priority order starts after the lowest-priority pin
        const unsigned pin = (lowest_priority_ + i) & 7;
        if (bits & (1u << pin)) return int(pin);
    }
    return -1;
}

int I8259::pending() const {
    const int req = highest(irr_ & ~imr_);
    if (req < 0) return -1;
    uint8_t in_service = isr_;
    if (special_mask_) in_service &= ~imr_;
    // A request is delivered only if it outranks everything in service; in slave-attached
    // (special fully nested would also allow equal) mode the cascade pin is treated normally.
    const int svc = highest(in_service);
    if (svc < 0) return req;
    const unsigned rank_req = (unsigned(req) - lowest_priority_ - 1) & 7;
    const unsigned rank_svc = (unsigned(svc) - lowest_priority_ - 1) & 7;
    return rank_req < rank_svc ? req : -1;
}

void I8259::set_input(unsigned pin, bool level) {
    const uint8_t bit = uint8_t(1u << (pin & 7));
    const bool was = levels_ & bit;
    if (level)
        levels_ |= bit;
    else
        levels_ &= ~bit;
    const bool level_triggered = level_mode_ || (elcr & bit);
    if (level_triggered) {
        if (level)
            irr_ |= bit;
        else
            irr_ &= ~bit;
    } else if (level && !was) {
        irr_ |= bit;  // rising edge
    } else if (!level) {
        irr_ &= ~bit;  // a request withdrawn before INTA is lost on real parts too
    }
}

unsigned I8259::acknowledge() {
    const int pin = pending();
    if (pin < 0) return 7;  // spurious
    const uint8_t bit = uint8_t(1u << pin);
    if (!(level_mode_ || (elcr & bit))) irr_ &= ~bit;
    if (auto_eoi_) {
        if (rotate_aeoi_) lowest_priority_ = uint8_t(pin);
    } else {
        isr_ |= bit;
    }
    // A level-triggered line still high stays requested.
    if ((level_mode_ || (elcr & bit)) && !(levels_ & bit)) irr_ &= ~bit;
    return unsigned(pin);
}

void I8259::eoi(int pin) {
    if (pin >= 0) isr_ &= uint8_t(~(1u << pin));
}

uint8_t I8259::read(unsigned a0) {
    if (poll_) {  // poll command: acknowledge and report like INTA
        poll_ = false;
        const int pin = pending();
        if (pin < 0) return 0;
        acknowledge();
        return uint8_t(0x80 | pin);
    }
    if (a0 & 1) return imr_;
    return read_isr_ ? isr_ : irr_;
}

void I8259::write(unsigned a0, uint8_t v) {
    if (!(a0 & 1)) {
        if (v & 0x10) {  // ICW1
            const uint8_t keep_elcr = elcr;
            *this = I8259{};
            elcr = keep_elcr;
            imr_ = 0;
            need_icw4_ = v & 0x01;
            single_ = v & 0x02;
            level_mode_ = v & 0x08;
            init_step_ = 2;
        } else if (v & 0x08) {  // OCW3
            if (v & 0x02) read_isr_ = v & 0x01;
            poll_ = v & 0x04;
            if (v & 0x40) special_mask_ = v & 0x20;
        } else {  // OCW2
            const unsigned cmd = v >> 5, level = v & 7;
            switch (cmd) {
                case 0:
                    rotate_aeoi_ = false;
                    break;
                case 4:
                    rotate_aeoi_ = true;
                    break;
                case 1:
                    eoi(highest(isr_));
                    break;  // non-specific EOI
                case 3:
                    eoi(int(level));
                    break;  // specific EOI
                case 5: {   // rotate on non-specific
                    const int pin = highest(isr_);
                    eoi(pin);
                    if (pin >= 0) lowest_priority_ = uint8_t(pin);
                    break;
                }
                case 6:
                    lowest_priority_ = uint8_t(level);
                    break;  // set priority
                case 7:
                    eoi(int(level));
                    lowest_priority_ = uint8_t(level);
                    break;
                default:
                    break;
            }
        }
        return;
    }
    switch (init_step_) {
        case 2:
            icw2_ = v;
            init_step_ = single_ ? (need_icw4_ ? 4 : 0) : 3;
            break;
        case 3:
            icw3_ = v;
            init_step_ = need_icw4_ ? 4 : 0;
            break;
        case 4:
            auto_eoi_ = v & 0x02;
            init_step_ = 0;
            break;
        default:
            imr_ = v;  // OCW1
            break;
    }
}

PicPair::PicPair() {
    reset();
}

void PicPair::reset() {
    master_.reset();
    slave_.reset();
    // Firmware leaves the pair initialised: vectors 0x08/0x70, slave on master pin 2.
    master_.write(0, 0x11);
    master_.write(1, 0x08);
    master_.write(1, 0x04);
    master_.write(1, 0x01);
    slave_.write(0, 0x11);
    slave_.write(1, 0x70);
    slave_.write(1, 0x02);
    slave_.write(1, 0x01);
    for (unsigned line = 0; line < 16; ++line) {
        I8259 &pic = line < 8 ? master_ : slave_;
        pic.set_input(line & 7, line_level(line));
    }
    update();
}

I8259::Registers I8259::registers() const {
    return {irr_,
            isr_,
            imr_,
            levels_,
            icw2_,
            icw3_,
            lowest_priority_,
            elcr,
            single_,
            need_icw4_,
            auto_eoi_,
            level_mode_,
            read_isr_,
            poll_,
            special_mask_,
            rotate_aeoi_,
            uint8_t(init_step_)};
}

void I8259::set_registers(const Registers &r) {
    irr_ = r.irr;
    isr_ = r.isr;
    imr_ = r.imr;
    levels_ = r.levels;
    icw2_ = r.icw2;
    icw3_ = r.icw3;
    lowest_priority_ = r.lowest_priority;
    elcr = r.elcr;
    single_ = r.single;
    need_icw4_ = r.need_icw4;
    auto_eoi_ = r.auto_eoi;
    level_mode_ = r.level_mode;
    read_isr_ = r.read_isr;
    poll_ = r.poll;
    special_mask_ = r.special_mask;
    rotate_aeoi_ = r.rotate_aeoi;
    init_step_ = r.init_step;
}

void PicPair::set_registers(const Registers &r) {
    master_.set_registers(r.master);
    slave_.set_registers(r.slave);
    lines_ = r.lines;
    update();
}

void PicPair::attach(IsaBus &bus) {
    auto region = [&](uint16_t base, I8259 &pic, const char *name) {
        PortHandler h;
        h.native_sizes = 1;
        h.split_sizes = 2;
        h.read = [&pic](uint16_t off, unsigned) -> uint32_t { return pic.read(off); };
        h.write = [this, &pic](uint16_t off, uint32_t v, unsigned) {
            pic.write(off, uint8_t(v));
            update();
        };
        bus.add_region(base, 2, std::move(h), name, nullptr);
    };
    region(0x20, master_, "pic-master");
    region(0xA0, slave_, "pic-slave");
    PortHandler elcr;
    elcr.native_sizes = 1;
    elcr.split_sizes = 2;
    elcr.read = [this](uint16_t off, unsigned) -> uint32_t {
        return off ? slave_.elcr : master_.elcr;
    };
    elcr.write = [this](uint16_t off, uint32_t v, unsigned) {
        // IRQ 0, 1, 2, 8 and 13 are always edge-triggered on a PC.
        if (off)
            slave_.elcr = uint8_t(v & 0xDE);
        else
            master_.elcr = uint8_t(v & 0xF8);
        update();
    };
    bus.add_region(0x4D0, 2, std::move(elcr), "elcr", nullptr);
}

void PicPair::set_irq(unsigned line, bool level) {
    line &= 15;
    if (level)
        lines_ |= uint16_t(1u << line);
    else
        lines_ &= uint16_t(~(1u << line));
    (line < 8 ? master_ : slave_).set_input(line & 7, level);
    update();
}

void PicPair::update() {
    master_.set_input(2, slave_.intr());
    const bool now = master_.intr();
    if (now != intr_) {
        intr_ = now;
        if (on_intr) on_intr(now);
    }
}

uint8_t PicPair::acknowledge() {
    const unsigned pin = master_.acknowledge();
    uint8_t vector;
    if (pin == 2) {  // the cascade input: the slave supplies the vector
        const unsigned spin = slave_.acknowledge();
        vector = uint8_t(slave_.vector_base() + spin);
    } else {
        vector = uint8_t(master_.vector_base() + pin);
    }
    update();
    return vector;
}

}  // namespace fdplug
