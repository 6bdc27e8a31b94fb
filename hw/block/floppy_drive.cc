#include "hw/block/floppy_drive.h"

#include "hw/block/media/floppy_formats.h"

namespace fdplug::floppy {

void FloppyDrive::connect(DriveType type, DriveProfile profile) {
    type_ = type;
    profile_ = profile;
    if (form_factor(type) == FormFactor::Inch525 && profile_.spin_up_ns == DriveProfile{}.spin_up_ns)
        profile_.spin_up_ns = 500 * kNsPerMs;  // 5.25" spindles are heavier (timing.md §6)
}

void FloppyDrive::power_on() {
    changed_ = true;
    cylinder_ = 0;
    motor_on_ = false;
    last_step_ns_ = INT64_MIN / 2;
    head_unload_at_ = INT64_MIN;
    last_read_id = 0;
}

void FloppyDrive::insert(std::unique_ptr<DiskImage> media) {
    media_ = std::move(media);
    changed_ = true;
    last_read_id = 0;
}

std::unique_ptr<DiskImage> FloppyDrive::eject() {
    changed_ = true;
    head_unload_at_ = INT64_MIN;
    return std::move(media_);
}

void FloppyDrive::step(bool inward, int64_t now) {
    if (!present()) return;
    const unsigned limit = max_cylinder(type_);
    if (inward && cylinder_ < limit) ++cylinder_;
    if (!inward && cylinder_ > 0) --cylinder_;
    last_step_ns_ = now;
    if (media_) changed_ = false;
}

void FloppyDrive::set_motor(bool on, int64_t now) {
    if (on && !motor_on_) motor_on_since_ = now;
    motor_on_ = on;
}

int64_t FloppyDrive::at_speed_ns() const {
    if (!present() || !motor_on_ || !media_) return kNever;
    return motor_on_since_ + profile_.spin_up_ns;
}

bool FloppyDrive::index_pulse(int64_t now) const {
    const int64_t origin = at_speed_ns();
    if (origin == kNever || now < origin) return false;  // no rotation, no pulses (timing.md §4)
    return (now - origin) % revolution_ns(media_->geometry().rpm) < profile_.index_pulse_ns;
}

bool FloppyDrive::double_stepped() const {
    return media_ && media_->geometry().cylinders <= 42 && max_cylinder(type_) >= 80;
}

int FloppyDrive::logical_cylinder() const {
    if (!media_) return -1;
    const int c = double_stepped() ? cylinder_ / 2 : cylinder_;
    return c < media_->geometry().cylinders ? c : -1;
}

}  // namespace fdplug::floppy
