// One floppy drive: its mechanics (head position, motor and spindle, head load), the
// disk-change latch, write protect, and the medium in it. The controller talks to a drive the
// way the 82077AA talks to the drive cable: step pulses, motor and select lines, and the
// TRK0 / WP / INDEX / DSKCHG signals back; the medium is read sector by sector.
#pragma once

#include <cstdint>
#include <memory>

#include "hw/block/fdc/fdc_state.h"
#include "hw/block/fdc/fdc_timing.h"
#include "hw/block/media/disk_image.h"
#include "hw/block/media/floppy_geometry.h"

namespace fdplug::floppy {

// The logical cylinder a head at `head_cylinder` of a `type` drive reads on a medium of
// `geometry`, or -1 off the medium (FloppyDrive::logical_cylinder()).
int logical_cylinder(const Geometry &geometry, DriveType type, unsigned head_cylinder);

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
    bool disk_changed() const { return m_.changed; }
    bool write_protected() const { return !media_ || media_->read_only(); }
    bool track0() const { return m_.cylinder == 0; }
    unsigned cylinder() const { return m_.cylinder; }

    // One step pulse; `inward` moves towards higher cylinders. The head stops at its end stops.
    // A pulse with a disk present clears the disk-change latch.
    void step(bool inward, int64_t now);
    // Last time a step pulse moved the head (for the settle time).
    int64_t last_step_ns() const { return m_.last_step; }

    // Motor line. The spindle reaches speed spin_up_ns after the motor is switched on.
    void set_motor(bool on, int64_t now);
    bool motor_on() const { return m_.motor_on; }
    // Time from which the disk turns at speed, or kNever when the motor is off or there is no
    // disk. Index pulses happen at at_speed_ns() + n × revolution.
    int64_t at_speed_ns() const;
    // The INDEX line: a pulse of index_pulse_ns at the start of every revolution.
    bool index_pulse(int64_t now) const;

    // Head load: loaded until `head_unload_at`; a command that finds it unloaded waits HLT.
    bool head_loaded(int64_t now) const { return now < m_.head_unload_at; }
    void load_head_until(int64_t t) { m_.head_unload_at = t; }
    void unload_head() { m_.head_unload_at = kLongAgo; }

    // The logical cylinder recorded on the track under the head, or -1 when the head is on a
    // track the medium does not have. A 40-track medium in an 80-track drive occupies every
    // other track (double stepping, docs/hardware/media.md §3).
    int logical_cylinder() const;
    bool double_stepped() const;

    // For the fast policy: which sector READ ID reported last, so that consecutive READ IDs
    // count up like a turning disk.
    uint8_t last_read_id() const { return m_.last_read_id; }
    void set_last_read_id(uint8_t r) { m_.last_read_id = r; }

    // The moving parts and latches as one plain struct (fdc_state.h), for save and restore.
    // Instants are absolute here; Fdc82077 converts them.
    const DriveMechanics &mechanics() const { return m_; }
    void set_mechanics(const DriveMechanics &m) { m_ = m; }

  private:
    DriveType type_ = DriveType::None;
    DriveProfile profile_{};
    std::unique_ptr<DiskImage> media_;
    DriveMechanics m_{};
};

}  // namespace fdplug::floppy
