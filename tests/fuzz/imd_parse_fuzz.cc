// libFuzzer target: the IMD reader and writer (hw/block/media/imd_format.h) and what a medium
// does with the tracks it read. The input is a whole (mostly hostile) IMD file.
//
// Checked for every input, besides "no sanitizer report":
//   - a refused file comes with a message "at byte N: …" whose N lies within the file;
//   - an accepted file can be written back (every track the reader makes, an IMD file holds),
//     the written file reads back to the same header and tracks, and writing that again gives
//     the same bytes (the writer is a fixed point after one pass);
//   - the geometry rules and the raw-image losses run on the tracks, and the tracks as a
//     medium (MemoryTracks) answer track_info / read_data for every sector they list.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "hw/block/media/imd_format.h"
#include "hw/block/media/memory_tracks.h"
#include "hw/block/media/track_geometry.h"

namespace fdplug::floppy::fuzz {
namespace {

[[noreturn]] void fail(const char *what, const std::string &detail = "") {
    std::fprintf(stderr, "imd_parse_fuzz: %s%s%s\n", what, detail.empty() ? "" : ": ",
                 detail.c_str());
    std::abort();
}

void check_refusal(const std::string &error, size_t size) {
    const std::string prefix = "at byte ";
    if (error.rfind(prefix, 0) != 0) fail("a refusal without its offset", error);
    const size_t at = std::strtoull(error.c_str() + prefix.size(), nullptr, 10);
    if (at > size) fail("a refusal names an offset past the file", error);
}

void check_round_trip(const ImdFile &file) {
    auto once = write_imd(file.header, file.disk);
    if (!once) fail("a file that was read cannot be written", once.error().message());
    auto again = parse_imd(*once);
    if (!again) fail("a written file does not read back", again.error().message());
    if (again->header != file.header) fail("the header changed in a round trip");
    if (!(again->disk == file.disk)) fail("the tracks changed in a round trip");
    auto twice = write_imd(again->header, again->disk);
    if (!twice || *twice != *once) fail("writing the same tracks twice gave different files");
}

void check_as_medium(const ImdFile &file) {
    for (DriveType drive : {DriveType::Auto, DriveType::k144, DriveType::k120, DriveType::k360}) {
        auto choice = choose_track_format(file.disk, drive);
        if (!choice && choice.error().message().empty())
            fail("a refused geometry without a reason");
        if (choice && (choice->geometry.heads < 1 || choice->geometry.sectors < 1))
            fail("an empty geometry was chosen");
    }
    (void)sector_image_losses(file.disk);
    MemoryTracks medium(file.disk, true, imd_can_hold);
    TrackInfo info;
    std::vector<uint8_t> buf;
    for (unsigned c = 0; c < medium.cylinders(); ++c) {
        for (unsigned h = 0; h < medium.heads(); ++h) {
            if (medium.track_info(c, h, info) != MediaStatus::Ok) fail("track_info failed");
            for (size_t i = 0; i < info.sectors.size(); ++i) {
                buf.resize(sector_size(info.sectors[i].size_code));
                if (medium.read_data(c, h, i, buf) != MediaStatus::Ok)
                    fail("a listed sector cannot be read");
            }
        }
    }
}

}  // namespace
}  // namespace fdplug::floppy::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    using namespace fdplug::floppy;
    auto file = parse_imd(std::span<const uint8_t>(data, size));
    if (!file) {
        fuzz::check_refusal(file.error().message(), size);
        return 0;
    }
    fuzz::check_round_trip(*file);
    fuzz::check_as_medium(*file);
    return 0;
}
