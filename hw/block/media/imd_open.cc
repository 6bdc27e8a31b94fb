#include "hw/block/media/imd_open.h"

#include "hw/block/media/imd_image.h"

namespace fdplug::floppy {

Expected<OpenedMedium> open_imd_medium(const MediumRequest &request) {
    ImdImage::Options options;
    options.path = absolute_path(request.file);
    options.read_only = request.read_only;
    options.snapshot = request.snapshot;
    options.drive = request.drive;
    auto opened = ImdImage::open(options, request.faults);
    if (!opened) return opened.error();
    std::unique_ptr<ImdImage> &image = *opened;
    OpenedMedium out;
    out.format = "imd";
    out.wants = image->format().drive;
    out.file = options.path;
    out.read_only = image->read_only();
    out.virtual_size = image->geometry().size_bytes();
    out.image = std::move(image);
    return out;
}

}  // namespace fdplug::floppy
