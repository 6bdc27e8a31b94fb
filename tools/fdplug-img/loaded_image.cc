#include "tools/fdplug-img/loaded_image.h"

#include <sys/stat.h>

#include "hw/block/media/imd_format.h"
#include "hw/block/media/imd_image.h"
#include "hw/block/media/open_medium.h"
#include "hw/block/media/raw_image.h"
#include "hw/block/media/td0_image.h"
#include "hw/block/media/track_convert.h"

namespace fdplug::img {

using namespace floppy;

Expected<LoadedImage> load_image(const std::string &path, const std::string &format) {
    MediumRequest request;
    request.file = path;
    request.format = format;
    request.read_only = true;
    Expected<OpenedMedium> medium = open_medium(request);
    if (!medium) return medium.error();
    OpenedMedium &opened = *medium;
    LoadedImage out;
    out.path = opened.file;
    struct stat st;
    out.file_bytes = ::stat(out.path.c_str(), &st) == 0 ? uint64_t(st.st_size) : 0;
    out.format = opened.format;
    if (auto *imd = dynamic_cast<ImdImage *>(opened.image.get())) {
        out.header = imd->header();
        out.comment = imd->comment();
    } else if (auto *td0 = dynamic_cast<Td0Image *>(opened.image.get())) {
        if (td0->comment()) out.comment = td0_comment_text(*td0->comment()) + "\n";
        out.warnings = td0->warnings();
    }
    if (auto *tracks = dynamic_cast<TrackImage *>(opened.image.get())) {
        out.disk = tracks->disk();
        out.choice = tracks->format();
        return out;
    }
    auto *raw = dynamic_cast<RawImage *>(opened.image.get());
    if (!raw) return Error(ErrorKind::WrongFileType, "'" + path + "' is not an image file");
    out.choice = raw->format();
    Expected<TrackDisk> disk = read_tracks(*raw);
    if (!disk) return disk.error().prefixed("'" + path + "': ");
    out.disk = std::move(*disk);
    return out;
}

std::string format_name(const Geometry &geometry) {
    const FloppyFormat *f = format_of(geometry);
    return f ? f->name : "";
}

}  // namespace fdplug::img
