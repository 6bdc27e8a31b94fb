#include "hw/block/media/track_geometry.h"

#include <algorithm>
#include <array>

namespace fdplug::floppy {

namespace {

std::string track_name(unsigned c, unsigned h) {
    return "cylinder " + std::to_string(c) + " head " + std::to_string(h);
}

// Losses by kind, each kept once with the first track it was seen on.
class Losses {
  public:
    enum Kind {
        Missing,
        Rate,
        Fm,
        Count,
        Size,
        Ids,
        Order,
        Deleted,
        NoData,
        DataCrc,
        IdCrc,
        kKinds
    };
    void add(Kind kind, const std::string &text) {
        if (!seen_[kind]) lines_.push_back(text);
        seen_[kind] = true;
    }
    std::vector<std::string> take() { return std::move(lines_); }

  private:
    std::array<bool, kKinds> seen_{};
    std::vector<std::string> lines_;
};

DataRate most_common_rate(const TrackDisk &disk) {
    std::array<size_t, 4> votes{};
    for (unsigned c = 0; c < disk.cylinders(); ++c)
        for (unsigned h = 0; h < disk.heads(); ++h)
            if (const Track *t = disk.find(c, h)) ++votes[size_t(t->rate())];
    return DataRate(std::ranges::max_element(votes) - votes.begin());
}

// The sectors per track of most tracks (a tie: the larger count), at least 1: a copy-protected
// disk's one track of extra sectors leaves its format what the other tracks say.
size_t most_common_sector_count(const TrackDisk &disk) {
    std::array<size_t, kMaxSectorsPerTrack + 1> votes{};
    for (unsigned c = 0; c < disk.cylinders(); ++c)
        for (unsigned h = 0; h < disk.heads(); ++h)
            if (const Track *t = disk.find(c, h))
                ++votes[std::min(t->sector_count(), kMaxSectorsPerTrack)];
    size_t best = 1;
    for (size_t n = 1; n < votes.size(); ++n)
        if (votes[n] && votes[n] >= votes[best]) best = n;
    return best;
}

bool same_rate_family(const Geometry &entry, DataRate recorded) {
    if (entry.rate == recorded) return true;
    // A double-density 5.25" disk reads at 250 kbit/s at 300 rpm and 300 kbit/s at 360 rpm.
    const bool dd525 =
        form_factor(entry.native_drive) == FormFactor::Inch525 && entry.rate != DataRate::k500;
    return dd525 && (recorded == DataRate::k250 || recorded == DataRate::k300);
}

// The medium in its native drive when no table entry has its C × H × SPT: the family its
// rate and cylinder count belong to.
Geometry family_medium(Geometry g, DriveType drive) {
    const bool forty_track = g.cylinders <= 42;
    switch (g.rate) {
        case DataRate::k1000:
            g.rpm = 300, g.native_drive = DriveType::k288, g.perpendicular = true;
            break;
        case DataRate::k500:
            if (drive == DriveType::k120)
                g.rpm = 360, g.native_drive = DriveType::k120;
            else
                g.rpm = 300, g.native_drive = DriveType::k144;
            break;
        case DataRate::k300:
        case DataRate::k250:
            if (forty_track)
                g.rate = DataRate::k250, g.rpm = 300, g.native_drive = DriveType::k360;
            else if (g.rate == DataRate::k300)
                g.rpm = 360, g.native_drive = DriveType::k120;
            else
                g.rpm = 300, g.native_drive = DriveType::k720;
            break;
    }
    return g;
}

}  // namespace

std::vector<std::string> sector_image_losses(const TrackDisk &disk) {
    Losses losses;
    const Track *first = disk.find(0, 0);
    if (!first) {
        losses.add(Losses::Missing, "cylinder 0 head 0 is not recorded (unformatted)");
        return losses.take();
    }
    const size_t spt = first->sector_count();
    for (unsigned c = 0; c < disk.cylinders(); ++c) {
        for (unsigned h = 0; h < disk.heads(); ++h) {
            const std::string name = track_name(c, h);
            const Track *t = disk.find(c, h);
            if (!t) {
                losses.add(Losses::Missing, name + " is not recorded (unformatted)");
                continue;
            }
            if (t->rate() != first->rate())
                losses.add(Losses::Rate, name + " is at " +
                                             std::to_string(data_rate_kbps(t->rate())) +
                                             " kbit/s, cylinder 0 head 0 at " +
                                             std::to_string(data_rate_kbps(first->rate())));
            if (t->encoding() == Encoding::Fm)
                losses.add(Losses::Fm, name + " is FM (single density)");
            if (t->sector_count() != spt)
                losses.add(Losses::Count, name + " has " + std::to_string(t->sector_count()) +
                                              " sectors, cylinder 0 head 0 has " +
                                              std::to_string(spt));
            bool in_order = true;
            for (size_t i = 0; i < t->sector_count(); ++i) {
                const SectorInfo &s = t->info(i);
                const std::string sector = name + " sector R=" + std::to_string(s.id.r);
                if (s.size_code != kSizeCode512)
                    losses.add(Losses::Size, sector + " holds " +
                                                 std::to_string(sector_size(s.size_code)) +
                                                 " bytes, not 512");
                if (s.id.c != c || s.id.h != h || s.id.n != kSizeCode512 || s.id.r < 1 ||
                    s.id.r > spt)
                    losses.add(Losses::Ids, sector + " has the ID C=" + std::to_string(s.id.c) +
                                                " H=" + std::to_string(s.id.h) +
                                                " N=" + std::to_string(s.id.n) +
                                                ", which a raw image cannot name");
                in_order = in_order && s.id.r == i + 1;
                if (s.mark == DataMark::Deleted)
                    losses.add(Losses::Deleted, sector + " has a deleted data mark");
                if (s.mark == DataMark::None)
                    losses.add(Losses::NoData, sector + " has no data field");
                else if (!s.data_crc_ok)
                    losses.add(Losses::DataCrc, sector + " has a data CRC error");
                if (!s.id_crc_ok) losses.add(Losses::IdCrc, sector + " has an ID CRC error");
            }
            if (!in_order)
                losses.add(Losses::Order,
                           name + " holds its sectors out of order (interleaved or repeated)");
        }
    }
    return losses.take();
}

Expected<FormatChoice> choose_track_format(const TrackDisk &disk, DriveType drive) {
    auto fail = [](std::string text) { return Error(ErrorKind::UnknownSize, std::move(text)); };
    if (disk.track_count() == 0) return fail("the disk records no track at all");
    if (drive == DriveType::None)
        return fail(
            "the drive has type 'none' and takes no medium; give it a drive type such "
            "as drive-type=auto");
    Geometry recorded{uint8_t(disk.cylinders()), uint8_t(disk.heads()),
                      uint8_t(most_common_sector_count(disk)), most_common_rate(disk)};

    // A table format of this shape and rate family, in QEMU's order: one the drive reads first.
    const FloppyFormat *listed = nullptr;
    for (const FloppyFormat &f : floppy_formats()) {
        const Geometry &g = f.geometry;
        if (g.cylinders != recorded.cylinders || g.heads != recorded.heads ||
            g.sectors != recorded.sectors || !same_rate_family(g, recorded.rate))
            continue;
        const DriveType in = drive == DriveType::Auto ? f.drive : drive;
        if (drive_accepts(in, g)) {
            listed = &f;
            break;
        }
        if (!listed) listed = &f;
    }
    const Geometry medium = listed ? listed->geometry : family_medium(recorded, drive);
    // An auto drive becomes the type the table lists the format under, as for raw images.
    const DriveType own = listed ? listed->drive : medium.native_drive;
    const DriveType resolved = drive == DriveType::Auto ? own : drive;
    std::optional<Geometry> seen = geometry_in_drive(medium, resolved);
    if (!seen)
        return fail("its tracks (" + std::to_string(recorded.cylinders) + " cylinders, " +
                    std::to_string(recorded.heads) + " heads, " +
                    std::to_string(data_rate_kbps(recorded.rate)) + " kbit/s) are media a " +
                    drive_type_description(drive) +
                    " cannot read; use a drive type that takes them, or drive-type=auto");
    return FormatChoice{*seen, resolved, false, false};
}

}  // namespace fdplug::floppy
