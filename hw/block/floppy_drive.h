// One floppy drive: its mechanics (head position, motor and spindle, head load), the
// disk-change latch, write protect, and the medium in it. The controller talks to a drive the
// way the 82077AA talks to the drive cable: step pulses, motor and select lines, and the
// TRK0 / WP / INDEX / DSKCHG signals back; the medium is read sector by sector.
#pragma once

#include <cstdint>
#include <memory>

#include "hw/block/fdc_timing.h"
#include "hw/block/media/disk_image.h"
#include "hw/block/media/floppy_geometry.h"

namespace fdplug::floppy {

class FloppyDrive {
public:
    FloppyDrive() = default;

    // Cable: a drive of this type is (or, with DriveType::None, is not) connected.
    void connect(DriveType type, DriveProfile profile = {});
    DriveType type() const { return type_; }
    bool present() const { return type_ != DriveType::None; }
    const DriveProfile &profile() const { return profile_; }

    // Media. insert() and eject() set the disk-change latch.
    void insert(std::unique_ptr<DiskImage> media);
    std::unique_ptr<DiskImage> eject();
    DiskImage *media() { return media_.get(); }
    const DiskImage *media() const { return media_.get(); }
    bool has_media() const { return media_ != nullptr; }

    // Signals.
    bool disk_changed() const { return changed_; }
    bool write_protected() const { return !media_ || media_->read_only(); }
    bool track0() const { return cylinder_ == 0; }
    unsigned cylinder() const { return cylinder_; }

    // One step pulse; `inward` moves towards higher cylinders. The head stops at its end stops.
    // A pulse with a disk present clears the disk-change latch.
    void step(bool inward, int64_t now);
    // Last time a step pulse moved the head (for the settle time).
    int64_t last_step_ns() const { return last_step_ns_; }

    // Motor line. The spindle reaches speed spin_up_ns after the motor is switched on.
    void set_motor(bool on, int64_t now);
    bool motor_on() const { return motor_on_; }
    // Time from which the disk turns at speed, or kNever when the motor is off or there is no
    // disk. Index pulses happen at at_speed_ns() + n × revolution.
    int64_t at_speed_ns() const;
    // The INDEX line: a pulse of index_pulse_ns at the start of every revolution.
    bool index_pulse(int64_t now) const;

    // Head load: loaded until `head_unload_at`; a command that finds it unloaded waits HLT.
    bool head_loaded(int64_t now) const { return now < head_unload_at_; }
    void load_head_until(int64_t t) { head_unload_at_ = t; }
    void unload_head() { head_unload_at_ = INT64_MIN; }

    // The logical cylinder recorded on the track under the head, or -1 when the head is on a
    // track the medium does not have. A 40-track medium in an 80-track drive occupies every
    // other track (double stepping, geometry.md §3).
    int logical_cylinder() const;
    bool double_stepped() const;

    // For the fast policy: which sector READ ID reported last, so that consecutive READ IDs
    // count up like a turning disk.
    uint8_t last_read_id = 0;

    // Power on: head position unknown in a real drive; fdplug starts it at track 0, change
    // latch set, motor off.
    void power_on();

private:
    DriveType type_ = DriveType::None;
    DriveProfile profile_{};
    std::unique_ptr<DiskImage> media_;
    bool changed_ = true;
    uint8_t cylinder_ = 0;
    bool motor_on_ = false;
    int64_t motor_on_since_ = 0;
    int64_t last_step_ns_ = INT64_MIN / 2;
    int64_t head_unload_at_ = INT64_MIN;
};

}  // namespace fdplug::floppy
