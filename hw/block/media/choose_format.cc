// choose_format(): QEMU 7.2's size rules over the format table, with fdplug's two refinements —
// a valid BPB decides the geometry, and a size missing from the table gets the smallest format
// the drive reads that holds it (docs/hardware/media.md §2).
#include <string>

#include "hw/block/media/boot_sector.h"
#include "hw/block/media/floppy_formats.h"

namespace fdplug::floppy {

namespace {

constexpr uint64_t kSector = 512;
// 84 cylinders (0…83) is the furthest any drive's head reaches; a BPB claiming more is not a
// floppy BPB at all, so the size decides instead.
constexpr uint32_t kMaxFloppyCylinders = 84;

struct Pick {
    const FloppyFormat *format;
    DriveType drive;  // the drive type after the pick (an auto drive resolved)
    Geometry medium;  // before geometry_in_drive()
};

// QEMU's tie-breaking order: an auto drive takes the first entry of any type; another drive
// the first entry listed under its own type, then the first of its form factor. `make` turns an
// entry into the candidate medium (or nullopt to skip it); candidates the drive cannot read are
// skipped too.
template <class Make>
std::optional<Pick> pick(DriveType drive, Make make) {
    auto same_type = [&](const FloppyFormat &f) {
        return drive == DriveType::Auto || f.drive == drive;
    };
    auto same_form = [&](const FloppyFormat &f) {
        return form_factor(f.drive) == form_factor(drive);
    };
    for (int tier = 0; tier < (drive == DriveType::Auto ? 1 : 2); ++tier) {
        for (const FloppyFormat &f : floppy_formats()) {
            if (!(tier == 0 ? same_type(f) : same_form(f))) continue;
            std::optional<Geometry> g = make(f);
            DriveType resolved = drive == DriveType::Auto ? f.drive : drive;
            if (g && drive_accepts(resolved, *g)) return Pick{&f, resolved, *g};
        }
    }
    return std::nullopt;
}

// The BPB's C×H×S, with rate, rpm and native drive from the table. A C×H×S that some entry
// has is that medium (so a 1.2M or 360K BPB stays 5.25" media, which a 3.5" drive refuses);
// otherwise the closest entry lends its family: same SPT (same heads first), else the next
// denser SPT.
std::optional<Pick> pick_for_bpb(DriveType drive, const Geometry &want) {
    auto is_want = [&](const Geometry &t) {
        return t.cylinders == want.cylinders && t.heads == want.heads && t.sectors == want.sectors;
    };
    bool listed = false;
    for (const FloppyFormat &f : floppy_formats()) listed = listed || is_want(f.geometry);
    if (listed)
        return pick(drive, [&](const FloppyFormat &f) -> std::optional<Geometry> {
            if (is_want(f.geometry)) return f.geometry;
            return std::nullopt;
        });
    for (unsigned spt = want.sectors; spt <= 48; ++spt) {
        for (bool same_heads : {true, false}) {
            auto p = pick(drive, [&](const FloppyFormat &f) -> std::optional<Geometry> {
                if (f.geometry.sectors != spt || (same_heads && f.geometry.heads != want.heads))
                    return std::nullopt;
                Geometry g = f.geometry;
                g.cylinders = want.cylinders;
                g.heads = want.heads;
                g.sectors = want.sectors;
                return g;
            });
            if (p) return p;
        }
    }
    return std::nullopt;
}

std::string chs(const Geometry &g) {
    return std::to_string(g.cylinders) + "x" + std::to_string(g.heads) + "x" +
           std::to_string(g.sectors);
}

std::string bytes_text(uint64_t bytes) {
    return std::to_string(bytes) + " bytes (" + std::to_string(bytes / kSector) + " sectors)";
}

Expected<FormatChoice> finish(const Pick &p, uint64_t image_bytes, bool from_bpb) {
    std::optional<Geometry> g = geometry_in_drive(p.medium, p.drive);
    // pick() checked drive_accepts, so this cannot happen.
    if (!g) return Error(ErrorKind::UnknownSize, "the chosen format does not fit the drive");
    return FormatChoice{*g, p.drive, from_bpb, g->size_bytes() > image_bytes};
}

}  // namespace

Expected<FormatChoice> choose_format(uint64_t image_bytes, DriveType drive,
                                     std::span<const uint8_t> boot_sector) {
    auto fail = [](std::string message) {
        return Error(ErrorKind::UnknownSize, std::move(message));
    };
    const std::string in_drive = std::string("a ") + drive_type_description(drive);
    if (drive == DriveType::None)
        return fail(
            "the drive has type 'none' and takes no medium; give it a drive type such "
            "as drive-type=auto");
    if (image_bytes == 0)
        return fail(
            "the image is empty (0 bytes); a floppy image holds 512-byte sectors, e.g. "
            "1474560 bytes for a 1.44M disk");
    if (image_bytes % kSector != 0)
        return fail("the image is " + std::to_string(image_bytes) +
                    " bytes, not a whole number of 512-byte sectors; a raw floppy image has no "
                    "header or trailer");
    const uint64_t sectors = image_bytes / kSector;

    // 1. A valid BPB names the geometry; the size only has to hold it.
    if (auto bpb = read_bpb(boot_sector, sectors)) {
        const uint32_t per_cylinder = uint32_t(bpb->sectors_per_track) * bpb->heads;
        const uint32_t cylinders = (bpb->total_sectors + per_cylinder - 1) / per_cylinder;
        if (cylinders <= kMaxFloppyCylinders) {
            Geometry want{uint8_t(cylinders), bpb->heads, bpb->sectors_per_track};
            if (auto p = pick_for_bpb(drive, want)) return finish(*p, image_bytes, true);
            return fail("the boot sector describes " + chs(want) + " media (" +
                        std::to_string(bpb->total_sectors) + " sectors), which " + in_drive +
                        " cannot read; use a drive type that takes it, or drive-type=auto");
        }
    }

    // 2. The size of a table entry: QEMU's order picks among the entries of that size.
    const FloppyFormat *same_size = nullptr;
    for (const FloppyFormat &f : floppy_formats()) {
        if (f.geometry.total_sectors() == sectors) {
            same_size = &f;
            break;
        }
    }
    if (same_size) {
        auto p = pick(drive, [&](const FloppyFormat &f) -> std::optional<Geometry> {
            if (f.geometry.total_sectors() != sectors) return std::nullopt;
            return f.geometry;
        });
        if (p) return finish(*p, image_bytes, false);
        return fail("the image is " + bytes_text(image_bytes) + ", the size of " + same_size->name +
                    " media, which " + in_drive + " cannot read; use drive-type=" +
                    drive_type_name(same_size->drive) + " or auto");
    }

    // 3. No entry has this size: the smallest format the drive reads that holds the image (an
    //    auto drive: of any type). Ties go to the earlier entry. The tail reads as zeros.
    const FloppyFormat *best = nullptr, *largest = nullptr;
    for (const FloppyFormat &f : floppy_formats()) {
        if (!drive_accepts(drive == DriveType::Auto ? f.drive : drive, f.geometry)) continue;
        const uint64_t n = f.geometry.total_sectors();
        if (!largest || n > largest->geometry.total_sectors()) largest = &f;
        if (n >= sectors && (!best || n < best->geometry.total_sectors())) best = &f;
    }
    if (best) {
        DriveType resolved = drive == DriveType::Auto ? best->drive : drive;
        return finish(Pick{best, resolved, best->geometry}, image_bytes, false);
    }
    return fail("the image is " + bytes_text(image_bytes) + ", larger than any format " + in_drive +
                " reads" +
                (largest ? std::string(" (the largest is ") + largest->name + ", " +
                               std::to_string(largest->geometry.size_bytes()) + " bytes)"
                         : std::string()) +
                "; it is not a floppy image");
}

}  // namespace fdplug::floppy
