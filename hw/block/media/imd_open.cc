#include "hw/block/media/imd_open.h"

#include "hw/block/media/imd_image.h"

namespace fdplug::floppy {

OpenedMedium open_imd_medium(const MediumRequest &request) {
    OpenedMedium out;
    ImdImage::Options options;
    options.path = absolute_path(request.file);
    options.read_only = request.read_only;
    options.snapshot = request.snapshot;
    options.drive = request.drive;
    ImdOpenResult opened = ImdImage::open(options, request.faults);
    if (!opened.image) {
        out.error = opened.message;
        out.image_error = opened.error;
        return out;
    }
    out.wants = opened.image->format().drive;
    out.file = options.path;
    out.read_only = opened.image->read_only();
    out.virtual_size = opened.image->geometry().size_bytes();
    out.image = std::move(opened.image);
    return out;
}

}  // namespace fdplug::floppy
