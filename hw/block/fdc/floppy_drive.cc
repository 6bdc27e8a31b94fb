#include "hw/block/fdc/floppy_drive.h"

#include "hw/block/media/floppy_formats.h"

namespace fdplug::floppy {

void FloppyDrive::connect(DriveType type, DriveProfile profile) {
    type_ = type;
    profile_ = profile;
    if (form_factor(type) == FormFactor::Inch525 &&
        profile_.spin_up_ns == DriveProfile{}.spin_up_ns)
        profile_.spin_up_ns =
            500 * kNsPerMs;  // 5.25" spindles are heavier (docs/hardware/timing.md §6)
}

void FloppyDrive::insert(std::unique_ptr<DiskImage> media) {
    media_ = std::move(media);
    m_.changed = true;
    m_.last_read_id = 0;
}

std::unique_ptr<DiskImage> FloppyDrive::eject() {
    m_.changed = true;
    m_.head_unload_at = kLongAgo;
    return std::move(media_);
}

void FloppyDrive::step(bool inward, int64_t now) {
    if (!present()) return;
    const unsigned limit = max_cylinder(type_);
    if (inward && m_.cylinder < limit) ++m_.cylinder;
    if (!inward && m_.cylinder > 0) --m_.cylinder;
    m_.last_step = now;
    if (media_) m_.changed = false;
}

void FloppyDrive::set_motor(bool on, int64_t now) {
    if (on && !m_.motor_on) m_.motor_on_since = now;
    m_.motor_on = on;
}

int64_t FloppyDrive::at_speed_ns() const {
    if (!present() || !m_.motor_on || !media_) return kNever;
    return m_.motor_on_since + profile_.spin_up_ns;
}

bool FloppyDrive::index_pulse(int64_t now) const {
    const int64_t origin = at_speed_ns();
    if (origin == kNever || now < origin)
        return false;  // no rotation, no pulses (docs/hardware/timing.md §4)
    return (now - origin) % revolution_ns(media_->geometry().rpm) < profile_.index_pulse_ns;
}

namespace {
bool double_stepped(const Geometry &g, DriveType type) {
    return g.cylinders <= 42 && max_cylinder(type) >= 80;
}
}  // namespace

int logical_cylinder(const Geometry &g, DriveType type, unsigned head_cylinder) {
    const int c = int(double_stepped(g, type) ? head_cylinder / 2 : head_cylinder);
    return c < g.cylinders ? c : -1;
}

bool FloppyDrive::double_stepped() const {
    return media_ && floppy::double_stepped(media_->geometry(), type_);
}

int FloppyDrive::logical_cylinder() const {
    if (!media_) return -1;
    return floppy::logical_cylinder(media_->geometry(), type_, m_.cylinder);
}

}  // namespace fdplug::floppy
