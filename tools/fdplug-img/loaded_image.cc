#include "tools/fdplug-img/loaded_image.h"

#include <sys/stat.h>

#include "hw/block/media/imd_image.h"
#include "hw/block/media/open_medium.h"
#include "hw/block/media/raw_image.h"
#include "hw/block/media/track_convert.h"

namespace fdplug::img {

using namespace floppy;

std::optional<LoadedImage> load_image(const std::string &path, const std::string &format,
                                      std::string *error) {
    MediumRequest request;
    request.file = path;
    request.format = format;
    request.read_only = true;
    OpenedMedium opened = open_medium(request);
    if (!opened.image) {
        *error = opened.error;
        return std::nullopt;
    }
    LoadedImage out;
    out.path = opened.file;
    struct stat st;
    out.file_bytes = ::stat(out.path.c_str(), &st) == 0 ? uint64_t(st.st_size) : 0;
    if (auto *imd = dynamic_cast<ImdImage *>(opened.image.get())) {
        out.format = "imd";
        out.header = imd->header();
        out.disk = imd->disk();
        out.choice = imd->format();
        return out;
    }
    auto *raw = dynamic_cast<RawImage *>(opened.image.get());
    if (!raw) {
        *error = "'" + path + "' is not an image file";
        return std::nullopt;
    }
    out.format = "raw";
    out.choice = raw->format();
    if (!read_tracks(*raw, &out.disk, error)) {
        *error = "'" + path + "': " + *error;
        return std::nullopt;
    }
    return out;
}

std::string format_name(const Geometry &geometry) {
    const FloppyFormat *f = format_of(geometry);
    return f ? f->name : "";
}

}  // namespace fdplug::img
