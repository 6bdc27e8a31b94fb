// The PC's two cascaded Intel 8259A interrupt controllers (slave on master input 2) with the
// edge/level control registers. The reference host has no CPU, so INTR is an observable output
// and acknowledge() performs the INTA cycle a CPU would.
#pragma once

#include <array>
#include <cstdint>
#include <functional>

namespace fdplug {

class IsaBus;

class I8259 {
  public:
    void reset();
    void set_input(unsigned pin, bool level);
    bool intr() const { return pending() >= 0; }
    // INTA: highest-priority request → in service; returns its pin (or 7: spurious).
    unsigned acknowledge();
    uint8_t vector_base() const { return icw2_ & 0xF8; }
    uint8_t read(unsigned a0);
    void write(unsigned a0, uint8_t value);

    uint8_t irr() const { return irr_; }
    uint8_t isr() const { return isr_; }
    uint8_t imr() const { return imr_; }
    uint8_t elcr = 0;  // bit n: pin n is level-triggered

    // Every register and latch, for saving and restoring a machine (system/machine_state.cc).
    struct Registers {
        uint8_t irr = 0, isr = 0, imr = 0xFF, levels = 0, icw2 = 0, icw3 = 0, lowest_priority = 7,
                elcr = 0;
        bool single = false, need_icw4 = false, auto_eoi = false, level_mode = false;
        bool read_isr = false, poll = false, special_mask = false, rotate_aeoi = false;
        uint8_t init_step = 0;  // 0, or 2..4
    };
    Registers registers() const;
    void set_registers(const Registers &r);

  private:
    int pending() const;  // pin that would be delivered, or -1
    int highest(uint8_t bits) const;
    void eoi(int pin);

    uint8_t irr_ = 0, isr_ = 0, imr_ = 0xFF, levels_ = 0;
    uint8_t icw2_ = 0, icw3_ = 0;
    uint8_t lowest_priority_ = 7;
    bool single_ = false, need_icw4_ = false, auto_eoi_ = false, level_mode_ = false;
    bool read_isr_ = false, poll_ = false, special_mask_ = false, rotate_aeoi_ = false;
    unsigned init_step_ = 0;  // 0: ready; 2..4: expecting ICW2..ICW4
};

class PicPair {
  public:
    PicPair();
    void attach(IsaBus &bus);
    void reset();
    // ISA IRQ line 0..15 (level).
    void set_irq(unsigned line, bool level);
    bool line_level(unsigned line) const { return lines_ & (1u << (line & 15)); }
    // INTA cycle: returns the vector the CPU would read.
    uint8_t acknowledge();
    bool intr() const { return master_.intr(); }
    std::function<void(bool)> on_intr;

    I8259 &master() { return master_; }
    I8259 &slave() { return slave_; }

    // Both controllers and the input lines, for saving and restoring a machine. Restoring
    // recomputes INTR (and calls on_intr if it changes).
    struct Registers {
        I8259::Registers master, slave;
        uint16_t lines = 0;
    };
    Registers registers() const { return {master_.registers(), slave_.registers(), lines_}; }
    void set_registers(const Registers &r);

  private:
    void update();

    I8259 master_, slave_;
    uint16_t lines_ = 0;
    bool intr_ = false;
};

}  // namespace fdplug
